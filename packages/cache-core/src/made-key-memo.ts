import { memcacheKeyWarnings } from './keys';

/** A caller's key, made once, and the store slot it was last found in. */
export interface RememberedKey {
  readonly made: string;
  /** A hint, checked against the store's key before use: slots are reused after removal. */
  slot: number;
}

/**
 * Remembers the made key of caller keys seen recently, so an operation on a key the application
 * uses again skips building and validating the made key, and usually the store's own lookup.
 * The made key is the same string each time, so a lookup that does happen reuses its hash.
 * Bounded: when full it starts over, which costs one rebuild per key. A limit of 0 remembers
 * nothing (for a key function that may answer differently for one key, say per tenant).
 */
export class MadeKeyMemo {
  private readonly remembered = new Map<string, RememberedKey>();

  constructor(private limit: number) {}

  /** Raises the limit (a cache holding more entries than it), unless the memo remembers nothing. */
  growTo(limit: number): void {
    if (this.limit > 0) this.limit = Math.max(this.limit, limit);
  }

  /** The remembered entry of `key`, when `version` is the cache's default one (the only one remembered). */
  lookup(key: string, version: number | undefined, defaultVersion: number): RememberedKey | undefined {
    return version === undefined || version === defaultVersion ? this.remembered.get(key) : undefined;
  }

  /**
   * Remembers `made` for `key` when it is of the default version and drew no key warning, so a
   * key that warns is validated on every use (and warns again after a reset). Returns `made`.
   */
  offer(key: string, version: number | undefined, defaultVersion: number, made: string): string {
    if (this.limit > 0 && (version === undefined || version === defaultVersion) && memcacheKeyWarnings(made).length === 0) this.remember(key, made);
    return made;
  }

  private remember(key: string, made: string): RememberedKey {
    if (this.remembered.size >= this.limit) this.remembered.clear();
    const entry: RememberedKey = { made, slot: -1 };
    this.remembered.set(key, entry);
    return entry;
  }
}
