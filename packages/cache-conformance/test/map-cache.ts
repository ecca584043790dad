import {
  BaseCache,
  MISSING,
  incrementedValue,
  nowInSeconds,
  resolveSerializer,
  secondsUntil,
  type Awaitable,
  type CacheParams,
  type Missing,
  type Serializer,
} from '@cachette/cache-core';

export interface Entry {
  data: Buffer;
  /** Absolute epoch seconds, or null for never: what BaseCache's getBackendTimeout returns. */
  expires: number | null;
}

const stores = new Map<string, Map<string, Entry>>();

/**
 * The smallest complete backend: a Map per location, values serialized so the cache holds
 * copies. It is the README's example of a custom backend under the conformance suite.
 */
export class MapCache extends BaseCache {
  protected readonly entries: Map<string, Entry>;
  protected readonly serializer: Serializer;

  constructor(params: CacheParams = {}) {
    super(params);
    const location = typeof params.location === 'string' ? params.location : '';
    if (!stores.has(location)) stores.set(location, new Map());
    this.entries = stores.get(location)!;
    this.serializer = resolveSerializer((params.options as { serializer?: unknown } | undefined)?.serializer);
  }

  protected live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expires !== null && entry.expires <= nowInSeconds()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  protected getItem(key: string): unknown {
    const entry = this.live(key);
    return entry ? this.serializer.deserialize(entry.data) : MISSING;
  }

  protected setItem(key: string, value: unknown, timeout: number | null): void {
    this.entries.set(key, { data: this.serializer.serialize(value), expires: timeout });
  }

  /** Serializes every value first, so one the serializer refuses leaves every key as it was. */
  protected override async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    const serialized = entries.map(([key, value]) => [key, this.serializer.serialize(value)] as const);
    for (const [key, data] of serialized) this.entries.set(key, { data, expires: timeout });
    return [];
  }

  protected addItem(key: string, value: unknown, timeout: number | null): boolean {
    const data = this.serializer.serialize(value);
    if (this.live(key)) return false;
    this.entries.set(key, { data, expires: timeout });
    return true;
  }

  protected touchItem(key: string, timeout: number | null): boolean {
    const entry = this.live(key);
    if (entry) entry.expires = timeout;
    return entry !== undefined;
  }

  protected override ttlItem(key: string): number | null | Missing {
    const entry = this.live(key);
    return entry ? secondsUntil(entry.expires) : MISSING;
  }

  protected deleteItem(key: string): boolean {
    const found = this.live(key) !== undefined;
    this.entries.delete(key);
    return found;
  }

  protected incrItem(key: string, delta: number): Awaitable<number | Missing> {
    const entry = this.live(key);
    if (!entry) return MISSING;
    const next = incrementedValue(key, this.serializer.deserialize(entry.data), delta);
    entry.data = this.serializer.serialize(next);
    return next;
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }
}
