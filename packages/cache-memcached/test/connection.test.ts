import net from 'node:net';
import { CacheConnectionError, CacheProtocolError, CacheTimeoutError } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type ControllableServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemcachedClient } from '../src/client';

const skip = await serverSkipReason('memcached', { control: true });

describe.skipIf(skip)(`connections to a real server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: ControllableServer;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(() => server.stop());
  afterEach(() => vi.restoreAllMocks());

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: a lone request is written at once; requests issued while others wait share one write`, async () => {
      const client = new MemcachedClient(server.url, { protocol });
      await client.set('k', 'v');
      const writes = vi.spyOn(net.Socket.prototype, 'write');
      const lone = client.get('k');
      expect(writes).toHaveBeenCalledTimes(1);
      await lone;

      writes.mockClear();
      const burst = Array.from({ length: 50 }, () => client.get('k'));
      expect(writes).toHaveBeenCalledTimes(1);
      const results = await Promise.all(burst);
      expect(writes).toHaveBeenCalledTimes(2);
      expect(results.every((item) => item?.value.toString() === 'v')).toBe(true);
      await client.close();
    });
  }

  it('a blocked event loop is not taken for a silent server', async () => {
    const client = new MemcachedClient(server.url, { operationTimeout: 0.5 });
    const blockFor = (ms: number): void => {
      const until = Date.now() + ms;
      while (Date.now() < until);
    };
    await client.set('k', 'v');
    // Replies wait unread while the loop is blocked with a request outstanding…
    const outstanding = client.get('k');
    blockFor(1500);
    expect((await outstanding)?.value.toString()).toBe('v');
    // …and a request sent right after a long block gets its full time.
    blockFor(1500);
    expect((await client.get('k'))?.value.toString()).toBe('v');
    await client.close();
  });

  it('a connection the server closes while idle is opened again by the next request, which succeeds', async () => {
    const idleClosing = await startMemcached({ args: ['-o', 'idle_timeout=1'] });
    try {
      const client = new MemcachedClient(idleClosing.url, { failureLimit: 1 });
      await client.set('k', 'v');
      // memcached checks idle connections on its own clock; ask it (on short-lived connections) until it has kicked ours.
      const idleKicks = async (): Promise<number> => {
        const observer = new MemcachedClient(idleClosing.url);
        const kicks = Number((await observer.stats()).get(idleClosing.url)?.get('idle_kicks'));
        await observer.close();
        return kicks;
      };
      await vi.waitFor(async () => expect(await idleKicks()).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 500 });
      expect((await client.get('k'))?.value.toString()).toBe('v');
      await client.close();
    } finally {
      await idleClosing.stop();
    }
  });

  it('a stalled server fails outstanding requests with CacheTimeoutError, and the client recovers', async () => {
    const client = new MemcachedClient(server.url, { operationTimeout: 0.5 });
    await client.set('k', 'v');
    server.pause();
    // SIGSTOP takes effect when the kernel next schedules the server: let it, before asking.
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      const started = Date.now();
      await expect(client.get('k')).rejects.toBeInstanceOf(CacheTimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      server.resume();
    }
    await vi.waitFor(async () => expect((await client.get('k'))?.value.toString()).toBe('v'), { timeout: 10_000, interval: 100 });
    await client.close();
  });

  it('a dead server fails requests fast with CacheConnectionError; after a restart they work again', async () => {
    const client = new MemcachedClient(server.url, { failureLimit: 100 });
    await client.set('k', 'v');
    await server.kill();
    const started = Date.now();
    for (let attempt = 0; attempt < 5; attempt++) await expect(client.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    expect(Date.now() - started).toBeLessThan(5000);
    await server.restart();
    await vi.waitFor(async () => expect(await client.set('k', 'again')).toBe(true), { timeout: 10_000, interval: 100 });
    await client.close();
  });
});

/** A loopback peer speaking whatever `answer` writes, to inject what a real memcached never sends. */
async function fakePeer(answer: (socket: net.Socket, connection: number) => void): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const peer = net.createServer((socket) => {
    sockets.add(socket);
    answer(socket, connections++);
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  return {
    port: (peer.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => peer.close(() => resolve()));
    },
  };
}

describe('faults a real server cannot produce', () => {
  it('a malformed reply drops the connection (CacheConnectionError caused by CacheProtocolError); the next connection is clean', async () => {
    const peer = await fakePeer((socket, connection) =>
      socket.on('data', () => socket.write(connection === 0 ? 'VALUE k 0 nonsense\r\n' : 'END\r\n')),
    );
    const client = new MemcachedClient(`127.0.0.1:${peer.port}`, { failureLimit: 100 });
    const error = await client.get('k').catch((error: unknown) => error);
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).cause).toBeInstanceOf(CacheProtocolError);
    await vi.waitFor(async () => expect(await client.get('k')).toBe(undefined), { timeout: 5000, interval: 50 });
    await client.close();
    await peer.close();
  });

  it('a reply nobody asked for drops the connection without crashing; the next request reconnects', async () => {
    const peer = await fakePeer((socket, connection) => socket.on('data', () => socket.write(connection === 0 ? 'END\r\nSTORED\r\n' : 'END\r\n')));
    const client = new MemcachedClient(`127.0.0.1:${peer.port}`, { failureLimit: 100 });
    expect(await client.get('k')).toBe(undefined);
    await vi.waitFor(async () => expect(await client.get('k')).toBe(undefined), { timeout: 5000, interval: 50 });
    expect(peer.connections()).toBe(2);
    await client.close();
    await peer.close();
  });

  it('a TLS handshake that never completes fails with CacheTimeoutError after connectTimeout', async () => {
    const peer = await fakePeer(() => {});
    const client = new MemcachedClient(`127.0.0.1:${peer.port}`, { tls: true, connectTimeout: 0.3 });
    await expect(client.get('k')).rejects.toBeInstanceOf(CacheTimeoutError);
    await client.close();
    await peer.close();
  });
});

it('TLS options Node refuses fail the request with CacheConnectionError instead of throwing', async () => {
  const client = new MemcachedClient('127.0.0.1:1', { tls: { ca: 'not a certificate', cert: 'nor this', key: 'nor this' } });
  await expect(client.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
  await client.close();
});
