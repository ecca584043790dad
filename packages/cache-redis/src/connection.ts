import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { CacheConnectionError, CacheTimeoutError } from '@cachette/cache-core';
import { Fifo } from './fifo';
import { RespDecoder, type RespValue } from './resp/decoder';
import { LARGE_ARGUMENT_BYTES, encodeCommand, encodeCommandBytes, type CommandBytes, type RespArgument } from './resp/encoder';
import { RedisReplyError, isReplyError } from './resp/reply-error';

export interface ReconnectOptions {
  /** Delay before the first reconnect attempt, in ms; it doubles per failed attempt. Default 50. */
  initialDelay?: number;
  /** Upper bound of the delay, in ms. Default 2000. */
  maxDelay?: number;
  /** Attempts in a row before giving up (the connection then closes for good). Default `Infinity`. */
  maxAttempts?: number;
}

export interface ConnectionOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 6379. */
  port?: number;
  /** A Unix socket path; replaces host and port. */
  path?: string;
  /** `true` or Node TLS options (`ca`, `cert`, `key`, `servername`, ...) to connect with TLS. */
  tls?: boolean | TlsOptions;
  /** ACL user name (Redis 6+); with only a password, the `default` user. */
  username?: string;
  password?: string;
  /** Database selected after connecting. Default 0. */
  db?: number;
  /** 2 (default) or 3 (`HELLO 3`: maps, doubles, booleans and push messages). */
  protocol?: 2 | 3;
  /** Sent with `CLIENT SETNAME` (or `HELLO ... SETNAME`) so the connection shows in `CLIENT LIST`. */
  clientName?: string;
  /** Send `READONLY` on connecting: a Redis Cluster replica then answers reads of its primary's slots. */
  readOnly?: boolean;
  /** Time allowed to open the socket and finish the handshake, in ms. Default 5000. */
  connectTimeout?: number;
  /** Time allowed for each reply, in ms; 0 waits forever. Default 5000. */
  commandTimeout?: number;
  /** Reconnection after a lost connection; `false` closes the connection for good instead. */
  reconnect?: ReconnectOptions | false;
  /**
   * Commands accepted while reconnecting, sent once the connection is back. Default 0: commands
   * fail at once with `CacheConnectionError` (a cache should miss, not wait). Commands issued
   * before the first connection is made always wait for it.
   */
  offlineQueue?: number;
  /** TCP keep-alive initial delay in ms; 0 disables it. Default 30000. */
  keepAlive?: number;
  /** RESP3 push messages (pub/sub, client-side caching invalidations). */
  onPush?: (message: RespValue[]) => void;
  /** More commands for the handshake of every session (`CLIENT TRACKING ON`), after the others. */
  setupCommands?: ReadonlyArray<readonly RespArgument[]>;
  /** A ready session ended (the socket closed or was closed): what it set up on the server is gone. */
  onSessionEnd?: () => void;
}

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'closing' | 'closed';

interface PendingReply {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** `Date.now()` after which the caller gets a `CacheTimeoutError`; 0 for never. */
  deadline: number;
  /** Timed out or failed: its reply, when it comes, is read and dropped. */
  settled: boolean;
  /** Error replies resolve as values instead of rejecting (pipelines and transactions). */
  errorsAsValues: boolean;
  /** Turns the raw reply into the caller's result; what it throws rejects the command. */
  readReply: ((value: RespValue) => unknown) | undefined;
  /** The reply may be read in place (`RespDecoder.expectBulkStrings`). */
  inPlace: boolean;
}

interface QueuedCommand {
  bytes: CommandBytes;
  reply: PendingReply;
}

/**
 * Bytes per batch above which writes are handed to the socket as a list instead of copied into
 * one buffer. A command carrying a large argument always exceeds it, so that argument is never copied.
 */
const CONCAT_LIMIT = LARGE_ARGUMENT_BYTES;
/**
 * The shortest silence, after a command timed out, that costs a connection: a short command
 * timeout must not make a server that is only busy for a moment (a slow command) lose it.
 */
const MIN_SILENCE_BEFORE_DROP = 1000;

function describeAddress(options: ConnectionOptions): string {
  return options.path ?? `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

/** The commands that open a session: authentication, protocol, name and database, in one round trip. */
function handshakeCommands(options: ConnectionOptions): RespArgument[][] {
  const commands: RespArgument[][] = [];
  const auth = options.password === undefined ? [] : [options.username ?? 'default', options.password];
  if (options.protocol === 3) {
    const hello: RespArgument[] = ['HELLO', 3];
    if (auth.length > 0) hello.push('AUTH', ...auth);
    if (options.clientName) hello.push('SETNAME', options.clientName);
    commands.push(hello);
  } else {
    if (auth.length > 0) commands.push(['AUTH', ...auth]);
    if (options.clientName) commands.push(['CLIENT', 'SETNAME', options.clientName]);
  }
  if (options.db) commands.push(['SELECT', options.db]);
  if (options.readOnly) commands.push(['READONLY']);
  for (const command of options.setupCommands ?? []) commands.push([...command]);
  return commands;
}

/**
 * One socket to one Redis server: writes commands, matches replies in order, times them out,
 * and reconnects with backoff. Commands issued in the same tick are gathered and written
 * together on the next one (`process.nextTick`, before any I/O), in one socket write
 * (auto-pipelining). A lone command waits only for the code that issued it to finish, and the
 * commands of a `getMany` spread over several servers reach each one in a single write, not a
 * first command and then the rest.
 */
export class RedisConnection {
  private currentState: ConnectionState = 'idle';
  private socket: Socket | undefined;
  private readonly decoder: RespDecoder;
  private readonly inFlight = new Fifo<PendingReply>();
  /** Leading entries of `inFlight` already settled, so timeout checks skip them. */
  private settledPrefix = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private offline: QueuedCommand[] = [];
  private everReady = false;
  /** Between a finished handshake and the end of that socket. */
  private sessionOpen = false;
  private attempts = 0;
  private lastError: Error | undefined;
  /** Why the connection gave up reconnecting, told to every later command. */
  private givenUpBecause: Error | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** Watches a connection on which a command timed out, for a server that went silent for good. */
  private silenceTimer: NodeJS.Timeout | undefined;
  /**
   * Socket chunks read so far: the silence check compares it with the count when it was armed,
   * so the read path counts instead of reading the clock.
   */
  private chunksRead = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readyWaiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private closeWaiters: Array<() => void> = [];
  readonly commandTimeout: number;
  private readonly connectTimeout: number;
  private readonly flushBatch = (): void => this.flush();

  constructor(readonly options: ConnectionOptions = {}) {
    this.commandTimeout = options.commandTimeout ?? 5000;
    this.connectTimeout = options.connectTimeout ?? 5000;
    this.decoder = new RespDecoder({ onReply: (value) => this.onReply(value), onPush: options.onPush });
  }

  /** `idle` before first use, `waiting` between reconnect attempts. */
  get state(): ConnectionState {
    return this.currentState;
  }

  get address(): string {
    return describeAddress(this.options);
  }

  /** Lost after having been ready, and not back yet: a command now fails at once or waits in the offline queue. */
  get reconnecting(): boolean {
    return this.everReady && (this.currentState === 'waiting' || this.currentState === 'connecting');
  }

  /** Resolves once the connection is ready (connecting if needed); rejects if that attempt fails. */
  connect(): Promise<void> {
    if (this.currentState === 'ready') return Promise.resolve();
    if (this.currentState === 'closing' || this.currentState === 'closed') return Promise.reject(this.closedError());
    const ready = new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    if (this.currentState === 'idle' || this.currentState === 'waiting') this.openSocket();
    return ready;
  }

  /**
   * Sends one command; resolves with its reply (passed through `readReply` when given), rejects
   * with `RedisReplyError` for an error reply.
   */
  send(args: readonly RespArgument[], timeout?: number): Promise<RespValue>;
  send<R>(args: readonly RespArgument[], timeout: number | undefined, readReply: (value: RespValue) => R, inPlace?: boolean): Promise<R>;
  send(args: readonly RespArgument[], timeout = this.commandTimeout, readReply?: (value: RespValue) => unknown, inPlace = false): Promise<unknown> {
    let bytes: CommandBytes;
    try {
      bytes = encodeCommandBytes(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.dispatch(bytes, this.pendingReply(resolve, reject, timeout, false, readReply, inPlace)));
  }

  /**
   * Sends commands together in one write and resolves with every reply in order, error replies
   * as `RedisReplyError` values; rejects only when the connection fails.
   */
  sendBatch(commands: ReadonlyArray<readonly RespArgument[]>, timeout = this.commandTimeout): Promise<RespValue[]> {
    let encoded: CommandBytes[];
    try {
      encoded = commands.map((args) => encodeCommandBytes(args));
    } catch (error) {
      return Promise.reject(error);
    }
    const replies = encoded.map(
      (bytes) => new Promise<RespValue>((resolve, reject) => this.dispatch(bytes, this.pendingReply(resolve, reject, timeout, true))),
    );
    return Promise.all(replies);
  }

  /**
   * Waits for outstanding replies, then closes the socket. The wait is bounded by the command
   * timeout (or the connect timeout when commands have none), so a stalled server cannot hold it.
   */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    const wasOpen = this.currentState === 'ready' || this.currentState === 'connecting';
    this.currentState = 'closing';
    clearTimeout(this.reconnectTimer);
    this.failQueued(this.offline.splice(0), this.closedError());
    this.failReadyWaiters(this.closedError());
    if (wasOpen && this.socket && this.inFlight.length > this.settledPrefix) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.commandTimeout || this.connectTimeout)));
      await Promise.race([new Promise<void>((resolve) => this.closeWaiters.push(resolve)), bound]);
      clearTimeout(timer);
    }
    this.destroy();
  }

  /** Closes at once; outstanding commands fail with `CacheConnectionError`. */
  destroy(): void {
    this.endSession();
    this.currentState = 'closed';
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.silenceTimer);
    this.socket?.destroy();
    this.failAll(this.closedError());
  }

  private closedError(): CacheConnectionError {
    const reason = this.givenUpBecause;
    return new CacheConnectionError(`Redis connection to ${this.address} is closed${reason ? `: ${reason.message}` : ''}`, { cause: reason });
  }

  /** `resolve` receives the raw reply, or what `readReply` made of it when there is one. */
  private pendingReply(
    resolve: (value: RespValue) => void,
    reject: (error: Error) => void,
    timeout: number,
    errorsAsValues: boolean,
    readReply?: (value: RespValue) => unknown,
    inPlace = false,
  ): PendingReply {
    const settle = resolve as PendingReply['resolve'];
    return { resolve: settle, reject, deadline: timeout > 0 ? Date.now() + timeout : 0, settled: false, errorsAsValues, readReply, inPlace };
  }

  private dispatch(bytes: CommandBytes, reply: PendingReply): void {
    switch (this.currentState) {
      case 'ready':
        this.write(bytes, reply);
        break;
      case 'idle':
        this.queue(bytes, reply);
        this.openSocket();
        break;
      case 'connecting':
      case 'waiting':
        if (!this.everReady || this.offline.length < (this.options.offlineQueue ?? 0)) this.queue(bytes, reply);
        else reply.reject(this.offlineError());
        break;
      default:
        reply.reject(this.closedError());
    }
  }

  private offlineError(): CacheConnectionError {
    const cause = this.lastError ? `: ${this.lastError.message}` : '';
    return new CacheConnectionError(`Redis server ${this.address} is not connected${cause}`, { cause: this.lastError });
  }

  private queue(bytes: CommandBytes, reply: PendingReply): void {
    this.offline.push({ bytes, reply });
    this.armTimeout(reply.deadline);
  }

  private write(bytes: CommandBytes, reply: PendingReply): void {
    this.inFlight.push(reply);
    if (this.inFlight.length === 1) this.decoder.expectBulkStrings = reply.inPlace;
    this.armTimeout(reply.deadline);
    if (Buffer.isBuffer(bytes)) this.addToBatch(bytes);
    else for (const piece of bytes) this.addToBatch(piece);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushBatch);
    }
  }

  private addToBatch(bytes: Buffer): void {
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0 || !this.socket || this.socket.destroyed) return;
    if (batch.length === 1) this.socket.write(batch[0]!);
    else if (bytes <= CONCAT_LIMIT) this.socket.write(Buffer.concat(batch, bytes));
    else {
      this.socket.cork();
      for (const chunk of batch) this.socket.write(chunk);
      this.socket.uncork();
    }
  }

  private onReply(value: RespValue): void {
    const reply = this.inFlight.shift();
    // The decoder reads the next reply as the command waiting for it asks.
    this.decoder.expectBulkStrings = this.inFlight.peek()?.inPlace ?? false;
    if (this.settledPrefix > 0) this.settledPrefix--;
    if (reply === undefined) {
      // A reply nobody asked for means the stream is out of step: start over on a new socket.
      this.socket?.destroy(new CacheConnectionError(`Redis server ${this.address} sent an unexpected reply`));
      return;
    }
    if (!reply.settled) {
      reply.settled = true;
      const failure = isReplyError(value) ? this.failureOf(reply, value) : undefined;
      if (failure !== undefined) reply.reject(failure);
      else if (reply.readReply === undefined) reply.resolve(value);
      else this.resolveRead(reply, value);
    }
    if (this.inFlight.length === 0 && this.closeWaiters.length > 0) this.closeWaiters.splice(0).forEach((resolve) => resolve());
  }

  private resolveRead(reply: PendingReply, value: RespValue): void {
    try {
      reply.resolve(reply.readReply!(value));
    } catch (error) {
      reply.reject(error as Error);
    }
  }

  // ---- timeouts: one timer for the whole connection, armed for the oldest deadline ----------

  private armTimeout(deadline: number): void {
    if (deadline === 0 || this.timeoutTimer !== undefined) return;
    this.timeoutTimer = setTimeout(() => this.expireCommands(), Math.max(1, deadline - Date.now()));
    this.timeoutTimer.unref();
  }

  /**
   * Timers run before pending socket reads, so after the event loop was blocked (a long
   * synchronous task, a GC pause) replies that arrived meanwhile still wait unread. Decide after
   * this turn's reads, so that only a reply really late times out. The fired timer stays set until
   * then, so that no other is armed meanwhile.
   */
  private expireCommands(): void {
    setImmediate(() => {
      this.timeoutTimer = undefined;
      this.expireDue();
    });
  }

  private expireDue(): void {
    const now = Date.now();
    let next = this.expireInFlight(now);
    this.offline = this.offline.filter(({ reply }) => {
      if (reply.deadline === 0 || reply.deadline > now) {
        next = next === 0 ? reply.deadline : Math.min(next, reply.deadline);
        return true;
      }
      this.settle(reply, this.timeoutError(reply));
      return false;
    });
    if (next !== 0) this.armTimeout(next);
  }

  /** Times out expired in-flight commands (they stay queued so their late replies are skipped); returns the next deadline. */
  private expireInFlight(now: number): number {
    for (let index = this.settledPrefix; index < this.inFlight.length; index++) {
      const reply = this.inFlight.at(index)!;
      if (!reply.settled) {
        // A command without a deadline (a blocking one) must not shield the ones behind it.
        if (reply.deadline === 0) continue;
        if (reply.deadline > now) return reply.deadline;
        this.settle(reply, this.timeoutError(reply));
        this.watchForSilence();
      }
      if (index === this.settledPrefix) this.settledPrefix++;
    }
    return 0;
  }

  /**
   * A command timed out on an open connection. Its reply may just be late (a slow command), but
   * when nothing at all arrives for a while longer the server or the path to it is gone (a
   * half-open TCP connection, a peer that stopped mid-reply), and every later command on this
   * socket would time out too, until TCP keep-alive noticed minutes later: drop it and reconnect.
   */
  private watchForSilence(): void {
    const socket = this.socket;
    if (this.silenceTimer !== undefined || socket === undefined || this.currentState !== 'ready') return;
    const since = Date.now();
    const chunksBefore = this.chunksRead;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      if (this.socket !== socket || this.awaitsBlockingReply()) return;
      if (this.chunksRead === chunksBefore) socket.destroy(new CacheTimeoutError(`Redis server ${this.address} sent nothing for ${Date.now() - since} ms after a command timed out`));
      // Bytes came, yet replies are still owed to commands that timed out: keep watching.
      else if (this.settledPrefix > 0) this.watchForSilence();
    }, Math.max(this.commandTimeout, MIN_SILENCE_BEFORE_DROP));
    this.silenceTimer.unref();
  }

  /** A command without a deadline (a blocking one) is waiting: silence is what it expects. */
  private awaitsBlockingReply(): boolean {
    for (let index = this.settledPrefix; index < this.inFlight.length; index++) {
      const reply = this.inFlight.at(index)!;
      if (!reply.settled && reply.deadline === 0) return true;
    }
    return false;
  }

  private timeoutError(reply: PendingReply): CacheTimeoutError {
    const waited = this.currentState === 'ready' ? 'reply' : 'connection';
    return new CacheTimeoutError(`Redis server ${this.address} did not answer in time (waiting for a ${waited}; deadline ${new Date(reply.deadline).toISOString()})`);
  }

  private settle(reply: PendingReply, error: Error): void {
    if (reply.settled) return;
    reply.settled = true;
    reply.reject(error);
  }

  // ---- the socket's life -------------------------------------------------------------------

  private openSocket(): void {
    clearTimeout(this.reconnectTimer);
    this.currentState = 'connecting';
    this.decoder.reset();
    const { options } = this;
    const socket = options.tls
      ? tlsConnect({ host: options.host ?? '127.0.0.1', port: options.port ?? 6379, path: options.path, ...(options.tls === true ? {} : options.tls) })
      : options.path
        ? netConnect({ path: options.path })
        : netConnect({ host: options.host ?? '127.0.0.1', port: options.port ?? 6379 });
    this.socket = socket;
    socket.setNoDelay(true);
    if ((options.keepAlive ?? 30_000) > 0) socket.setKeepAlive(true, options.keepAlive ?? 30_000);
    const connectTimer = setTimeout(() => {
      socket.destroy(new CacheTimeoutError(`Redis server ${this.address} did not accept a connection within ${this.connectTimeout} ms`));
    }, this.connectTimeout);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      this.handshake(socket).then(
        () => {
          clearTimeout(connectTimer);
          this.onReady();
        },
        (error: Error) => socket.destroy(error),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      this.chunksRead++;
      try {
        this.decoder.write(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', (error) => {
      this.lastError = error;
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      if (this.socket === socket) this.onClose();
    });
  }

  private async handshake(socket: Socket): Promise<void> {
    const commands = handshakeCommands(this.options);
    if (commands.length === 0) return;
    const replies = commands.map(
      (args) => new Promise<RespValue>((resolve, reject) => this.inFlight.push(this.pendingReply(resolve, reject, 0, false))),
    );
    socket.write(Buffer.concat(commands.map((args) => encodeCommand(args))));
    await Promise.all(replies);
  }

  private onReady(): void {
    this.currentState = 'ready';
    this.sessionOpen = true;
    this.everReady = true;
    this.attempts = 0;
    this.lastError = undefined;
    for (const { bytes, reply } of this.offline.splice(0)) if (!reply.settled) this.write(bytes, reply);
    this.readyWaiters.splice(0).forEach((waiter) => waiter.resolve());
  }

  /** What an error reply rejects its command with: nothing when the caller takes errors as values, except a refused session. */
  private failureOf(reply: PendingReply, error: RedisReplyError): Error | undefined {
    if (error.code === 'NOAUTH' && this.sessionOpen) return this.refusedSession(error);
    return reply.errorsAsValues ? undefined : error;
  }

  /**
   * A refused handshake (WRONGPASS, NOAUTH, a bad db) says more than "connection lost", and so
   * does NOAUTH for a command of a session opened without a password on a server that wants one.
   * Either is still a failure to connect, as redis-py's AuthenticationError is a ConnectionError:
   * callers that handle outages (and `ignoreExceptions`) handle it, and the server's reply is the
   * cause. (A NOAUTH session stays open: every command fails this way, each as fast as a reply.)
   */
  private refusedSession(reply: RedisReplyError): CacheConnectionError {
    return new CacheConnectionError(`Redis server ${this.address} refused the session: ${reply.message}`, { cause: reply });
  }

  private onClose(): void {
    this.socket = undefined;
    clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    this.endSession();
    const error = new CacheConnectionError(
      `Connection to Redis server ${this.address} lost${this.lastError ? `: ${this.lastError.message}` : ''}`,
      { cause: this.lastError },
    );
    this.failInFlight(error);
    if (this.currentState === 'closing' || this.currentState === 'closed') {
      this.currentState = 'closed';
      return;
    }
    const reason = this.lastError instanceof RedisReplyError ? this.refusedSession(this.lastError) : error;
    const reconnect = this.options.reconnect ?? {};
    this.attempts++;
    if (reconnect === false || this.attempts > (reconnect.maxAttempts ?? Infinity)) {
      this.givenUpBecause = reason;
      this.failQueued(this.offline.splice(0), reason);
      this.failReadyWaiters(reason);
      this.currentState = 'closed';
      return;
    }
    // Callers waiting for a first connection learn why it failed; later ones fail fast or stay queued.
    if (!this.everReady) this.failQueued(this.offline.splice(0), reason);
    this.failReadyWaiters(reason);
    this.currentState = 'waiting';
    const delay = Math.min(reconnect.maxDelay ?? 2000, (reconnect.initialDelay ?? 50) * 2 ** (this.attempts - 1));
    this.reconnectTimer = setTimeout(() => this.openSocket(), delay * (0.5 + Math.random() / 2));
    this.reconnectTimer.unref();
  }

  private endSession(): void {
    if (!this.sessionOpen) return;
    this.sessionOpen = false;
    this.options.onSessionEnd?.();
  }

  private failInFlight(error: Error): void {
    this.settledPrefix = 0;
    this.decoder.expectBulkStrings = false;
    for (const reply of this.inFlight.drain()) this.settle(reply, error);
    this.batch = [];
    this.batchBytes = 0;
    this.closeWaiters.splice(0).forEach((resolve) => resolve());
  }

  private failQueued(queued: QueuedCommand[], error: Error): void {
    for (const { reply } of queued) this.settle(reply, error);
  }

  private failReadyWaiters(error: Error): void {
    this.readyWaiters.splice(0).forEach((waiter) => waiter.reject(error));
  }

  private failAll(error: Error): void {
    this.failInFlight(error);
    this.failQueued(this.offline.splice(0), error);
    this.failReadyWaiters(error);
  }
}
