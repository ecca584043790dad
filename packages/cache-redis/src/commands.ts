import { CacheProtocolError } from '@cachette/cache-core';
import { BulkStrings } from './resp/bulk-strings';
import type { RespValue } from './resp/decoder';
import type { RespArgument } from './resp/encoder';

/** A key or a value: text is sent as UTF-8, Buffers as they are. */
export type RedisKey = string | Buffer;

/**
 * A command as data: how its arguments are laid out and how its reply is read. The client, its
 * pipelines and transactions all run commands from this one table.
 */
export interface CommandSpec<A extends unknown[], R> {
  args(...args: A): RespArgument[];
  reply(value: RespValue): R;
  /** Its reply is read in place: an array of bulk strings may come as `BulkStrings` (see `RespDecoder.expectBulkStrings`). */
  readonly inPlace?: boolean;
}

export interface SetOptions {
  /** Expire after this many milliseconds (`PX`). */
  px?: number;
  /** Expire after this many seconds (`EX`). */
  ex?: number;
  /** Only set when the key does not exist (`NX`). */
  nx?: boolean;
  /** Only set when the key exists (`XX`). */
  xx?: boolean;
  /** Keep the key's current expiry (`KEEPTTL`). */
  keepTtl?: boolean;
}

export interface ScanOptions {
  /** A glob pattern (`MATCH`). */
  match?: string;
  /** A hint of how many keys per round trip (`COUNT`). Default 100 for iterators. */
  count?: number;
  /** Only keys of this type (`TYPE string`). */
  type?: string;
}

function unexpected(value: RespValue, wanted: string): CacheProtocolError {
  const shown = Buffer.isBuffer(value) ? `bulk string ${JSON.stringify(value.toString('utf8').slice(0, 40))}` : String(value);
  return new CacheProtocolError(`Redis replied ${shown} where ${wanted} was expected`);
}

/** The reply as it came (maps, arrays, Buffers). */
export const raw = (value: RespValue): RespValue => value;

export function asBuffer(value: RespValue): Buffer | null {
  if (value === null || Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  throw unexpected(value, 'a bulk string');
}

export function asText(value: RespValue): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw unexpected(value, 'text');
}

export function asNumber(value: RespValue): number {
  if (typeof value === 'number') return value;
  throw unexpected(value, 'an integer');
}

/** `1`/`0` replies (EXPIRE, PERSIST, ...) and RESP3 booleans. */
export function asBoolean(value: RespValue): boolean {
  if (typeof value === 'boolean') return value;
  return asNumber(value) === 1;
}

export function asOk(value: RespValue): void {
  if (value !== 'OK') throw unexpected(value, 'OK');
}

/** `INFO`'s text as its fields: `name:value` lines, section headers (`# Server`) and blank lines skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function asBufferList(value: RespValue): Array<Buffer | null> {
  if (!Array.isArray(value)) throw unexpected(value, 'an array');
  return value.map(asBuffer);
}

/** An `MGET`-shaped reply as `BulkStrings`, whether it was read in place or not. */
function asBulkStrings(value: RespValue): BulkStrings {
  if (value instanceof BulkStrings) return value;
  if (Array.isArray(value) && value.every((item) => item === null || Buffer.isBuffer(item))) return BulkStrings.of(value as Array<Buffer | null>);
  throw unexpected(value, 'an array of bulk strings');
}

function asScanPage(value: RespValue): [cursor: string, keys: Buffer[]] {
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[1])) throw unexpected(value, 'a SCAN page');
  return [asText(value[0]!), value[1].map((key) => asBuffer(key)!)];
}

function setArguments(key: RedisKey, value: RespArgument, options: SetOptions = {}): RespArgument[] {
  const args: RespArgument[] = ['SET', key, value];
  if (options.px !== undefined) args.push('PX', options.px);
  else if (options.ex !== undefined) args.push('EX', options.ex);
  else if (options.keepTtl) args.push('KEEPTTL');
  if (options.nx) args.push('NX');
  else if (options.xx) args.push('XX');
  return args;
}

function scanArguments(cursor: string, options: ScanOptions = {}): RespArgument[] {
  const args: RespArgument[] = ['SCAN', cursor];
  if (options.match !== undefined) args.push('MATCH', options.match);
  if (options.count !== undefined) args.push('COUNT', options.count);
  if (options.type !== undefined) args.push('TYPE', options.type);
  return args;
}

function scriptArguments(name: 'EVAL' | 'EVALSHA', body: string, keys: readonly RedisKey[], args: readonly RespArgument[]): RespArgument[] {
  return [name, body, keys.length, ...keys, ...args];
}

const command = <A extends unknown[], R>(args: (...args: A) => RespArgument[], reply: (value: RespValue) => R, inPlace = false): CommandSpec<A, R> => ({
  args,
  reply,
  inPlace,
});

export const COMMANDS = {
  get: command((key: RedisKey) => ['GET', key], asBuffer),
  /** `true` when stored (`false` when `nx`/`xx` prevented it). */
  set: command(setArguments, (value) => value !== null),
  mget: command((...keys: RedisKey[]) => ['MGET', ...keys], asBufferList),
  /** `MGET` with the values left in the reply's buffer, for a caller that decodes each one itself. */
  mgetInPlace: command((...keys: RedisKey[]) => ['MGET', ...keys], asBulkStrings, true),
  mset: command((entries: Iterable<readonly [RedisKey, RespArgument]>) => ['MSET', ...[...entries].flat()], asOk),
  del: command((...keys: RedisKey[]) => ['DEL', ...keys], asNumber),
  unlink: command((...keys: RedisKey[]) => ['UNLINK', ...keys], asNumber),
  exists: command((...keys: RedisKey[]) => ['EXISTS', ...keys], asNumber),
  incrby: command((key: RedisKey, delta: number) => ['INCRBY', key, delta], (value) => value as number | bigint),
  expire: command((key: RedisKey, seconds: number) => ['EXPIRE', key, seconds], asBoolean),
  pexpire: command((key: RedisKey, milliseconds: number) => ['PEXPIRE', key, milliseconds], asBoolean),
  persist: command((key: RedisKey) => ['PERSIST', key], asBoolean),
  ttl: command((key: RedisKey) => ['TTL', key], asNumber),
  pttl: command((key: RedisKey) => ['PTTL', key], asNumber),
  scan: command(scanArguments, asScanPage),
  dbsize: command(() => ['DBSIZE'], asNumber),
  flushdb: command(() => ['FLUSHDB'], asOk),
  ping: command((message?: string) => (message === undefined ? ['PING'] : ['PING', message]), raw),
  /** `CLUSTER SHARDS`, `CLUSTER SLOTS`, `CLUSTER INFO`, …: the reply as it came. */
  cluster: command((subcommand: string, ...args: RespArgument[]) => ['CLUSTER', subcommand, ...args], raw),
  info: command((section?: string) => (section === undefined ? ['INFO'] : ['INFO', section]), asText),
  eval: command((script: string, keys: readonly RedisKey[], args: readonly RespArgument[] = []) => scriptArguments('EVAL', script, keys, args), raw),
  evalsha: command((sha: string, keys: readonly RedisKey[], args: readonly RespArgument[] = []) => scriptArguments('EVALSHA', sha, keys, args), raw),
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandArgs<N extends CommandName> = Parameters<(typeof COMMANDS)[N]['args']>;
export type CommandReply<N extends CommandName> = ReturnType<(typeof COMMANDS)[N]['reply']>;
