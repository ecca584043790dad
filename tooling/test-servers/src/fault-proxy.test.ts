import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { GARBAGE_REPLY, serverSkipReason, startFaultProxy, startRedis, type FaultProxy, type RedisTestServer } from './index.js';
import { connectOutcome, endsWithCrlf, openRaw, replyHeldUntil, withConnection } from './test-helpers.js';

const skip = await serverSkipReason('redis');

describe.skipIf(skip)(`startFaultProxy in front of a real redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: RedisTestServer;
  let proxy: FaultProxy;
  afterAll(async () => {
    await proxy?.close();
    await redis?.stop();
  });

  it('forwards both ways, stalls while paused and delivers everything after resume', async () => {
    redis = await startRedis();
    proxy = await startFaultProxy(redis);
    expect(proxy.host).toBe('127.0.0.1');
    await withConnection(proxy, async (connection) => {
      connection.write('PING\r\n');
      expect(String(await connection.read(endsWithCrlf))).toBe('+PONG\r\n');
      proxy.pause();
      expect(await replyHeldUntil(connection, 'ECHO held\r\n', () => proxy.resume())).toBe('$4\r\nheld\r\n');
    });
  });

  it('resets every proxied connection and still accepts new ones', async () => {
    const connection = await openRaw(proxy);
    connection.write('PING\r\n');
    await connection.read(endsWithCrlf);
    proxy.resetAll();
    await expect(connection.read(() => false)).rejects.toThrow(/ECONNRESET/);

    const fresh = await openRaw(proxy);
    fresh.write('PING\r\n');
    expect(String(await fresh.read(endsWithCrlf))).toBe('+PONG\r\n');
    fresh.close();
  });

  it('passes a half-close on and still delivers the reply', async () => {
    const socket = connect({ port: proxy.port, host: '127.0.0.1' });
    socket.end('PING\r\n');
    const reply = await new Promise<string>((resolve, reject) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    expect(reply).toBe('+PONG\r\n');
  });

  it('delays each chunk by the latency set, keeping their order', async () => {
    await withConnection(proxy, async (connection) => {
      proxy.setLatency(150);
      const started = Date.now();
      connection.write('ECHO a\r\n');
      connection.write('ECHO b\r\n');
      const replies = String(await connection.read((received) => String(received).endsWith('$1\r\nb\r\n')));
      expect(Date.now() - started).toBeGreaterThanOrEqual(290); // once each way
      expect(replies).toBe('$1\r\na\r\n$1\r\nb\r\n');
      proxy.setLatency(0);
    });
  });

  it('keeps delayed chunks ahead of later ones when latency is turned off', async () => {
    await withConnection(proxy, async (connection) => {
      proxy.setLatency(200);
      connection.write('ECHO a\r\n');
      await new Promise((resolve) => setTimeout(resolve, 300)); // the reply to a is now held on its way back
      proxy.setLatency(0);
      connection.write('ECHO b\r\n');
      const replies = String(await connection.read((received) => String(received).includes('$1\r\nb\r\n') || received.length >= 14));
      expect(replies).toBe('$1\r\na\r\n$1\r\nb\r\n');
    });
  });

  it('cuts the next reply half-way and hangs up', async () => {
    const connection = await openRaw(proxy);
    proxy.cutNextReply('close');
    connection.write('ECHO abcdefgh\r\n'); // the reply is 14 bytes: $8, CRLF, the value, CRLF
    const failure = await connection.read(() => false).catch((error: Error) => error);
    expect(String(failure)).toMatch(/connection closed/);
    connection.close();
    await withConnection(proxy, async (fresh) => {
      fresh.write('PING\r\n');
      expect(String(await fresh.read(endsWithCrlf))).toBe('+PONG\r\n');
    });
  });

  it('cuts the next reply half-way and then stays silent on that connection only', async () => {
    await withConnection(proxy, async (connection) => {
      proxy.cutNextReply('stall');
      connection.write('ECHO abcdefgh\r\n');
      expect(String(await connection.read((received) => received.length === 7))).toBe('$8\r\nabc');
      connection.write('PING\r\n');
      await expect(connection.read(endsWithCrlf, 300)).rejects.toThrow(/no complete reply/);
    });
    await withConnection(proxy, async (fresh) => {
      fresh.write('PING\r\n');
      expect(String(await fresh.read(endsWithCrlf))).toBe('+PONG\r\n');
    });
  });

  it('replaces the next reply with garbage, once', async () => {
    await withConnection(proxy, async (connection) => {
      proxy.garbleNextReply();
      connection.write('PING\r\n');
      expect(await connection.read(endsWithCrlf)).toEqual(GARBAGE_REPLY);
      connection.write('PING\r\n');
      expect(String(await connection.read(endsWithCrlf))).toBe('+PONG\r\n');
    });
  });

  it('clears every fault at once, disarming a reply fault not yet taken', async () => {
    await withConnection(proxy, async (connection) => {
      proxy.pause();
      proxy.setLatency(5_000);
      proxy.garbleNextReply();
      proxy.clearFaults();
      connection.write('PING\r\n');
      expect(String(await connection.read(endsWithCrlf, 1_000))).toBe('+PONG\r\n');
    });
  });

  it('stops listening after close', async () => {
    await proxy.close();
    expect(await connectOutcome(proxy.port)).toBe('ECONNREFUSED');
  });
});
