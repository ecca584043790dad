import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { redisServerBinary } from './binaries.js';
import { serverSkipReason, startRedis } from './index.js';
import { exchange, hasLine } from './probe.js';
import { startOnFreePorts, type ServerCommand } from './process.js';
import { processesWith } from './test-helpers.js';

const skip = await serverSkipReason('redis');

function redisOn(port: number): ServerCommand {
  return {
    label: 'redis-server',
    command: redisServerBinary() ?? 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    isReady: async () => (await exchange({ port }, 'PING\r\n', hasLine)) !== undefined,
  };
}

function occupyPort(): Promise<Server & { port: number }> {
  return new Promise((resolve) => {
    // Hangs up on whoever connects, so closing it never waits for a connection.
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(Object.assign(server, { port: typeof address === 'object' && address ? address.port : 0 }));
    });
  });
}

describe.skipIf(skip)(`starting server processes${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const occupied: Server[] = [];
  afterAll(() => Promise.all(occupied.map((server) => new Promise((resolve) => server.close(resolve)))));

  it('retries on fresh ports when another process took the port first', async () => {
    const taken = await occupyPort();
    occupied.push(taken);
    const portsTried: number[] = [];
    const { process: server, ports } = await startOnFreePorts(1, ([port = 0]) => {
      // The first attempt is made to lose the race: its port already has a listener.
      const chosen = portsTried.length === 0 ? taken.port : port;
      portsTried.push(chosen);
      return redisOn(chosen);
    });
    try {
      expect(portsTried).toHaveLength(2);
      expect(portsTried[0]).toBe(taken.port);
      expect(ports).toEqual([portsTried[1]]);
    } finally {
      await server.stop();
    }
  });

  it('fails a server that exits at start with its log, and leaves nothing behind', async () => {
    const message = await startRedis({ args: ['--no-such-directive', 'yes'] }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(message).toMatch(/^redis-server exited \(exit code 1\) before it answered\.\nCommand: \S*redis-server --port \d+ /);
    expect(message).toMatch(/\n--- redis-server log \(last lines\) ---\n[^]*no-such-directive/);
    const dir = /--dir (\S+)/.exec(message)?.[1] ?? 'not in the message';
    expect(dir).toMatch(/cachette-redis-/);
    expect(existsSync(dir)).toBe(false);
  });

  it('gives up on a server that never answers, killing it', async () => {
    let startedPort = 0;
    const attempt = startOnFreePorts(1, ([port = 0]) => {
      startedPort = port;
      return { ...redisOn(port), label: 'deaf redis', startTimeoutMs: 1_000, isReady: async () => false };
    });
    await expect(attempt).rejects.toThrow(/deaf redis did not answer within 1 s/);
    expect(processesWith('redis-server', `127.0.0.1:${startedPort}`)).toEqual([]);
  });
});
