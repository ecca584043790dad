import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { serverSkipReason, startFaultProxy, startRedis, type FaultProxy, type RedisTestServer } from './index.js';
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

  it('stops listening after close', async () => {
    await proxy.close();
    expect(await connectOutcome(proxy.port)).toBe('ECONNREFUSED');
  });
});
