/**
 * MapCache with one bug each: the suite's own tests check that each bug fails the test meant
 * to catch it, so no conformance test passes whatever the backend does.
 */
import { EventEmitter } from 'node:events';
import { MISSING, NotSupportedError, incrementedValue, nowInSeconds, type Awaitable, type CacheParams, type Missing, type Serializer, type Timeout } from '@cachette/cache-core';
import { MapCache } from './map-cache';

/** Hands the caller's objects to the store as they are. */
const keepsReferences: Serializer = {
  name: 'references',
  serialize: (value) => value as Buffer,
  deserialize: (data) => data,
};

/** Keeps the caller's objects instead of copies. */
export class BrokenCopiesCache extends MapCache {
  constructor(params: CacheParams = {}) {
    super({ ...params, options: { ...params.options, serializer: keepsReferences } });
  }
}

/** Stores incremented values without an expiry, as a naive get + set would. */
export class IncrResetsExpiryCache extends MapCache {
  protected override incrItem(key: string, delta: number): Awaitable<number | Missing> {
    const next = super.incrItem(key, delta);
    const entry = this.entries.get(key);
    if (entry) entry.expires = null;
    return next;
  }
}

export class ClearsNothingCache extends MapCache {
  override async clear(): Promise<void> {}
}

export class AddOverwritesCache extends MapCache {
  protected override addItem(key: string, value: unknown, timeout: number | null): boolean {
    this.setItem(key, value, timeout);
    return true;
  }
}

/** Reads an expiry already in the past as "never", as a backend confusing 0 with "no timeout" does. */
export class PastExpiryStoresCache extends MapCache {
  protected override setItem(key: string, value: unknown, timeout: number | null): void {
    super.setItem(key, value, timeout !== null && timeout <= Date.now() / 1000 ? null : timeout);
  }
}

export class TouchChangesNothingCache extends MapCache {
  protected override touchItem(key: string): boolean {
    return this.live(key) !== undefined;
  }
}

export class SilentKeysCache extends MapCache {
  override validateKey(): void {}
}

/** Ignores the key prefix, so every prefix shares keys. */
export class PrefixBlindCache extends MapCache {
  override makeKey(key: string, version?: number): string {
    return `:${version ?? this.version}:${key}`;
  }
}

/** Ignores versions, so every version shares keys. */
export class VersionBlindCache extends MapCache {
  override makeKey(key: string): string {
    return `${this.keyPrefix}:${key}`;
  }
}

/** Increments by reading, yielding, then writing: updates are lost under concurrency. */
export class RacyIncrCache extends MapCache {
  protected override async incrItem(key: string, delta: number): Promise<number | Missing> {
    const current = this.getItem(key);
    if (current === MISSING) return MISSING;
    await new Promise((resolve) => setImmediate(resolve));
    const next = incrementedValue(key, current, delta);
    this.setItem(key, next, this.entries.get(key)?.expires ?? null);
    return next;
  }
}

/** Django's getOrSet, without sharing concurrent computations. */
export class UncoalescedGetOrSetCache extends MapCache {
  override async getOrSet<T>(key: string, defaultValue: T | (() => T | Promise<T>), timeout?: Timeout, version?: number): Promise<T> {
    const found = await this.get<unknown>(key, MISSING, version);
    if (found !== MISSING) return found as T;
    const value = typeof defaultValue === 'function' ? await (defaultValue as () => T | Promise<T>)() : defaultValue;
    await this.add(key, value, timeout, version);
    return this.get(key, value, version);
  }
}

export class CloseOnceCache extends MapCache {
  private closed = false;
  override async close(): Promise<void> {
    if (this.closed) throw new Error('already closed');
    this.closed = true;
  }
}

export class GetManyDropsNullsCache extends MapCache {
  protected override async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    const found = await super.getManyItems(keys);
    for (const [key, value] of found) if (value === null) found.delete(key);
    return found;
  }
}

/** JSON without checks: undefined, BigInt, Date, Map and Buffer come back changed or fail late. */
export const looseJsonSerializer: Serializer = {
  name: 'loose-json',
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? 'null'),
  deserialize: (data: Buffer): unknown => JSON.parse(data.toString()),
};

/** Keeps Buffers as UTF-8 text, as text-protocol clients that decode values do. */
export const utf8BufferSerializer: Serializer = {
  name: 'utf8-buffers',
  serialize: (value: unknown): Buffer => (Buffer.isBuffer(value) ? Buffer.from(value.toString('utf8')) : Buffer.from(JSON.stringify(value) ?? 'null')),
  deserialize: (data: Buffer): unknown => {
    try {
      return JSON.parse(data.toString());
    } catch {
      return data;
    }
  },
};

/** Answers concurrent reads in the wrong order, as a protocol client that mismatches pipelined replies. */
export class MisorderedRepliesCache extends MapCache {
  private pending: Array<{ value: unknown; resolve: (value: unknown) => void }> = [];

  protected override getItem(key: string): Promise<unknown> {
    const value = super.getItem(key);
    return new Promise((resolve) => {
      if (this.pending.push({ value, resolve }) === 1) setImmediate(() => this.answerReversed());
    });
  }

  private answerReversed(): void {
    const batch = this.pending;
    this.pending = [];
    batch.forEach(({ resolve }, index) => resolve(batch[batch.length - 1 - index]!.value));
  }
}

/** Runs what follows a line break in a key, as a text protocol that pastes keys into commands would. */
export class KeyInjectionCache extends MapCache {
  protected override setItem(key: string, value: unknown, timeout: number | null): void {
    if (key.includes('\r\nflush_all')) this.entries.clear();
    super.setItem(key, value, timeout);
  }
}

/** Stores an increment before checking it, as a server-side incr without a range check does. */
export class UncheckedIncrCache extends MapCache {
  protected override incrItem(key: string, delta: number): Awaitable<number | Missing> {
    const entry = this.live(key);
    if (!entry) return MISSING;
    const current = this.serializer.deserialize(entry.data) as number;
    entry.data = this.serializer.serialize(current + delta);
    return incrementedValue(key, current, delta);
  }
}

/** Reads a stored undefined as a miss. */
export class UndefinedAsMissingCache extends MapCache {
  protected override getItem(key: string): unknown {
    const value = super.getItem(key);
    return value === undefined ? MISSING : value;
  }
}

/** Starts a keep-alive timer per cache and never stops it; `timers` lets the test clean up after. */
export class TimerLeakCache extends MapCache {
  static readonly timers: NodeJS.Timeout[] = [];
  constructor(params: CacheParams = {}) {
    super(params);
    TimerLeakCache.timers.push(setInterval(() => {}, 60_000));
  }
}

const sharedEvents = new EventEmitter();

/** Subscribes every cache to a shared emitter and never unsubscribes. */
export class ListenerLeakCache extends MapCache {
  constructor(params: CacheParams = {}) {
    super(params);
    sharedEvents.on('invalidate', () => this.entries.clear());
  }
}

/** Reports milliseconds where seconds are due, as a backend passing `PTTL` through would. */
export class TtlInMillisecondsCache extends MapCache {
  protected override ttlItem(key: string): number | null | Missing {
    const left = super.ttlItem(key);
    return typeof left === 'number' ? left * 1000 : left;
  }
}

/** Reads "never expires" as -1, `PTTL`'s reply, instead of `null`. */
export class PersistentAsMinusOneCache extends MapCache {
  protected override ttlItem(key: string): number | null | Missing {
    const left = super.ttlItem(key);
    return left === null ? -1 : left;
  }
}

/** Reports the timeout a key was stored with, never counting down, expiring or seeing a touch. */
export class TtlOfStoredTimeoutCache extends MapCache {
  private readonly storedTimeouts = new Map<string, number | null>();

  protected override setItem(key: string, value: unknown, timeout: number | null): void {
    this.storedTimeouts.set(key, timeout === null ? null : timeout - nowInSeconds());
    super.setItem(key, value, timeout);
  }

  protected override ttlItem(key: string): number | null | Missing {
    return this.storedTimeouts.has(key) ? this.storedTimeouts.get(key)! : MISSING;
  }
}

/** Cannot read expiries, yet leaves `capabilities.ttl` at its default. */
export class UnsupportedTtlCache extends MapCache {
  protected override ttlItem(): never {
    throw new NotSupportedError("UnsupportedTtlCache cannot report a key's remaining time");
  }
}

/** Stores the entries of `setMany` one after another, so a value that cannot be serialized leaves the earlier ones written. */
export class HalfWritingSetManyCache extends MapCache {
  protected override async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    for (const [key, value] of entries) this.setItem(key, value, timeout);
    return [];
  }
}

