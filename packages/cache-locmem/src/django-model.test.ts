import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyNotFoundError } from '@cachette/cache-core';
import { LocMemCache } from './index';
import { storeFor } from './lru';

/**
 * Django's LocMemCache, written as plainly as its Python (an ordered dict, most recent first), to
 * check the typed-array store, the remembered keys and slot hints against it on random operations.
 */
class DjangoLocMem {
  private readonly entries = new Map<string, { value: number; expiry: number | null }>();
  private order: string[] = [];

  constructor(
    private readonly maxEntries: number,
    private readonly cullFrequency: number,
  ) {}

  recency(): string[] {
    return [...this.order];
  }

  get(key: string, now: number): number | undefined {
    if (this.hasExpired(key, now)) {
      this.delete(key);
      return undefined;
    }
    this.moveToFront(key);
    return this.entries.get(key)!.value;
  }

  set(key: string, value: number, expiry: number | null): void {
    if (this.entries.size >= this.maxEntries) this.cull();
    this.entries.set(key, { value, expiry });
    this.moveToFront(key);
  }

  add(key: string, value: number, expiry: number | null, now: number): boolean {
    if (!this.hasExpired(key, now)) return false;
    this.set(key, value, expiry);
    return true;
  }

  incr(key: string, delta: number, now: number): number | undefined {
    if (this.hasExpired(key, now)) {
      this.delete(key);
      return undefined;
    }
    const entry = this.entries.get(key)!;
    entry.value += delta;
    this.moveToFront(key);
    return entry.value;
  }

  hasKey(key: string, now: number): boolean {
    if (!this.hasExpired(key, now)) return true;
    this.delete(key);
    return false;
  }

  touch(key: string, expiry: number | null, now: number): boolean {
    if (this.hasExpired(key, now)) return false;
    this.entries.get(key)!.expiry = expiry;
    return true;
  }

  delete(key: string): boolean {
    this.order = this.order.filter((other) => other !== key);
    return this.entries.delete(key);
  }

  private hasExpired(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    return entry === undefined || (entry.expiry !== null && entry.expiry <= now);
  }

  private moveToFront(key: string): void {
    this.order = [key, ...this.order.filter((other) => other !== key)];
  }

  private cull(): void {
    const count = this.cullFrequency === 0 ? this.entries.size : Math.floor(this.entries.size / this.cullFrequency);
    for (const key of this.order.splice(this.order.length - count, count)) this.entries.delete(key);
  }
}

/** A small deterministic generator (mulberry32), so a failure replays with its seed. */
function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return Math.floor((((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296) * below);
  };
}

const TIMEOUTS = [null, 1, 3, 0] as const;
const START_MS = 1_700_000_000_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('LocMemCache against a plain model of Django LocMemCache', () => {
  for (const [seed, maxEntries, cullFrequency] of [
    [1, 9, 3],
    [2, 5, 2],
    [3, 12, 0],
    [4, 30, 4],
  ] as const) {
    it(`agrees on 2000 random operations (seed ${seed}, maxEntries ${maxEntries}, cullFrequency ${cullFrequency})`, async () => {
      vi.useFakeTimers({ now: START_MS });
      const location = `django-model-${seed}`;
      // Two instances on one store: each one's remembered slots must survive the other's writes.
      const caches = [0, 1].map(() => new LocMemCache({ location, options: { maxEntries, cullFrequency } }));
      const model = new DjangoLocMem(maxEntries, cullFrequency);
      const next = random(seed);
      const now = () => Date.now() / 1000;
      const expiryOf = (timeout: (typeof TIMEOUTS)[number]) => (timeout === null ? null : now() + (timeout === 0 ? -1 : timeout));

      for (let step = 0; step < 2000; step++) {
        const cache = caches[next(2)]!;
        const key = `k${next(maxEntries + 6)}`;
        const timeout = TIMEOUTS[next(TIMEOUTS.length)]!;
        const operation = next(10);
        const context = `step ${step}, operation ${operation}, key ${key}`;
        if (operation === 0) {
          await cache.set(key, step, timeout);
          model.set(key, step, expiryOf(timeout));
        } else if (operation === 1) {
          expect(await cache.add(key, step, timeout), context).toBe(model.add(key, step, expiryOf(timeout), now()));
        } else if (operation === 2) {
          const expected = model.incr(key, 2, now());
          if (expected === undefined) await expect(cache.incr(key, 2), context).rejects.toBeInstanceOf(KeyNotFoundError);
          else expect(await cache.incr(key, 2), context).toBe(expected);
        } else if (operation === 3) {
          expect(await cache.hasKey(key), context).toBe(model.hasKey(key, now()));
        } else if (operation === 4) {
          expect(await cache.touch(key, timeout), context).toBe(model.touch(key, expiryOf(timeout), now()));
        } else if (operation === 5) {
          expect(await cache.delete(key), context).toBe(model.delete(key));
        } else if (operation === 6) {
          vi.advanceTimersByTime(next(1500));
        } else if (operation === 7) {
          const batch = [key, `k${next(maxEntries + 6)}`, `k${next(maxEntries + 6)}`];
          const expected = new Map<string, number>();
          for (const each of batch) {
            const value = model.get(each, now());
            if (value !== undefined) expected.set(each, value);
          }
          expect(await cache.getMany(batch), context).toEqual(expected);
        } else if (operation === 8) {
          const data = Object.fromEntries([key, `k${next(maxEntries + 6)}`].map((each) => [each, step]));
          await cache.setMany(data, timeout);
          for (const each of Object.keys(data)) model.set(each, step, expiryOf(timeout));
        } else {
          expect(await cache.get(key), context).toBe(model.get(key, now()));
        }
        expect([...storeFor(location).keysByRecency()], context).toEqual(model.recency().map((made) => `:1:${made}`));
      }
    });
  }
});
