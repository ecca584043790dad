import { describe, expect, it } from 'vitest';
import { serverSkipReason, startRedis } from './index.js';
import { processState } from './process.js';
import { ask, connectOutcome, endsWithCrlf, portIsFree, processesWith, replyHeldUntil, stoppedAfterAll, withConnection } from './test-helpers.js';

const skip = await serverSkipReason('redis', { control: true, unixSocket: true });

const ping = (target: { port: number } | { path: string }) => ask(target, 'PING\r\n', endsWithCrlf).then(String);

describe.skipIf(skip)(`startRedis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const start = stoppedAfterAll(startRedis);

  it('starts a server that answers on loopback and is gone after stop', async () => {
    const server = await start();
    expect(server).toMatchObject({ kind: 'redis', source: 'local', host: '127.0.0.1', url: `redis://127.0.0.1:${server.port}` });
    expect(await ping(server)).toBe('+PONG\r\n');
    expect(processesWith('redis-server', `127.0.0.1:${server.port}`)).toHaveLength(1);

    await server.stop();
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    expect(await portIsFree(server.port)).toBe(true);
    expect(processesWith('redis-server', `127.0.0.1:${server.port}`)).toEqual([]);
    await expect(server.restart()).rejects.toThrow(/was stopped; start a new one/);
  });

  it('runs two independent instances at once', async () => {
    const [first, second] = await Promise.all([start(), start()]);
    expect(first.port).not.toBe(second.port);
    expect(await ask(first, 'SET shared-key one\r\n', endsWithCrlf).then(String)).toBe('+OK\r\n');
    expect(await ask(second, 'GET shared-key\r\n', endsWithCrlf).then(String)).toBe('$-1\r\n');
  });

  it('restarts on the same port after a kill', async () => {
    const server = await start();
    await server.kill();
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    await server.restart();
    expect(await ping(server)).toBe('+PONG\r\n');
  });

  it('stalls while paused and answers again after resume', async () => {
    const server = await start();
    const [pid = 0] = processesWith('redis-server', `127.0.0.1:${server.port}`);
    await withConnection(server, async (connection) => {
      server.pause();
      expect(processState(pid)).toBe('T'); // stopped by the time pause() returns
      expect(await replyHeldUntil(connection, 'PING\r\n', () => server.resume())).toBe('+PONG\r\n');
    });
    expect(processState(pid)).not.toBe('T');
  });

  it('listens on a unix socket in its own directory when asked', async () => {
    const server = await start({ unixSocket: true });
    expect(server.socketPath).toMatch(/redis\.sock$/);
    expect(await ping({ path: server.socketPath ?? '' })).toBe('+PONG\r\n');
  });

  it('requires the password when one is given, and passes extra args', async () => {
    const server = await start({ password: 'sesame', args: ['--maxmemory', '7mb'] });
    expect(await ping(server)).toMatch(/^-NOAUTH/);
    const reply = await ask(server, 'AUTH sesame\r\nCONFIG GET maxmemory\r\n', (received) => received.includes('7340032\r\n'));
    expect(String(reply)).toBe('+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$7\r\n7340032\r\n');
  });
});
