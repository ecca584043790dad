import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opensslBinary } from './binaries.js';
import { makeTempDir } from './process.js';
import { runCommand } from './system.js';
import type { TlsFiles } from './types.js';

/** EC keys are quick to make and every server we start accepts them. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = ['-days', '3650'];

const SERVER_EXTENSIONS = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, keyEncipherment',
  // clientAuth too: Redis Cluster nodes present their certificate to each other's cluster bus.
  'extendedKeyUsage = serverAuth, clientAuth',
  'subjectAltName = DNS:localhost, IP:127.0.0.1',
].join('\n');

/**
 * A throwaway CA and a server certificate it signed for localhost / 127.0.0.1, made with the
 * openssl CLI in a fresh directory (removed at process exit). Clients trust `ca`; servers use
 * `certFile` and `keyFile`. Readable by all because memcached reads them as `nobody`.
 */
export async function generateTlsFiles(): Promise<TlsFiles> {
  const openssl = opensslBinary();
  if (!openssl) throw new Error('generateTlsFiles needs the openssl CLI on PATH');
  const dir = makeTempDir('tls', undefined, 0o755);
  const path = (name: string): string => join(dir, name);
  await runCommand(openssl, [
    ...['req', '-x509', ...NEW_EC_KEY, ...DAYS, '-subj', '/CN=Cachette test CA'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ...['-keyout', path('ca.key'), '-out', path('ca.crt')],
  ]);
  await runCommand(openssl, ['req', ...NEW_EC_KEY, '-subj', '/CN=localhost', '-keyout', path('server.key'), '-out', path('server.csr')]);
  writeFileSync(path('server.ext'), `${SERVER_EXTENSIONS}\n`);
  await runCommand(openssl, [
    ...['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), ...DAYS],
    ...['-set_serial', `0x${randomBytes(8).toString('hex')}`, '-extfile', path('server.ext'), '-out', path('server.crt')],
  ]);
  const files = { caFile: path('ca.crt'), certFile: path('server.crt'), keyFile: path('server.key') };
  for (const file of Object.values(files)) chmodSync(file, 0o644);
  return {
    dir,
    ...files,
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
  };
}
