import { generateTlsFiles, startMemcached, type TestServer, type TlsFiles } from '@cachette/test-servers';
import { afterAll, beforeAll } from 'vitest';

export interface TlsMemcached {
  server: TestServer;
  /** The throwaway CA and the server certificate it signed (for localhost and 127.0.0.1). */
  tls: TlsFiles;
}

/**
 * A memcached serving TLS only (`-Z`), started before the calling `describe` block's tests and
 * stopped after them. Read its fields inside the tests: they are set by then.
 */
export function tlsMemcachedForSuite(): TlsMemcached {
  const suite = {} as TlsMemcached;
  beforeAll(async () => {
    suite.tls = await generateTlsFiles();
    suite.server = await startMemcached({ tls: suite.tls });
  });
  afterAll(() => suite.server?.stop());
  return suite;
}
