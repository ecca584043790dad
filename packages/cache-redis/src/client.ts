import { RedisConnection, type ConnectionOptions } from './connection';
import { COMMANDS, type CommandArgs, type CommandName, type CommandReply, type CommandSpec, type RedisKey, type ScanOptions } from './commands';
import type { RespValue } from './resp/decoder';
import type { RespArgument } from './resp/encoder';
import { RedisReplyError } from './resp/reply-error';
import type { RedisScript } from './script';
import { parseRedisUrl } from './url';

export interface RedisClientOptions extends ConnectionOptions {
  /** `redis://`, `rediss://` or `unix://` URL; explicit options override what it says. */
  url?: string;
  /**
   * Connections used in turn for ordinary commands. Default 1: with auto-pipelining one
   * connection carries a lot; more help when the server runs I/O threads.
   */
  poolSize?: number;
}

type ClientCommands = { [N in CommandName]: (...args: CommandArgs<N>) => Promise<CommandReply<N>> };
type QueuedCommands<Self> = { [N in CommandName]: (...args: CommandArgs<N>) => Self };

interface QueuedCommand {
  args: RespArgument[];
  reply(value: RespValue): unknown;
}

/** Applies a command's reply reader; an error reply, or a reply it cannot read, becomes the result. */
function readReply(command: QueuedCommand, value: RespValue): unknown {
  if (value instanceof RedisReplyError) return value;
  try {
    return command.reply(value);
  } catch (error) {
    return error;
  }
}

/** Commands queued on one connection, to be written together. */
abstract class CommandBatch {
  protected readonly commands: QueuedCommand[] = [];

  constructor(protected readonly connection: RedisConnection) {}

  /** Any command, by its arguments. */
  call(...args: RespArgument[]): this {
    this.commands.push({ args, reply: (value) => value });
    return this;
  }

  get length(): number {
    return this.commands.length;
  }

  protected readReplies(replies: readonly RespValue[]): unknown[] {
    return replies.map((value, index) => readReply(this.commands[index]!, value));
  }
}

/** Commands gathered and sent in one write; `exec()` resolves with each result or error reply, in order. */
export interface Pipeline extends QueuedCommands<Pipeline> {}
export class Pipeline extends CommandBatch {
  async exec(): Promise<unknown[]> {
    if (this.commands.length === 0) return [];
    return this.readReplies(await this.connection.sendBatch(this.commands.map((command) => command.args)));
  }
}

/**
 * `MULTI` ... `EXEC` in one write. `exec()` resolves with the results (error replies of single
 * commands as values), `null` when a `WATCH`ed key changed, and rejects when the server refused
 * the transaction (`EXECABORT`).
 */
export interface Transaction extends QueuedCommands<Transaction> {}
export class Transaction extends CommandBatch {
  async exec(): Promise<unknown[] | null> {
    const replies = await this.connection.sendBatch([['MULTI'], ...this.commands.map((command) => command.args), ['EXEC']]);
    const outcome = replies[replies.length - 1]!;
    if (outcome instanceof RedisReplyError) throw outcome;
    return outcome === null ? null : this.readReplies(outcome as RespValue[]);
  }
}

function installCommands(target: object, makeMethod: (spec: CommandSpec<unknown[], unknown>) => (...args: unknown[]) => unknown): void {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    Object.defineProperty(target, name, { value: makeMethod(spec as CommandSpec<unknown[], unknown>), writable: true, configurable: true });
  }
}

installCommands(CommandBatch.prototype, (spec) =>
  function (this: CommandBatch & { commands: QueuedCommand[] }, ...args: unknown[]) {
    this.commands.push({ args: spec.args(...args), reply: spec.reply });
    return this;
  },
);

/**
 * A Redis client over one or more connections to one server. Every command of the table in
 * `commands.ts` is a method (`get`, `set`, `mget`, `scan`, ...); `call()` sends any other.
 */
export interface RedisClient extends ClientCommands {}
export class RedisClient {
  readonly options: RedisClientOptions;
  private readonly connections: RedisConnection[];
  private next = 0;
  private readonly idleDedicated: RedisClient[] = [];
  private readonly dedicated = new Set<RedisClient>();
  /** Sent before every command on the same connection (`ASKING`, in a view made by `asking()`). */
  private readonly prefix: RespArgument[] | undefined;

  constructor(options: RedisClientOptions | string = {}) {
    const given = typeof options === 'string' ? { url: options } : options;
    this.options = { ...(given.url ? parseRedisUrl(given.url) : {}), ...withoutUndefined(given) };
    const poolSize = this.options.poolSize ?? 1;
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`Redis option poolSize must be a positive integer; got ${String(poolSize)}`);
    this.connections = Array.from({ length: poolSize }, () => new RedisConnection(this.options));
  }

  /** The server, as `host:port` or a socket path. */
  get address(): string {
    return this.connections[0]!.address;
  }

  /** Connects every connection of the pool; commands also connect on first use. */
  async connect(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.connect()));
  }

  /**
   * The next connection in turn, passing over those that are reconnecting (they would fail the
   * command at once) while another one can take it: one lost connection of a pool costs nothing.
   */
  connection(): RedisConnection {
    if (this.connections.length === 1) return this.connections[0]!;
    for (let tried = 0; tried < this.connections.length; tried++) {
      this.next = (this.next + 1) % this.connections.length;
      if (!this.connections[this.next]!.reconnecting) break;
    }
    return this.connections[this.next]!;
  }

  /** Sends any command: `call('HSET', 'h', 'field', 'value')`. */
  call(...args: RespArgument[]): Promise<RespValue> {
    if (this.prefix !== undefined) return this.sendPrefixed(args, undefined, (value) => value);
    return this.connection().send(args);
  }

  /**
   * This client with every command preceded by `ASKING` on the same connection: how a cluster
   * node is asked, after an `ASK` redirection, for a key of a slot it is importing.
   */
  asking(): RedisClient {
    return Object.create(this, { prefix: { value: ['ASKING'] } }) as RedisClient;
  }

  private async sendPrefixed<R>(args: RespArgument[], timeout: number | undefined, readReply: (value: RespValue) => R): Promise<R> {
    const [, reply] = await this.connection().sendBatch([this.prefix!, args], timeout);
    if (reply instanceof RedisReplyError) throw reply;
    return readReply(reply!);
  }

  /** Runs a command from the table with a custom reply timeout in ms (0: none). */
  run<A extends unknown[], R>(spec: CommandSpec<A, R>, args: A, timeout?: number): Promise<R> {
    let commandArgs: RespArgument[];
    try {
      commandArgs = spec.args(...args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.prefix !== undefined) return this.sendPrefixed(commandArgs, timeout, spec.reply);
    return this.connection().send(commandArgs, timeout, spec.reply, spec.inPlace);
  }

  /** Runs a Lua script by SHA1, sending its source only when the server does not know it yet. */
  async runScript(script: RedisScript, keys: readonly RedisKey[], args: readonly RespArgument[] = []): Promise<RespValue> {
    try {
      return await this.evalsha(script.sha, keys, args);
    } catch (error) {
      if (!(error instanceof RedisReplyError) || error.code !== 'NOSCRIPT') throw error;
      return this.eval(script.source, keys, args);
    }
  }

  pipeline(): Pipeline {
    return new Pipeline(this.connection());
  }

  multi(): Transaction {
    return new Transaction(this.connection());
  }

  /** Every key matching `options.match`, fetched page by page with `SCAN` (never `KEYS`). */
  async *scanIterator(options: ScanOptions = {}): AsyncGenerator<string> {
    const pageOptions = { count: 100, ...options };
    let cursor = '0';
    do {
      const [nextCursor, keys] = await this.scan(cursor, pageOptions);
      for (const key of keys) yield key.toString('utf8');
      cursor = nextCursor;
    } while (cursor !== '0');
  }

  /**
   * Lends a connection of its own (for blocking commands such as `BLPOP`, or `WATCH`), with no
   * reply timeout unless `commandTimeout` says otherwise. It goes back to an idle list afterwards.
   */
  async withConnection<T>(use: (client: RedisClient) => Promise<T>, commandTimeout = 0): Promise<T> {
    const client = this.idleDedicated.pop() ?? new RedisClient({ ...this.options, url: undefined, poolSize: 1, commandTimeout });
    this.dedicated.add(client);
    try {
      return await use(client);
    } finally {
      this.dedicated.delete(client);
      this.idleDedicated.push(client);
    }
  }

  /** Waits for outstanding replies, then closes every connection. */
  async close(): Promise<void> {
    const lent = [...this.dedicated, ...this.idleDedicated.splice(0)];
    this.dedicated.clear();
    await Promise.all([...this.connections.map((connection) => connection.close()), ...lent.map((client) => client.close())]);
  }
}

installCommands(RedisClient.prototype, (spec) =>
  function (this: RedisClient, ...args: unknown[]) {
    return this.run(spec, args);
  },
);

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export { RedisConnection, type ConnectionOptions, type ConnectionState, type ReconnectOptions } from './connection';
export { COMMANDS, type CommandSpec, type RedisKey, type ScanOptions, type SetOptions } from './commands';
export { BulkStrings } from './resp/bulk-strings';
export { RespDecoder, type RespDecoderCallbacks, type RespDecoderOptions, type RespValue } from './resp/decoder';
export { LARGE_ARGUMENT_BYTES, encodeCommand, encodeCommandBytes, type CommandBytes, type RespArgument } from './resp/encoder';
export { RedisReplyError } from './resp/reply-error';
export { defineScript, type RedisScript } from './script';
export { parseRedisUrl } from './url';
