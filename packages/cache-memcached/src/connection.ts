import net from 'node:net';
import tls from 'node:tls';
import { CacheConnectionError, CacheTimeoutError } from '@cachette/cache-core';

/** A request as the connection sees it: bytes to write, and a way to fail it. */
export interface ConnectionRequest {
  readonly payload: Buffer;
  fail(error: Error): void;
}

/** What a decoder reports replies to: the request waiting longest gets the next reply. */
export interface ReplyQueue<R> {
  head(): R | undefined;
  /** The head request got its last reply. */
  finishHead(): void;
}

export interface ReplyDecoder {
  write(chunk: Buffer): void;
  reset(): void;
}

/** Where a server listens: TCP host and port, or a Unix socket path. */
export type ServerAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export interface ConnectionOptions<R extends ConnectionRequest> {
  address: ServerAddress;
  /** TLS options (`ca`, `cert`, `key`, `servername`, …); TCP only. */
  tls?: tls.ConnectionOptions | undefined;
  /** Milliseconds to establish the connection (and TLS). */
  connectTimeoutMs: number;
  /** Milliseconds a connection with requests outstanding may go without any reply. */
  operationTimeoutMs: number;
  /** First wait after a failure before connecting again, doubled on each failure up to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  createDecoder(queue: ReplyQueue<R>): ReplyDecoder;
  /** A request written before any other on each new connection (authentication); a failure drops it. */
  handshake?: (() => { request: R; done: Promise<unknown> }) | undefined;
  /**
   * Told when the connection fails and when the server has answered on it (after the handshake, if
   * any; merely connecting proves nothing of a stalled server): failover counts on these.
   */
  onDown?: ((error: Error) => void) | undefined;
  onUp?: (() => void) | undefined;
}

/** Below this many bytes, queued requests are copied into one Buffer; above, written as a vector. */
const CONCAT_LIMIT = 16 * 1024;

/**
 * A reply that cannot be read leaves the stream out of step, so nothing more on it can be trusted:
 * the connection is as good as lost, and its requests fail as with any lost connection.
 */
function unreadableReplyError(name: string, error: Error): CacheConnectionError {
  return new CacheConnectionError(`Memcached ${name} sent a reply that cannot be read, so the connection was dropped: ${error.message}`, { cause: error });
}

export function describeAddress(address: ServerAddress): string {
  return 'path' in address ? `unix:${address.path}` : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/**
 * One socket to one server, with requests answered in the order they were written.
 *
 * Connects on first use and again after a failure, waiting longer after each consecutive failure;
 * while waiting, requests fail at once rather than queue. A request issued while none is
 * outstanding is written immediately; requests issued while others wait are written together in
 * one socket write at the end of the current tick. If no reply arrives for `operationTimeoutMs`
 * while requests are outstanding, the socket is dropped and those requests fail.
 */
export class Connection<R extends ConnectionRequest> implements ReplyQueue<R> {
  private socket: net.Socket | undefined;
  private ready = false;
  private readonly waiting: R[] = [];
  private unwritten: Buffer[] = [];
  private flushScheduled = false;
  private readonly decoder: ReplyDecoder;
  private retryAt = 0;
  private backoffMs: number;
  private lastProgressAt = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private stallTimerArmed = false;
  /** Every `close()` waiting for the outstanding requests to finish (there may be several callers). */
  private readonly drainWaiters: Array<() => void> = [];
  /** Connected, but the server has not answered yet: it is only known to be up once it does. */
  private awaitingFirstReply = false;
  readonly name: string;

  constructor(private readonly options: ConnectionOptions<R>) {
    this.decoder = options.createDecoder(this);
    this.backoffMs = options.minBackoffMs;
    this.name = describeAddress(options.address);
  }

  /** How many requests wait for replies (a pool picks the least busy connection). */
  get pending(): number {
    return this.waiting.length;
  }

  head(): R | undefined {
    return this.waiting[0];
  }

  finishHead(): void {
    this.waiting.shift();
    this.lastProgressAt = Date.now();
    if (this.awaitingFirstReply) {
      this.awaitingFirstReply = false;
      this.options.onUp?.();
    }
    if (this.waiting.length === 0) this.notifyDrained();
  }

  send(request: R): void {
    if (!this.socket) {
      const refusal = this.connect();
      if (refusal) return request.fail(refusal);
    }
    // The silence that times a server out is counted from the first outstanding request.
    if (this.waiting.push(request) === 1) this.lastProgressAt = Date.now();
    this.armStallTimer();
    if (this.ready && this.waiting.length === 1 && !this.flushScheduled) {
      this.socket!.write(request.payload);
      return;
    }
    this.unwritten.push(request.payload);
    if (this.ready) this.scheduleFlush();
  }

  /** Lets the next request try to connect at once, whatever the backoff (a server put back in service). */
  retryNow(): void {
    this.retryAt = 0;
  }

  /**
   * Lets outstanding requests finish (up to the operation timeout), then closes the socket. A
   * later request connects again, as Django's memcached backends do after `close()`.
   */
  async close(): Promise<void> {
    while (this.waiting.length > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.drop(undefined);
    this.retryNow();
    this.backoffMs = this.options.minBackoffMs;
  }

  /** Opens the socket; returns why it cannot now (backing off, or options Node refuses). */
  private connect(): Error | undefined {
    if (Date.now() < this.retryAt) {
      return new CacheConnectionError(`Memcached ${this.name} is unreachable; retrying in ${this.retryAt - Date.now()} ms`);
    }
    let socket: net.Socket;
    try {
      socket = this.openSocket();
    } catch (error) {
      return new CacheConnectionError(`Cannot connect to memcached ${this.name}: ${(error as Error).message}`, { cause: error });
    }
    this.socket = socket;
    const { connectTimeoutMs } = this.options;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(connectTimeoutMs, () => {
      this.fail(socket, new CacheTimeoutError(`Connecting to memcached ${this.name} took longer than ${connectTimeoutMs} ms`));
    });
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => this.onConnected(socket));
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error) => this.fail(socket, new CacheConnectionError(`Memcached ${this.name}: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(socket, new CacheConnectionError(`Memcached ${this.name} closed the connection`)));
    return undefined;
  }

  private openSocket(): net.Socket {
    const { address, tls: tlsOptions } = this.options;
    if ('path' in address) return net.connect({ path: address.path });
    if (!tlsOptions) return net.connect({ host: address.host, port: address.port });
    const servername = net.isIP(address.host) ? undefined : address.host;
    return tls.connect({ host: address.host, port: address.port, servername, ...tlsOptions });
  }

  private onConnected(socket: net.Socket): void {
    socket.setTimeout(0);
    this.ready = true;
    this.backoffMs = this.options.minBackoffMs;
    this.lastProgressAt = Date.now();
    const handshake = this.options.handshake?.();
    if (handshake) {
      this.waiting.unshift(handshake.request);
      this.unwritten.unshift(handshake.request.payload);
      handshake.done.then(() => this.options.onUp?.(), (error: Error) => this.fail(socket, error));
    } else {
      // Not up yet: a stalled server (SIGSTOPped, or behind a stalled proxy) still accepts
      // connections, and must keep counting failures until it leaves the ring.
      this.awaitingFirstReply = true;
    }
    this.armStallTimer();
    this.flush();
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    try {
      this.decoder.write(chunk);
    } catch (error) {
      this.fail(socket, unreadableReplyError(this.name, error as Error));
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const chunks = this.unwritten;
    if (chunks.length === 0 || !this.ready) return;
    this.unwritten = [];
    const socket = this.socket!;
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
      return;
    }
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    if (total <= CONCAT_LIMIT) {
      socket.write(Buffer.concat(chunks, total));
      return;
    }
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  }

  private armStallTimer(): void {
    if (this.stallTimerArmed) return;
    this.stallTimerArmed = true;
    if (this.stallTimer) this.stallTimer.refresh();
    else this.stallTimer = setTimeout(() => this.checkStall(), this.options.operationTimeoutMs).unref();
  }

  /** Runs at most every `operationTimeoutMs`: a stalled server is detected within twice that. */
  private checkStall(): void {
    this.stallTimerArmed = false;
    if (this.waiting.length === 0 || !this.socket) return;
    const silentFor = Date.now() - this.lastProgressAt;
    if (silentFor < this.options.operationTimeoutMs) {
      this.stallTimerArmed = true;
      this.stallTimer!.refresh();
      return;
    }
    // Timers run before pending socket reads: after the event loop was blocked, replies may be
    // waiting unread. Decide after this turn's reads, so only a really silent server times out.
    const progressBefore = this.lastProgressAt;
    const socket = this.socket;
    setImmediate(() => {
      if (this.lastProgressAt !== progressBefore || this.waiting.length === 0) return this.armStallTimer();
      this.fail(socket, new CacheTimeoutError(`Memcached ${this.name} did not answer within ${this.options.operationTimeoutMs} ms`));
    });
  }

  /** Drops the socket and fails every request on it; the next request reconnects after a backoff. */
  private fail(socket: net.Socket, error: Error): void {
    if (socket !== this.socket) return;
    if (this.ready && this.waiting.length === 0) {
      // An idle connection closed (server idle_timeout, a load balancer, a restart between
      // requests) is not a failure: the next request simply connects again.
      this.drop(error);
      return;
    }
    this.retryAt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
    this.drop(error);
    this.options.onDown?.(error);
  }

  private drop(error: Error | undefined): void {
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    this.awaitingFirstReply = false;
    this.unwritten = [];
    this.decoder.reset();
    socket?.destroy();
    const failed = this.waiting.splice(0);
    const closedError = error ?? new CacheConnectionError(`The connection to memcached ${this.name} was closed`);
    for (const request of failed) request.fail(closedError);
    this.notifyDrained();
  }

  private notifyDrained(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
