import { readFileSync, readdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { afterAll, expect } from 'vitest';

/** Helpers for this package's own tests: raw sockets, no client libraries. */

export interface RawConnection {
  write(data: Buffer | string): void;
  /** Resolves with everything received once `isComplete` accepts it, and starts collecting afresh. */
  read(isComplete: (received: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  close(): void;
}

/** `servername` checks the certificate's DNS name; without it, its IP address (127.0.0.1). */
export interface TlsClientOptions {
  ca: Buffer;
  servername?: string;
}

export function openRaw(target: { port: number; host?: string } | { path: string }, options: { tls?: TlsClientOptions } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls
      ? connectTls({ ...(target as { port: number }), host: '127.0.0.1', ...options.tls })
      : connect(target as { port: number });
    let received = Buffer.alloc(0);
    let failure: Error | undefined;
    let waiter: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      waiter?.();
    });
    socket.on('error', (error) => {
      failure = error;
      reject(error);
    });
    socket.on('close', () => {
      failure ??= new Error('connection closed');
      waiter?.();
    });
    const read = (isComplete: (received: Buffer) => boolean, timeoutMs = 5_000): Promise<Buffer> =>
      new Promise((resolveRead, rejectRead) => {
        const timer = setTimeout(() => rejectRead(new Error(`no complete reply within ${timeoutMs} ms`)), timeoutMs);
        waiter = () => {
          const complete = isComplete(received);
          if (!complete && !failure) return;
          clearTimeout(timer);
          waiter = undefined;
          if (!complete) return rejectRead(failure);
          const reply = received;
          received = Buffer.alloc(0);
          resolveRead(reply);
        };
        waiter();
      });
    socket.once(options.tls ? 'secureConnect' : 'connect', () =>
      resolve({ write: (data) => socket.write(data), read, close: () => socket.destroy() }),
    );
  });
}

/** Opens a connection for `use` and closes it afterwards, whatever happens. */
export async function withConnection<T>(target: { port: number } | { path: string }, use: (connection: RawConnection) => Promise<T>): Promise<T> {
  const connection = await openRaw(target);
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

/** Sends a one-line request, checks that its reply is held back, then releases it and returns it. */
export async function replyHeldUntil(connection: RawConnection, request: string, release: () => void): Promise<string> {
  connection.write(request);
  await expect(connection.read(endsWithCrlf, 500)).rejects.toThrow(/no complete reply/);
  release();
  return String(await connection.read(endsWithCrlf));
}

/** Wraps a start function so every server it starts is stopped after the file's tests. */
export function stoppedAfterAll<Options, Server extends { stop(): Promise<void> }>(
  start: (options?: Options) => Promise<Server>,
): (options?: Options) => Promise<Server> {
  const started: Server[] = [];
  afterAll(() => Promise.all(started.map((server) => server.stop())));
  return async (options) => {
    const server = await start(options);
    started.push(server);
    return server;
  };
}

/** One request, one reply, connection closed. */
export async function ask(
  target: { port: number } | { path: string },
  request: Buffer | string,
  isComplete: (received: Buffer) => boolean,
  options: { tls?: TlsClientOptions; timeoutMs?: number } = {},
): Promise<Buffer> {
  const connection = await openRaw(target, options);
  try {
    connection.write(request);
    return await connection.read(isComplete, options.timeoutMs);
  } finally {
    connection.close();
  }
}

export const endsWithCrlf = (received: Buffer): boolean => received.subarray(-2).toString('latin1') === '\r\n';

/** Whether we can bind the port ourselves: proof that the server let go of it. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** What connecting to the port gives: 'ECONNREFUSED' when nothing listens, else 'connected' or the error code. */
export function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/**
 * Processes whose command line has every one of `parts` as a whole word, or as a program name
 * after a slash (read from /proc, Linux only). Whole words: port 1 must not match port 12345.
 * Servers that retitle themselves (redis-server 127.0.0.1:port) put spaces inside one argument.
 */
export function processesWith(...parts: string[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0\s]+/);
        return parts.every((part) => words.some((word) => word === part || word.endsWith(`/${part}`)));
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}
