import { CacheProtocolError, NonNumericValueError, ValueTooLargeError } from '@cachette/cache-core';
import type { ReplyQueue } from '../connection';
import type { ItemPlacer, ItemRanges } from '../item-ranges';
import { copyOfRange, type MemcachedProtocol, type RetrieveOptions, type Sent, type StorageVerb, type StoreItem } from '../protocol';
import { PendingRequest, UNEXPECTED, answers, type MemcachedItem, type ReplyReader } from '../request';
import { TextReplyDecoder, type ValueHeader } from './decoder';
import { encodeGetAndTouch, encodeKeyCommand, encodeLine, encodeRetrieval, encodeStorage } from './encoder';

/** A text-protocol request: told each reply line (and VALUE item) until it says it is complete. */
export abstract class TextRequest<T> extends PendingRequest<T> {
  /** A VALUE item, its data in `source[start, end)` (see `TextReplySink.value`). */
  onValue(header: ValueHeader, _source: Buffer, _start: number, _end: number): void {
    throw new CacheProtocolError(`Memcached sent an unexpected VALUE for key '${header.key}'`);
  }

  /** Returns `true` when this was the request's last reply line. */
  abstract onLine(line: string): boolean;
}

/** memcached's error replies: the command failed, but the replies after it are still in step. */
const ERROR_REPLY = /^(?:ERROR|CLIENT_ERROR|SERVER_ERROR)(?: |$)/;

/**
 * Throws unless `line` is one of memcached's error replies: any other line a command cannot take
 * (garbage, another command's reply) means the replies are out of step, and the connection that
 * carried them is dropped rather than hand later callers replies meant for others.
 */
function checkInStep(line: string): void {
  if (ERROR_REPLY.test(line)) return;
  throw new CacheProtocolError(`Memcached sent ${JSON.stringify(line.slice(0, 80))} where no such reply can come: the reply stream is out of step`);
}

/** The typed error for an error reply to a command on `key`; throws on a line that is no reply (`checkInStep`). */
export function errorFromLine(line: string, key: string | undefined): Error {
  checkInStep(line);
  const subject = key === undefined ? '' : ` for key '${key}'`;
  if (line.startsWith('SERVER_ERROR object too large')) {
    return new ValueTooLargeError(`The value${subject} is larger than the memcached server's item size limit (its -I option); nothing was stored`);
  }
  if (line.startsWith('CLIENT_ERROR cannot increment or decrement non-numeric value')) return new NonNumericValueError(key ?? '');
  return new CacheProtocolError(`Memcached answered '${line}'${subject}`);
}

type LineReader<T> = ReplyReader<string, T>;

/** A one-line reply, read by a small reader per command. */
class LineRequest<T> extends TextRequest<T> {
  constructor(payload: Buffer, private readonly key: string | undefined, private readonly read: LineReader<T>) {
    super(payload);
  }

  onLine(line: string): boolean {
    const result = this.read(line);
    if (result === UNEXPECTED) this.fail(errorFromLine(line, this.key));
    else this.resolve(result);
    return true;
  }
}

const readStored = answers({ STORED: true, NOT_STORED: false, EXISTS: false, NOT_FOUND: false });
const readDeleted = answers({ DELETED: true, NOT_FOUND: false });
const readTouched = answers({ TOUCHED: true, NOT_FOUND: false });
const readOk = answers<void>({ OK: undefined });

const readCounter: LineReader<bigint | undefined> = (line) => {
  if (line === 'NOT_FOUND') return undefined;
  return /^\d{1,20}$/.test(line) ? BigInt(line) : UNEXPECTED;
};

/** Meta get's `t` flag: `HD t<seconds>`, `t-1` for no expiry; `EN` when the item is missing. */
const readTimeLeft: LineReader<number | null | undefined> = (line) => {
  if (line === 'EN') return undefined;
  const seconds = /^HD t(-1|\d{1,10})$/.exec(line)?.[1];
  if (seconds === undefined) return UNEXPECTED;
  return seconds === '-1' ? null : Number(seconds);
};

const readVersion: LineReader<string> = (line) => (line.startsWith('VERSION ') ? line.slice(8) : UNEXPECTED);

/** VALUE items until END. */
abstract class ValuesUntilEnd<T> extends TextRequest<T> {
  override onValue(header: ValueHeader, source: Buffer, start: number, end: number): void {
    this.onItem(header.key, { value: copyOfRange(source, start, end), flags: header.flags, cas: header.cas });
  }

  onLine(line: string): boolean {
    if (line === 'END') this.resolve(this.result());
    else this.fail(errorFromLine(line, undefined));
    return true;
  }

  protected abstract onItem(key: string, item: MemcachedItem): void;
  protected abstract result(): T;
}

class RetrievalRequest extends ValuesUntilEnd<Map<string, MemcachedItem>> {
  private readonly found = new Map<string, MemcachedItem>();

  protected onItem(key: string, item: MemcachedItem): void {
    this.found.set(key, item);
  }

  protected result(): Map<string, MemcachedItem> {
    return this.found;
  }
}

/** VALUE items until END, each placed in key order without a Buffer of its own (see `ItemRanges`). */
class InPlaceRetrievalRequest extends TextRequest<ItemRanges> {
  constructor(payload: Buffer, private readonly placer: ItemPlacer) {
    super(payload);
  }

  override onValue(header: ValueHeader, source: Buffer, start: number, end: number): void {
    // Matched against the keys asked for as bytes: no string is made for the key.
    this.placer.place(header, header.flags, source, start, end);
  }

  onLine(line: string): boolean {
    if (line === 'END') this.resolve(this.placer.ranges);
    else this.fail(errorFromLine(line, undefined));
    return true;
  }
}

class SingleRetrievalRequest extends ValuesUntilEnd<MemcachedItem | undefined> {
  private found: MemcachedItem | undefined;

  protected onItem(_key: string, item: MemcachedItem): void {
    this.found = item;
  }

  protected result(): MemcachedItem | undefined {
    return this.found;
  }
}

function retrievalPayload(keys: readonly string[], { cas = false, touchExptime }: RetrieveOptions): Buffer {
  return touchExptime === undefined ? encodeRetrieval(cas ? 'gets' : 'get', keys) : encodeGetAndTouch(touchExptime, keys);
}

/** `STAT <name> <value>` lines until END. */
class StatsRequest extends TextRequest<Map<string, string>> {
  private readonly stats = new Map<string, string>();

  onLine(line: string): boolean {
    if (line === 'END') {
      this.resolve(this.stats);
      return true;
    }
    const match = /^STAT (\S+) (.*)$/.exec(line);
    if (match) {
      this.stats.set(match[1]!, match[2]!);
      return false;
    }
    this.fail(errorFromLine(line, undefined));
    return true;
  }
}

/** Several `set`s written at once: one reply line each, in order. */
class StoreManyRequest extends TextRequest<string[]> {
  private readonly failed: string[] = [];
  private answered = 0;

  constructor(payload: Buffer, private readonly keys: readonly string[]) {
    super(payload);
  }

  onLine(line: string): boolean {
    if (line !== 'STORED') {
      if (readStored(line) === UNEXPECTED) checkInStep(line);
      this.failed.push(this.keys[this.answered]!);
    }
    this.answered++;
    if (this.answered < this.keys.length) return false;
    this.resolve(this.failed);
    return true;
  }
}

/** `noreply` commands followed by `version` as a fence: complete when VERSION arrives. */
class FencedNoreplyRequest extends TextRequest<void> {
  private unexpected: string | undefined;

  onLine(line: string): boolean {
    if (!line.startsWith('VERSION ')) {
      checkInStep(line);
      this.unexpected ??= line;
      return false;
    }
    if (this.unexpected === undefined) this.resolve();
    else this.fail(errorFromLine(this.unexpected, undefined));
    return true;
  }
}

const VERSION_FENCE = encodeLine('version');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the connection holds requests of every result type
export type AnyTextRequest = TextRequest<any>;

function lineRequest<T>(payload: Buffer, key: string | undefined, read: LineReader<T>): Sent<AnyTextRequest, T> {
  return new LineRequest(payload, key, read);
}

function headOf(queue: ReplyQueue<AnyTextRequest>): AnyTextRequest {
  const head = queue.head();
  if (!head) throw new CacheProtocolError('Memcached sent a reply nobody asked for');
  return head;
}

/** memcached's text protocol (`doc/protocol.txt`). */
export const textProtocol: MemcachedProtocol<AnyTextRequest> = {
  name: 'text',

  createDecoder(queue) {
    return new TextReplyDecoder({
      value: (header, source, start, end) => headOf(queue).onValue(header, source, start, end),
      line: (reply) => {
        if (headOf(queue).onLine(reply)) queue.finishHead();
      },
    });
  },

  retrieve(keys, options) {
    return new RetrievalRequest(retrievalPayload(keys, options));
  },

  retrieveInPlace(keys, placer) {
    return new InPlaceRetrievalRequest(encodeRetrieval('get', keys), placer);
  },

  retrieveOne(key, options) {
    return new SingleRetrievalRequest(retrievalPayload([key], options));
  },

  store(verb: StorageVerb, key: string, item: StoreItem, exptime: number) {
    return lineRequest(encodeStorage(verb, key, item.flags, exptime, item.value, item.cas), key, readStored);
  },

  storeMany(entries, exptime) {
    const payload = Buffer.concat(entries.map(([key, item]) => encodeStorage('set', key, item.flags, exptime, item.value)));
    return new StoreManyRequest(
      payload,
      entries.map(([key]) => key),
    );
  },

  delete(key) {
    return lineRequest(encodeKeyCommand('delete', key), key, readDeleted);
  },

  deleteMany(keys) {
    // noreply saves a reply line per key; `version` marks the end, and errors still show up before it.
    const commands = keys.map((key) => encodeKeyCommand('delete', key, undefined, true));
    return new FencedNoreplyRequest(Buffer.concat([...commands, VERSION_FENCE]));
  },

  counter(verb, key, delta) {
    return lineRequest(encodeKeyCommand(verb, key, delta.toString()), key, readCounter);
  },

  touch(key, exptime) {
    return lineRequest(encodeKeyCommand('touch', key, String(exptime)), key, readTouched);
  },

  timeLeft(key) {
    return lineRequest(encodeKeyCommand('mg', key, 't'), key, readTimeLeft);
  },

  flush() {
    return lineRequest(encodeLine('flush_all'), undefined, readOk);
  },

  version() {
    return lineRequest(VERSION_FENCE, undefined, readVersion);
  },

  stats() {
    return new StatsRequest(encodeLine('stats'));
  },
};
