// A backend for cache-core's own tests (not exported).
import { BaseCache, MISSING, incrementedValue, type CacheParams } from './base-cache';
import { nowInSeconds } from './timeouts';

/** The smallest backend: proves what BaseCache itself does, whatever a backend adds. */
export class MapCache extends BaseCache {
  readonly entries = new Map<string, { value: unknown; expires: number | null }>();
  readonly timeouts: Array<number | null> = [];

  constructor(params: CacheParams = {}) {
    super(params);
  }
  protected live(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires !== null && entry.expires <= nowInSeconds()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
  protected getItem(key: string) {
    const entry = this.live(key);
    return entry ? entry.value : MISSING;
  }
  protected async setItem(key: string, value: unknown, timeout: number | null) {
    this.timeouts.push(timeout);
    this.entries.set(key, { value, expires: timeout });
  }
  protected addItem(key: string, value: unknown, timeout: number | null) {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expires: timeout });
    return true;
  }
  protected touchItem(key: string, timeout: number | null) {
    const entry = this.live(key);
    if (entry) entry.expires = timeout;
    return entry !== undefined;
  }
  protected deleteItem(key: string) {
    return this.entries.delete(key);
  }
  protected incrItem(key: string, delta: number) {
    const entry = this.live(key);
    if (!entry) return MISSING;
    entry.value = incrementedValue(key, entry.value, delta);
    return entry.value as number;
  }
  async clear() {
    this.entries.clear();
  }
}
