import { CacheConnectionError, CacheProtocolError, NonNumericValueError, ValueTooLargeError } from '@cachette/cache-core';
import type { ReplyQueue } from '../connection';
import type { ItemPlacer, ItemRanges } from '../item-ranges';
import type { MemcachedProtocol, StorageVerb, StoreItem } from '../protocol';
import { PendingRequest, UNEXPECTED, type MemcachedItem, type ReplyReader } from '../request';
import { BinaryResponseDecoder } from './decoder';
import { binaryExptime, encodeRequest, requestSize, writeRequest } from './encoder';
import {
  HEADER_SIZE,
  Opcode,
  Status,
  packetCas,
  packetExtras,
  packetExtrasLength,
  packetFlags,
  packetKey,
  packetOpaque,
  packetOpcode,
  packetStatus,
  packetValue,
  packetValueStart,
  statusText,
} from './header';

/** A binary-protocol request: told each response packet until it says it is complete. */
export abstract class BinaryRequest<T> extends PendingRequest<T> {
  /** Returns `true` when this was the request's last response. */
  abstract onPacket(packet: Buffer): boolean;

  /** Whether a response with this opcode can answer the request: the opcode of its (first) packet. */
  answers(opcode: number): boolean {
    return opcode === this.payload[1];
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the connection holds requests of every result type
export type AnyBinaryRequest = BinaryRequest<any>;

/** The typed error for an error status in a response about `key`. */
export function errorFromStatus(status: number, key: string | undefined): Error {
  const subject = key === undefined ? '' : ` for key '${key}'`;
  if (status === Status.valueTooLarge) {
    return new ValueTooLargeError(`The value${subject} is larger than the memcached server's item size limit (its -I option); nothing was stored`);
  }
  if (status === Status.nonNumeric) return new NonNumericValueError(key ?? '');
  if (status === Status.authError) {
    return new CacheConnectionError('Memcached refused the request: authentication required or failed (check username and password)');
  }
  return new CacheProtocolError(`Memcached answered '${statusText(status)}'${subject}`);
}

/** One response, read by a small reader per command. */
class SingleResponseRequest<T> extends BinaryRequest<T> {
  constructor(payload: Buffer, private readonly key: string | undefined, private readonly read: ReplyReader<Buffer, T>) {
    super(payload);
  }

  onPacket(packet: Buffer): boolean {
    const result = this.read(packet);
    if (result === UNEXPECTED) this.fail(errorFromStatus(packetStatus(packet), this.key));
    else this.resolve(result);
    return true;
  }
}

/** A reader for commands whose outcome is the status alone. */
function statuses<T>(table: Partial<Record<number, T>>): ReplyReader<Buffer, T> {
  return (packet) => {
    const status = packetStatus(packet);
    return Object.hasOwn(table, status) ? table[status]! : UNEXPECTED;
  };
}

const readStored = statuses({ [Status.noError]: true, [Status.keyExists]: false, [Status.keyNotFound]: false, [Status.itemNotStored]: false });
const readFound = statuses({ [Status.noError]: true, [Status.keyNotFound]: false });
const readDone = statuses<void>({ [Status.noError]: undefined });

const readCounter: ReplyReader<Buffer, bigint | undefined> = (packet) => {
  const status = packetStatus(packet);
  if (status === Status.keyNotFound) return undefined;
  return status === Status.noError ? packetValue(packet).readBigUInt64BE(0) : UNEXPECTED;
};

const readVersion: ReplyReader<Buffer, string> = (packet) =>
  packetStatus(packet) === Status.noError ? packetValue(packet).toString('latin1') : UNEXPECTED;

/** The item in a get response; the CAS token only when asked for (a bigint per item is not free). */
function itemOf(packet: Buffer, withCas: boolean): MemcachedItem {
  return { value: Buffer.from(packetValue(packet)), flags: packetExtras(packet).readUInt32BE(0), cas: withCas ? packetCas(packet) : undefined };
}

/** `get` (or `gat`) of one key: the item, or `undefined`. */
class SingleGetRequest extends BinaryRequest<MemcachedItem | undefined> {
  constructor(payload: Buffer, private readonly key: string, private readonly withCas: boolean) {
    super(payload);
  }

  onPacket(packet: Buffer): boolean {
    const status = packetStatus(packet);
    if (status === Status.noError) this.resolve(itemOf(packet, this.withCas));
    else if (status === Status.keyNotFound) this.resolve(undefined);
    else this.fail(errorFromStatus(status, this.key));
    return true;
  }
}

/**
 * Quiet commands (one per key, opaque = the key's index) closed by a `noop`: the server answers
 * only what is worth telling (hits for getKQ, failures for setQ/deleteQ), then the noop.
 */
abstract class QuietBatchRequest<T> extends BinaryRequest<T> {
  override answers(opcode: number): boolean {
    return opcode === Opcode.noop || super.answers(opcode);
  }

  onPacket(packet: Buffer): boolean {
    if (packetOpcode(packet) !== Opcode.noop) {
      this.onQuietResponse(packet);
      return false;
    }
    this.resolve(this.result());
    return true;
  }

  protected abstract onQuietResponse(packet: Buffer): void;
  protected abstract result(): T;
}

class QuietGetRequest extends QuietBatchRequest<Map<string, MemcachedItem>> {
  private readonly found = new Map<string, MemcachedItem>();

  constructor(payload: Buffer, private readonly withCas: boolean) {
    super(payload);
  }

  protected onQuietResponse(packet: Buffer): void {
    if (packetStatus(packet) === Status.noError) this.found.set(packetKey(packet), itemOf(packet, this.withCas));
  }

  protected result(): Map<string, MemcachedItem> {
    return this.found;
  }
}

/** Quiet gets whose hits are placed in key order, read in place (see `ItemRanges`). */
class InPlaceQuietGetRequest extends QuietBatchRequest<ItemRanges> {
  constructor(payload: Buffer, private readonly placer: ItemPlacer) {
    super(payload);
  }

  protected onQuietResponse(packet: Buffer): void {
    if (packetStatus(packet) !== Status.noError) return;
    const valueStart = packetValueStart(packet);
    if (packetExtrasLength(packet) !== 4 || valueStart > packet.length) {
      throw new CacheProtocolError('Memcached sent a get response without its 4 bytes of flags, or shorter than its key');
    }
    // The packet is a view of the socket's chunk (or a buffer of its own when it came in pieces):
    // its value is placed where it lies. The opaque is the key's index in the request.
    this.placer.placeAt(packetOpaque(packet), packetFlags(packet), packet, valueStart, packet.length);
  }

  protected result(): ItemRanges {
    return this.placer.ranges;
  }
}

class QuietStoreRequest extends QuietBatchRequest<string[]> {
  private readonly failed: string[] = [];

  constructor(payload: Buffer, private readonly keys: readonly string[]) {
    super(payload);
  }

  protected onQuietResponse(packet: Buffer): void {
    const key = this.keys[packetOpaque(packet)];
    if (key === undefined) throw new CacheProtocolError(`Memcached answered a quiet store with opaque ${packetOpaque(packet)}, which names none of its ${this.keys.length} keys`);
    this.failed.push(key);
  }

  protected result(): string[] {
    return this.failed;
  }
}

class QuietDeleteRequest extends QuietBatchRequest<void> {
  private failure: number | undefined;

  protected onQuietResponse(packet: Buffer): void {
    const status = packetStatus(packet);
    if (status !== Status.keyNotFound) this.failure ??= status;
  }

  override onPacket(packet: Buffer): boolean {
    const done = super.onPacket(packet);
    if (done && this.failure !== undefined) this.fail(errorFromStatus(this.failure, undefined));
    return done;
  }

  protected result(): void {}
}

/** Stat responses until the one with an empty key. */
class StatsRequest extends BinaryRequest<Map<string, string>> {
  private readonly stats = new Map<string, string>();

  onPacket(packet: Buffer): boolean {
    const status = packetStatus(packet);
    if (status !== Status.noError) {
      this.fail(errorFromStatus(status, undefined));
      return true;
    }
    const name = packetKey(packet);
    if (name === '') {
      this.resolve(this.stats);
      return true;
    }
    this.stats.set(name, packetValue(packet).toString('latin1'));
    return false;
  }
}

/** SASL PLAIN: `\0username\0password` as the value of an auth request for mechanism PLAIN. */
class SaslPlainRequest extends BinaryRequest<void> {
  constructor(payload: Buffer, private readonly username: string) {
    super(payload);
  }

  onPacket(packet: Buffer): boolean {
    if (packetStatus(packet) === Status.noError) this.resolve();
    else this.fail(new CacheConnectionError(`Memcached refused SASL PLAIN authentication for user '${this.username}'`));
    return true;
  }
}

export function saslPlainRequest(username: string, password: string): BinaryRequest<void> {
  const credentials = Buffer.from(`\0${username}\0${password}`, 'utf8');
  return new SaslPlainRequest(encodeRequest(Opcode.saslAuth, 'PLAIN', 0, credentials), username);
}

const STORE_OPCODES: Record<StorageVerb, number> = {
  set: Opcode.set,
  add: Opcode.add,
  replace: Opcode.replace,
  cas: Opcode.set,
  append: Opcode.append,
  prepend: Opcode.prepend,
};

/** append and prepend carry no flags or exptime. */
const VERBS_WITHOUT_EXTRAS = new Set<StorageVerb>(['append', 'prepend']);

function encodeStore(verb: StorageVerb, key: string, item: StoreItem, exptime: number): Buffer {
  const extrasLength = VERBS_WITHOUT_EXTRAS.has(verb) ? 0 : 8;
  const packet = encodeRequest(STORE_OPCODES[verb], key, extrasLength, item.value, 0, item.cas);
  if (extrasLength > 0) {
    packet.writeUInt32BE(item.flags >>> 0, HEADER_SIZE);
    packet.writeUInt32BE(binaryExptime(exptime), HEADER_SIZE + 4);
  }
  return packet;
}

/** Quiet requests for `keys` (opaque = index) and a closing noop, in one Buffer. */
function encodeQuietBatch(
  opcode: number,
  keys: readonly string[],
  extrasLength: number,
  valueOf: (index: number) => Buffer | undefined,
  writeExtras: (packet: Buffer, extrasOffset: number, index: number) => void,
): Buffer {
  const keyLengths = keys.map((key) => Buffer.byteLength(key));
  let size = HEADER_SIZE;
  keys.forEach((_, index) => (size += requestSize(keyLengths[index]!, extrasLength, valueOf(index))));
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  keys.forEach((key, index) => {
    if (extrasLength > 0) writeExtras(buffer, offset + HEADER_SIZE, index);
    offset = writeRequest(buffer, offset, opcode, key, keyLengths[index]!, extrasLength, valueOf(index), index, undefined);
  });
  writeRequest(buffer, offset, Opcode.noop, undefined, 0, 0, undefined, 0, undefined);
  return buffer;
}

const noValue = (): undefined => undefined;
const noExtras = (): void => {};

function single<T>(payload: Buffer, key: string | undefined, read: ReplyReader<Buffer, T>): SingleResponseRequest<T> {
  return new SingleResponseRequest(payload, key, read);
}

/**
 * The request a response answers. A response whose opcode the oldest request cannot get means
 * the stream is out of step: throwing drops the connection rather than hand it to a caller.
 */
function requestAnswered(queue: ReplyQueue<AnyBinaryRequest>, packet: Buffer): AnyBinaryRequest {
  const head = queue.head();
  if (!head) throw new CacheProtocolError('Memcached sent a response nobody asked for');
  const opcode = packetOpcode(packet);
  if (!head.answers(opcode)) throw new CacheProtocolError(`Memcached sent a response of opcode 0x${opcode.toString(16)} to a request of opcode 0x${head.payload[1]!.toString(16)}`);
  return head;
}

/** memcached's binary protocol (`doc/protocol-binary.txt`). */
export const binaryProtocol: MemcachedProtocol<AnyBinaryRequest> = {
  name: 'binary',

  createDecoder(queue) {
    return new BinaryResponseDecoder((packet) => {
      if (requestAnswered(queue, packet).onPacket(packet)) queue.finishHead();
    });
  },

  retrieve(keys, { cas = false, touchExptime }) {
    const touching = touchExptime !== undefined;
    const writeExptime = (packet: Buffer, offset: number): void => void packet.writeUInt32BE(binaryExptime(touchExptime ?? 0), offset);
    const opcode = touching ? Opcode.getAndTouchKQ : Opcode.getKQ;
    return new QuietGetRequest(encodeQuietBatch(opcode, keys, touching ? 4 : 0, noValue, writeExptime), cas);
  },

  retrieveInPlace(keys, placer) {
    return new InPlaceQuietGetRequest(encodeQuietBatch(Opcode.getKQ, keys, 0, noValue, noExtras), placer);
  },

  retrieveOne(key, { cas = false, touchExptime }) {
    if (touchExptime === undefined) return new SingleGetRequest(encodeRequest(Opcode.get, key), key, cas);
    const payload = encodeRequest(Opcode.getAndTouch, key, 4);
    payload.writeUInt32BE(binaryExptime(touchExptime), HEADER_SIZE);
    return new SingleGetRequest(payload, key, cas);
  },

  store(verb, key, item, exptime) {
    return single(encodeStore(verb, key, item, exptime), key, readStored);
  },

  storeMany(entries, exptime) {
    const keys = entries.map(([key]) => key);
    const payload = encodeQuietBatch(
      Opcode.setQ,
      keys,
      8,
      (index) => entries[index]![1].value,
      (packet, offset, index) => {
        packet.writeUInt32BE(entries[index]![1].flags >>> 0, offset);
        packet.writeUInt32BE(binaryExptime(exptime), offset + 4);
      },
    );
    return new QuietStoreRequest(payload, keys);
  },

  delete(key) {
    return single(encodeRequest(Opcode.delete, key), key, readFound);
  },

  deleteMany(keys) {
    return new QuietDeleteRequest(encodeQuietBatch(Opcode.deleteQ, keys, 0, noValue, noExtras));
  },

  counter(verb, key, delta) {
    const payload = encodeRequest(verb === 'incr' ? Opcode.increment : Opcode.decrement, key, 20);
    payload.writeBigUInt64BE(delta, HEADER_SIZE);
    payload.writeBigUInt64BE(0n, HEADER_SIZE + 8);
    // All ones: fail on a missing key instead of creating it.
    payload.writeUInt32BE(0xffffffff, HEADER_SIZE + 16);
    return single(payload, key, readCounter);
  },

  touch(key, exptime) {
    const payload = encodeRequest(Opcode.touch, key, 4);
    payload.writeUInt32BE(binaryExptime(exptime), HEADER_SIZE);
    return single(payload, key, readFound);
  },

  flush() {
    return single(encodeRequest(Opcode.flush), undefined, readDone);
  },

  version() {
    return single(encodeRequest(Opcode.version), undefined, readVersion);
  },

  stats() {
    return new StatsRequest(encodeRequest(Opcode.stat));
  },
};
