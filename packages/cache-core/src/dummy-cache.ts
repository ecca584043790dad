import { BaseCache, MISSING, type Missing } from './base-cache';
import { declareOptions } from './known-names';
import type { StoreStats } from './store-stats';

/**
 * Django's DummyCache: implements the interface and caches nothing. Keys are still made and
 * validated, so key warnings show up in development as they would with a real backend.
 */
export class DummyCache extends BaseCache {
  /** No options: a dummy cache has nothing to tune. */
  static override readonly knownOptions = declareOptions<Record<never, never>>({});

  protected getItem(): Missing {
    return MISSING;
  }
  protected setItem(): void {}
  protected addItem(): boolean {
    return true;
  }
  protected touchItem(): boolean {
    return false;
  }
  protected deleteItem(): boolean {
    return false;
  }
  protected incrItem(): Missing {
    return MISSING;
  }
  protected override async hasItem(): Promise<boolean> {
    return false;
  }
  protected override ttlItem(): Missing {
    return MISSING;
  }
  /** A store that never holds anything. */
  override async storeStats(): Promise<StoreStats> {
    return { entries: 0 };
  }
  async clear(): Promise<void> {}
}
