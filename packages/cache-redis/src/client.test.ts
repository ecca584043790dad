import { CacheConnectionError, CacheProtocolError, CacheTimeoutError } from '@cachette/cache-core';
import { serverSkipReason, startRedis, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient, RedisReplyError, defineScript } from './client';

const skip = await serverSkipReason('redis');

describe.skipIf(skip)(`RedisClient against a real server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisTestServer;
  let client: RedisClient;

  beforeAll(async () => {
    server = await startRedis();
    client = new RedisClient({ url: server.url });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await client.flushdb();
  });

  it('sets, gets and deletes text and binary values byte for byte', async () => {
    const binary = Buffer.from([0, 1, 13, 10, 255, 36, 42]);
    expect(await client.set('text', 'café')).toBe(true);
    expect(await client.set('binary', binary)).toBe(true);
    expect((await client.get('text'))?.toString('utf8')).toBe('café');
    expect(await client.get('binary')).toEqual(binary);
    expect(await client.get('missing')).toBeNull();
    expect(await client.del('text', 'binary', 'missing')).toBe(2);
  });

  it('stores a 5 MB value and reads it back intact', async () => {
    const large = Buffer.alloc(5 * 1024 * 1024, 'z');
    large[12345] = 0;
    await client.set('large', large);
    expect((await client.get('large'))!.equals(large)).toBe(true);
  });

  it('writes large Buffer values (sent without a copy) among other commands, also when queued before the connection opens', async () => {
    const fresh = new RedisClient({ url: server.url });
    const first = Buffer.alloc(200_000, 'a');
    first[100] = 0;
    const second = Buffer.alloc(70_000, 'b');
    try {
      // One tick: the writes are queued until the socket opens, then go out in one batch.
      await Promise.all([fresh.set('small', 'x'), fresh.set('first', first), fresh.mset([['second', second], ['tiny', 'y']]), fresh.get('small')]);
      expect(await fresh.mget('small', 'first', 'second', 'tiny')).toEqual([Buffer.from('x'), first, second, Buffer.from('y')]);
      expect(await fresh.set('first', second)).toBe(true);
      expect(await client.get('first')).toEqual(second);
    } finally {
      await fresh.close();
    }
  });

  it('honours SET options and expiry commands', async () => {
    expect(await client.set('k', '1', { nx: true, px: 60_000 })).toBe(true);
    expect(await client.set('k', '2', { nx: true })).toBe(false);
    expect(await client.pttl('k')).toBeGreaterThan(50_000);
    expect(await client.persist('k')).toBe(true);
    expect(await client.ttl('k')).toBe(-1);
    expect(await client.pexpire('k', 100_000)).toBe(true);
    expect(await client.incrby('k', 41)).toBe(42);
    expect(await client.mget('k', 'nope')).toEqual([Buffer.from('42'), null]);
  });

  it('rejects with a RedisReplyError carrying the code for an error reply, and keeps working', async () => {
    await client.set('text', 'abc');
    const error = await client.incrby('text', 1).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisReplyError);
    expect(error).toBeInstanceOf(CacheProtocolError);
    expect((error as RedisReplyError).code).toBe('ERR');
    expect(await client.ping()).toBe('PONG');
  });

  it('rejects arguments without a wire form before writing anything', async () => {
    await expect(client.set('k', undefined as never)).rejects.toThrow(TypeError);
    expect(await client.ping()).toBe('PONG');
  });

  it('runs pipelines with error replies as values, in order', async () => {
    await client.set('text', 'abc');
    const results = await client.pipeline().set('a', '1').incrby('a', 2).incrby('text', 1).get('a').call('ECHO', 'x').exec();
    expect(results[0]).toBe(true);
    expect(results[1]).toBe(3);
    expect(results[2]).toBeInstanceOf(RedisReplyError);
    expect(results[3]).toEqual(Buffer.from('3'));
    expect(results[4]).toEqual(Buffer.from('x'));
  });

  it('runs MULTI/EXEC transactions and rejects one the server refuses', async () => {
    expect(await client.multi().set('t', '5').incrby('t', 5).exec()).toEqual([true, 10]);
    await expect(client.multi().call('NOSUCHCOMMAND').set('u', '1').exec()).rejects.toThrow(/EXECABORT/);
    expect(await client.exists('u')).toBe(0);
  });

  it('iterates keys with SCAN as an async iterator', async () => {
    await client.mset(Array.from({ length: 250 }, (_, i) => [`scan:${i}`, String(i)] as const));
    await client.set('other', 'x');
    const keys: string[] = [];
    for await (const key of client.scanIterator({ match: 'scan:*', count: 20 })) keys.push(key);
    expect(new Set(keys).size).toBe(250);
    expect(keys.every((key) => key.startsWith('scan:'))).toBe(true);
  });

  it('runs a script by SHA and loads it when the server does not know it', async () => {
    const script = defineScript("return redis.call('SET', KEYS[1], ARGV[1])");
    await client.call('SCRIPT', 'FLUSH');
    expect(await client.runScript(script, ['s'], ['v'])).toBe('OK');
    expect(await client.runScript(script, ['s'], ['w'])).toBe('OK');
    expect((await client.get('s'))?.toString()).toBe('w');
  });

  it('writes the commands of one tick together at its end, one write each time', async () => {
    const connection = client.connection();
    await connection.connect();
    const socket = (connection as unknown as { socket: { write: (chunk: Buffer) => boolean } }).socket;
    const originalWrite = socket.write;
    const writes: number[] = [];
    socket.write = function (this: unknown, chunk: Buffer) {
      writes.push(chunk.length);
      return originalWrite.call(this, chunk);
    };
    try {
      const lone = client.get('a');
      expect(writes).toHaveLength(0);
      await new Promise((resolve) => process.nextTick(resolve));
      expect(writes).toHaveLength(1);
      await lone;
      writes.length = 0;
      const burst = Array.from({ length: 50 }, (_, i) => client.set(`burst:${i}`, String(i)));
      await Promise.all(burst);
      expect(writes).toHaveLength(1);
    } finally {
      socket.write = originalWrite;
    }
    expect(await client.exists(...Array.from({ length: 50 }, (_, i) => `burst:${i}`))).toBe(50);
  });

  it('lends a dedicated connection for blocking commands', async () => {
    const popped = client.withConnection((dedicated) => dedicated.call('BLPOP', 'queue', 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await client.call('RPUSH', 'queue', 'job')).toBe(1);
    expect(await popped).toEqual([Buffer.from('queue'), Buffer.from('job')]);
  });

  it('spreads commands over a pool of connections', async () => {
    const pooled = new RedisClient({ url: server.url, poolSize: 3, clientName: 'pooled' });
    try {
      await Promise.all(Array.from({ length: 30 }, (_, i) => pooled.set(`pool:${i}`, String(i))));
      const list = (await client.call('CLIENT', 'LIST')) as Buffer;
      expect(list.toString().match(/name=pooled /g)).toHaveLength(3);
    } finally {
      await pooled.close();
    }
  });

  it('selects the database and names the connection from the URL and options', async () => {
    const other = new RedisClient({ url: `${server.url}/3`, clientName: 'cachette-test' });
    try {
      await other.set('db3', 'yes');
      expect(await client.get('db3')).toBeNull();
      expect(await other.call('CLIENT', 'GETNAME')).toEqual(Buffer.from('cachette-test'));
      expect(((await other.call('CLIENT', 'INFO')) as Buffer).toString()).toContain(' db=3 ');
    } finally {
      await other.flushdb();
      await other.close();
    }
  });

  it('speaks RESP3 after HELLO 3: maps, doubles, booleans, nulls', async () => {
    const resp3 = new RedisClient({ url: server.url, protocol: 3, clientName: 'resp3' });
    try {
      await resp3.call('HSET', 'h', 'f', 'v');
      expect(await resp3.call('HGETALL', 'h')).toEqual(new Map([[Buffer.from('f'), Buffer.from('v')]]));
      expect(await resp3.call('ZADD', 'z', '1.5', 'm')).toBe(1);
      expect(await resp3.call('ZSCORE', 'z', 'm')).toBe(1.5);
      expect(await resp3.get('missing')).toBeNull();
      expect(((await resp3.call('CLIENT', 'INFO')) as Buffer).toString()).toContain('resp=3');
    } finally {
      await resp3.close();
    }
  });

  it('times out a command whose reply is late, and matches later replies correctly', async () => {
    const impatient = new RedisClient({ url: server.url, commandTimeout: 200 });
    try {
      await impatient.set('after', 'ok');
      // BLPOP holds its reply (null) for a second: longer than the 200 ms allowed.
      await expect(impatient.call('BLPOP', 'never-filled', '1')).rejects.toBeInstanceOf(CacheTimeoutError);
      // The late reply to BLPOP must be skipped, not handed to the next command.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await impatient.get('after'))?.toString()).toBe('ok');
    } finally {
      await impatient.close();
    }
  });

  it('fails fast with CacheConnectionError when nothing listens, without hanging', async () => {
    const nowhere = new RedisClient({ host: '127.0.0.1', port: 1, reconnect: false });
    await expect(nowhere.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await expect(nowhere.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await nowhere.close();
  });

  it('rejects commands after close', async () => {
    const closing = new RedisClient({ url: server.url });
    await closing.ping();
    await closing.close();
    await expect(closing.ping()).rejects.toBeInstanceOf(CacheConnectionError);
  });
});
