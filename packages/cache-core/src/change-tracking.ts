/**
 * Server-assisted invalidation, for a copy of a shared store kept elsewhere (the local tier of
 * `TieredCache`). A backend whose store can tell its clients which keys changed declares
 * `static supportsChangeTracking = true` and accepts this object as `options.tracking`.
 */
export interface ChangeTracking {
  /**
   * Called with the made keys that changed (written, deleted, expired or evicted) by any client
   * but the connection that changed them, or with `null` when anything may have changed: the
   * store was flushed, or a connection whose keys were tracked was lost (its notices with it).
   */
  onInvalidate(keys: readonly string[] | null): void;
  /**
   * Hear of every change under these key prefixes (`[]`: every key), instead of only the keys
   * this process read. The store then remembers nothing per key; every change is announced.
   */
  broadcastPrefixes?: readonly string[];
}
