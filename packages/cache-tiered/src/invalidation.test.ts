import { BaseCache, MISSING, type CacheParams, type ChangeTracking, type Missing } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { PendingFills } from './invalidation';
import { TieredCache } from './tiered-cache';

describe('PendingFills', () => {
  it('lets a fill store only when no invalidation of its key, or of everything, came after it began', () => {
    const fills = new PendingFills();
    const kept = fills.begin('a');
    expect(fills.finish('a', kept)).toBe(true);
    const dropped = fills.begin('a');
    fills.withdraw('a');
    expect(fills.finish('a', dropped)).toBe(false);
    const [first, second] = [fills.begin('b'), fills.begin('c')];
    fills.withdrawAll();
    expect([fills.finish('b', first), fills.finish('c', second)]).toEqual([false, false]);
    const older = fills.begin('d');
    const newer = fills.begin('d');
    expect(fills.finish('d', older)).toBe(false);
    expect(fills.finish('d', newer)).toBe(true);
  });
});

/**
 * A shared tier that announces a change of the key it is reading before its answer is used: the
 * order in which a reply and a push for the same key can arrive in one socket chunk, which a real
 * Redis produces only under a race.
 */
class RacingStore extends BaseCache {
  static readonly supportsChangeTracking = true;
  readonly values = new Map<string, unknown>();
  private readonly tracking: ChangeTracking;
  constructor(params: CacheParams) {
    super(params);
    this.tracking = (params.options as { tracking: ChangeTracking }).tracking;
  }
  protected async getItem(key: string) {
    const value = this.values.has(key) ? this.values.get(key) : MISSING;
    // Another client changes the key right after this read: the notice comes with the reply.
    this.values.set(key, 'changed elsewhere');
    this.tracking.onInvalidate([key]);
    return value;
  }
  protected override ttlItem() {
    return null;
  }
  protected setItem(key: string, value: unknown) {
    this.values.set(key, value);
  }
  protected addItem() {
    return false;
  }
  protected touchItem() {
    return false;
  }
  protected deleteItem(key: string) {
    return this.values.delete(key);
  }
  protected incrItem(): Missing {
    return MISSING;
  }
  async clear() {
    this.values.clear();
  }
}

describe('TieredCache against an invalidation racing its fill', () => {
  it('does not keep a value whose change was announced while it was being read', async () => {
    const cache = new TieredCache({ options: { shared: { backend: RacingStore } } });
    (cache.sharedCache as RacingStore).values.set(cache.makeKey('k'), 'original');
    expect(await cache.get('k')).toBe('original');
    expect(await cache.get('k')).toBe('changed elsewhere');
    expect(cache.tierStats()).toMatchObject({ localHits: 0, sharedHits: 2 });
  });
});
