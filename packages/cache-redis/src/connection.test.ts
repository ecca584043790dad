import { createServer, type Server } from 'node:net';
import { CacheConnectionError, CacheProtocolError, CacheTimeoutError } from '@cachette/cache-core';
import { generateTlsFiles, serverSkipReason, startFaultProxy, startRedis, type FaultProxy, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient, RedisReplyError } from './client';
import { eventually, sleep } from '../test/eventually';

const PASSWORD = 'sesame';
const skipTls = await serverSkipReason('redis', { tls: true });
const skipUnix = await serverSkipReason('redis', { unixSocket: true });
const skipControl = await serverSkipReason('redis', { control: true });

describe.skipIf(skipTls)(`TLS (rediss://)${skipTls ? ` (skipped: ${skipTls})` : ''}`, () => {
  let server: RedisTestServer;
  let ca: Buffer;

  beforeAll(async () => {
    const tls = await generateTlsFiles();
    ca = tls.ca;
    server = await startRedis({ tls });
  });
  afterAll(() => server?.stop());

  it('connects with TLS, verifying the server certificate against the CA', async () => {
    const client = new RedisClient({ url: `rediss://localhost:${server.tlsPort}/1`, tls: { ca } });
    try {
      await client.set('secure', 'yes');
      expect((await client.get('secure'))?.toString()).toBe('yes');
      expect(((await client.call('CLIENT', 'INFO')) as Buffer).toString()).toContain(' db=1 ');
    } finally {
      await client.close();
    }
  });

  it('refuses a server whose certificate it cannot verify, with a connection error', async () => {
    const client = new RedisClient({ url: `rediss://localhost:${server.tlsPort}`, reconnect: false });
    await expect(client.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await client.close();
  });
});

describe.skipIf(skipUnix)(`Unix socket${skipUnix ? ` (skipped: ${skipUnix})` : ''}`, () => {
  it('connects through unix:///path?db=', async () => {
    const server = await startRedis({ unixSocket: true });
    const client = new RedisClient({ url: `unix://${server.socketPath}?db=4` });
    try {
      await client.set('local', '1');
      const info = ((await client.call('CLIENT', 'INFO')) as Buffer).toString();
      expect(info).toContain(' db=4 ');
      expect(info).toContain(`laddr=${server.socketPath}`);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe.skipIf(skipControl)(`ACL, reconnects and stalls${skipControl ? ` (skipped: ${skipControl})` : ''}`, () => {
  let server: RedisTestServer;
  const clients: RedisClient[] = [];
  const proxies: FaultProxy[] = [];
  const client = (options: ConstructorParameters<typeof RedisClient>[0]): RedisClient => {
    const created = new RedisClient(options);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await startRedis({ password: PASSWORD });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((created) => created.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  afterAll(() => server?.stop());
  beforeEach(async () => {
    // Restarts forget ACL users; every test starts with alice defined.
    const admin = client({ url: server.url, password: PASSWORD });
    await admin.call('ACL', 'SETUSER', 'alice', 'on', '>wonderland', '~*', '+@all');
  });

  it('authenticates an ACL user from the URL, over RESP2 and RESP3', async () => {
    for (const protocol of [2, 3] as const) {
      const alice = client({ url: `redis://alice:wonderland@127.0.0.1:${server.port}/2`, protocol });
      expect(await alice.call('ACL', 'WHOAMI')).toEqual(Buffer.from('alice'));
      expect(((await alice.call('CLIENT', 'INFO')) as Buffer).toString()).toContain(' db=2 ');
    }
  });

  it('rejects a wrong password with a connection error caused by the server error, without hanging', async () => {
    const intruder = client({ url: `redis://alice:wrong@127.0.0.1:${server.port}`, reconnect: false });
    const error = await intruder.get('k').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/refused the session: WRONGPASS/);
    expect((error as Error).cause).toBeInstanceOf(RedisReplyError);
    expect(((error as Error).cause as RedisReplyError).code).toBe('WRONGPASS');
  });

  it('fails fast while the server is down and recovers, re-running AUTH and SELECT, after a restart', async () => {
    // The default user: ACL users made with ACL SETUSER do not survive the restart.
    const app = client({ url: `redis://default:${PASSWORD}@127.0.0.1:${server.port}/5`, reconnect: { initialDelay: 20, maxDelay: 200 } });
    await app.set('before', '1');
    await server.kill();
    await sleep(100);
    const started = Date.now();
    await expect(app.get('before')).rejects.toBeInstanceOf(CacheConnectionError);
    expect(Date.now() - started).toBeLessThan(2000);
    await server.restart();
    await eventually(() => app.set('after', '2'));
    expect(((await app.call('CLIENT', 'INFO')) as Buffer).toString()).toContain(' db=5 ');
    expect(await app.call('ACL', 'WHOAMI')).toEqual(Buffer.from('default'));
  });

  it('queues commands while reconnecting when offlineQueue allows, and sends them once back', async () => {
    const patient = client({ url: server.url, password: PASSWORD, offlineQueue: 10, commandTimeout: 10_000, reconnect: { initialDelay: 20, maxDelay: 100 } });
    await patient.ping();
    await server.kill();
    await sleep(100);
    const queued = patient.set('queued', 'kept');
    await server.restart();
    expect(await queued).toBe(true);
    expect((await patient.get('queued'))?.toString()).toBe('kept');
  });

  it('survives a connection reset during AUTH, first connection and reconnect alike', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port });
    proxies.push(proxy);
    const app = client({ host: proxy.host, port: proxy.port, password: PASSWORD, reconnect: { initialDelay: 20, maxDelay: 100 } });

    proxy.pause();
    const first = app.get('k');
    await sleep(100); // AUTH is written and held by the paused proxy
    proxy.resetAll();
    await expect(first).rejects.toBeInstanceOf(CacheConnectionError);
    proxy.resume();
    await eventually(() => app.set('k', 'v'));

    proxy.pause();
    proxy.resetAll(); // drops the ready connection; the reconnect's AUTH is then held
    await sleep(150);
    proxy.resetAll();
    proxy.resume();
    expect((await eventually(() => app.get('k')))?.toString()).toBe('v');
  });

  it('times commands out against a stalled (SIGSTOPped) server, then works again once it resumes', async () => {
    const app = client({ url: server.url, password: PASSWORD, commandTimeout: 300 });
    await app.set('stall', 'before');
    server.pause();
    try {
      const started = Date.now();
      const results = await Promise.allSettled([app.get('stall'), app.set('stall', 'during'), app.ping()]);
      expect(results.map((result) => (result.status === 'rejected' ? result.reason : result.value))).toEqual([
        expect.any(CacheTimeoutError),
        expect.any(CacheTimeoutError),
        expect.any(CacheTimeoutError),
      ]);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      server.resume();
    }
    // The stalled commands ran late on the server; their replies are skipped, not misdelivered.
    expect(await eventually(() => app.ping())).toBe('PONG');
    expect((await app.get('stall'))?.toString()).toBe('during');
  });

  it('a blocked event loop is not taken for a late reply: a reply that came meanwhile is read first', async () => {
    const app = client({ url: server.url, password: PASSWORD, commandTimeout: 300 });
    await app.set('k', 'v');
    const outstanding = app.get('k');
    // Once the command is written, the loop is blocked past its deadline while its reply arrives.
    await new Promise((resolve) => setImmediate(resolve));
    const until = Date.now() + 1000;
    while (Date.now() < until);
    expect((await outstanding)?.toString()).toBe('v');
  });

  it('closes within the command timeout while a stalled server holds replies', async () => {
    const app = new RedisClient({ url: server.url, password: PASSWORD, commandTimeout: 300 });
    await app.ping();
    server.pause();
    try {
      const pending = app.get('k').catch((error: unknown) => error);
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await pending).toBeInstanceOf(Error);
    } finally {
      server.resume();
    }
  });

  it('bounds the connect time against a server that accepts but never answers', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port });
    proxies.push(proxy);
    proxy.pause();
    const app = client({ host: proxy.host, port: proxy.port, password: PASSWORD, connectTimeout: 300, reconnect: false });
    const started = Date.now();
    await expect(app.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    expect(Date.now() - started).toBeLessThan(3000);
    proxy.resume();
  });
});

/** A fake peer, only for what a real server never does: answer every command with `reply`. */
async function fakePeer(reply: Buffer): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.on('data', () => socket.write(reply)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('malformed replies (fake peer)', () => {
  it.each([
    ['an unknown type byte', '@nonsense\r\n'],
    ['a malformed length', '$1x\r\nab\r\n'],
  ])('drops the connection on %s and rejects the commands with a typed error', async (_, wire) => {
    const { server, port } = await fakePeer(Buffer.from(wire));
    const client = new RedisClient({ host: '127.0.0.1', port, reconnect: false });
    try {
      const outcome = await Promise.allSettled([client.get('a'), client.get('b')]);
      for (const result of outcome) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(CacheConnectionError);
        expect(reason.cause).toBeInstanceOf(CacheProtocolError);
      }
      await expect(client.get('c')).rejects.toBeInstanceOf(CacheConnectionError);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('drops the connection when a reply arrives that no command asked for', async () => {
    const { server, port } = await fakePeer(Buffer.from('+OK\r\n+OK\r\n'));
    const client = new RedisClient({ host: '127.0.0.1', port, reconnect: false });
    try {
      expect(await client.ping()).toBe('OK');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const error = await client.ping().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CacheConnectionError);
      expect((error as Error).message).toMatch(/unexpected reply/);
    } finally {
      await client.close();
      server.close();
    }
  });
});
