import net from 'node:net';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemcachedClient } from '../src/client';

const skip = await serverSkipReason('memcached');

/**
 * The server's open connections, less the observer's own, and how many it has accepted ever
 * (the observer's included). memcached closes a connection on its worker thread, so a client
 * closed just before may still count as open: only `opened` is exact from one reading to the next.
 */
async function connectionsOf(server: TestServer): Promise<{ open: number; opened: number }> {
  const observer = new MemcachedClient(server.url);
  const stats = (await observer.stats()).get(server.url)!;
  await observer.close();
  return { open: Number(stats.get('curr_connections')) - 1, opened: Number(stats.get('total_connections')) };
}

describe.skipIf(skip)(`several servers and pools${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let servers: TestServer[];
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  });
  afterAll(() => Promise.all(servers.map((server) => server.stop())));
  afterEach(() => vi.restoreAllMocks());

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: getMany, setMany and deleteMany send one request per server, in parallel`, async () => {
      const client = new MemcachedClient(
        servers.map((server) => server.url),
        { protocol },
      );
      const keys = Array.from({ length: 100 }, (_, index) => `spread-${index}`);
      await client.version(); // connected, so the writes below are the operations' own
      const writes = vi.spyOn(net.Socket.prototype, 'write');
      const stored = client.setMany(keys.map((key) => [key, { value: key }]));
      expect(writes).toHaveBeenCalledTimes(3);
      expect(await stored).toEqual([]);
      writes.mockClear();
      const found = client.getMany(keys);
      expect(writes).toHaveBeenCalledTimes(3);
      expect((await found).size).toBe(100);
      writes.mockClear();
      const deleted = client.deleteMany(keys);
      expect(writes).toHaveBeenCalledTimes(3);
      await deleted;
      expect((await client.getMany(keys)).size).toBe(0);
      await client.close();
    });
  }

  it('a pool never opens more than poolSize connections per server, however many requests wait', async () => {
    const [server] = servers;
    const before = await connectionsOf(server!);
    const client = new MemcachedClient(server!.url, { poolSize: 3 });
    await Promise.all(Array.from({ length: 2000 }, (_, index) => client.set(`pool-${index % 50}`, 'v')));
    await Promise.all(Array.from({ length: 2000 }, (_, index) => client.get(`pool-${index % 50}`)));
    const during = await connectionsOf(server!);
    // The pool's three, and the observer asking now.
    expect(during.opened - before.opened).toBe(3 + 1);
    expect(during.open).toBeGreaterThanOrEqual(3);
    await client.close();
    await vi.waitFor(async () => expect((await connectionsOf(server!)).open).toBeLessThanOrEqual(before.open), { timeout: 5000, interval: 100 });
  });
});
