import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateTlsFiles, serverSkipReason, startMemcached, startRedis } from './index.js';
import { ask, endsWithCrlf, stoppedAfterAll } from './test-helpers.js';

const redisSkip = await serverSkipReason('redis', { tls: true });
const memcachedSkip = await serverSkipReason('memcached', { tls: true });
// Certificates need only openssl, which both TLS reasons check first.
const noTlsServer = redisSkip && memcachedSkip;
const tlsFiles = noTlsServer ? undefined : await generateTlsFiles();

const startTlsRedis = stoppedAfterAll(startRedis);
const startTlsMemcached = stoppedAfterAll(startMemcached);

describe.skipIf(noTlsServer)(`generateTlsFiles${noTlsServer ? ` (skipped: ${noTlsServer})` : ''}`, () => {
  it('makes a CA and a localhost / 127.0.0.1 server certificate it signed', () => {
    const files = tlsFiles!;
    const ca = new X509Certificate(files.ca);
    const cert = new X509Certificate(files.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkPrivateKey(createPrivateKey(files.key))).toBe(true);
  });
});

describe.skipIf(redisSkip)(`startRedis with TLS${redisSkip ? ` (skipped: ${redisSkip})` : ''}`, () => {
  it('answers over TLS on tlsPort and in plain text on port', async () => {
    const server = await startTlsRedis({ tls: tlsFiles });
    expect(server.tlsPort).toBeGreaterThan(0);
    const overTls = await ask({ port: server.tlsPort ?? 0 }, 'PING\r\n', endsWithCrlf, { tls: { ca: tlsFiles!.ca, servername: 'localhost' } });
    expect(String(overTls)).toBe('+PONG\r\n');
    expect(String(await ask(server, 'PING\r\n', endsWithCrlf))).toBe('+PONG\r\n');
  });
});

describe.skipIf(memcachedSkip)(`startMemcached with TLS${memcachedSkip ? ` (skipped: ${memcachedSkip})` : ''}`, () => {
  it('answers over TLS, with a certificate valid for 127.0.0.1', async () => {
    const server = await startTlsMemcached({ tls: tlsFiles });
    const reply = await ask(server, 'version\r\n', endsWithCrlf, { tls: { ca: tlsFiles!.ca } });
    expect(String(reply)).toMatch(/^VERSION \d/);
  });
});
