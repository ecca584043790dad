import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SwallowedErrorMessage } from '../observe/channels';
import { MapCache } from '../test-map-cache';
import { isStaleEnvelope, unwrapStale, wrapStale } from './stale-while-revalidate';

/** A factory that counts its runs and resolves after `delay` ms. */
function slowFactory<T>(value: T, delay = 20) {
  const factory = Object.assign(
    async (): Promise<T> => {
      factory.runs++;
      await new Promise((resolve) => setTimeout(resolve, delay));
      return value;
    },
    { runs: 0 },
  );
  return factory;
}

/** Two caches over one map: two processes sharing a store, as far as locks go. */
function sharedPair(): [MapCache, MapCache] {
  const first = new MapCache();
  const second = new MapCache();
  (second as unknown as { entries: unknown }).entries = first.entries;
  return [first, second];
}

afterEach(() => vi.useRealTimers());

describe('getOrSet: one computation', () => {
  it('200 concurrent callers in one process run the factory once, with or without a lock', async () => {
    for (const options of [{}, { lock: true }]) {
      const cache = new MapCache();
      const factory = slowFactory('value');
      const values = await Promise.all(Array.from({ length: 200 }, () => cache.getOrSet('key', factory, 60, undefined, options)));
      expect(factory.runs).toBe(1);
      expect(new Set(values)).toEqual(new Set(['value']));
    }
  });

  it('with a lock, callers on another cache over the same store wait for the holder instead of computing', async () => {
    const [first, second] = sharedPair();
    const factory = slowFactory('once', 60);
    const values = await Promise.all([
      ...Array.from({ length: 25 }, () => first.getOrSet('key', factory, 60, undefined, { lock: true })),
      ...Array.from({ length: 25 }, () => second.getOrSet('key', factory, 60, undefined, { lock: true })),
    ]);
    expect(factory.runs).toBe(1);
    expect(new Set(values)).toEqual(new Set(['once']));
    expect(first.entries.has(':1:key:lock')).toBe(false);
  });

  it('without a lock, each cache computes (Django: only the first add is kept)', async () => {
    const [first, second] = sharedPair();
    const factory = slowFactory('many', 30);
    await Promise.all([first.getOrSet('key', factory, 60), second.getOrSet('key', factory, 60)]);
    expect(factory.runs).toBe(2);
  });

  it("the factory's error reaches every caller of the process, nothing is cached and the lock is freed", async () => {
    const cache = new MapCache();
    const failing = Object.assign(
      async () => {
        failing.runs++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new Error('database down');
      },
      { runs: 0 },
    );
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrSet('key', failing, 60, undefined, { lock: true })));
    expect(failing.runs).toBe(1);
    expect(results.every((result) => result.status === 'rejected' && (result.reason as Error).message === 'database down')).toBe(true);
    expect(cache.entries.size).toBe(0);
    expect(await cache.getOrSet('key', () => 'recovered', 60, undefined, { lock: true })).toBe('recovered');
  });

  it('a waiter takes over once the holder died and its lock expired (after ttl)', async () => {
    const [dead, alive] = sharedPair();
    // The dead holder's lock: taken, never released.
    await dead.add('key:lock', 'someone', 0.3);
    const started = Date.now();
    const value = await alive.getOrSet('key', () => 'mine', 60, undefined, { lock: { ttl: 5, wait: 5 } });
    const waited = Date.now() - started;
    expect(value).toBe('mine');
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
  });

  it('after wait, a waiter computes itself even while the lock is held', async () => {
    const [holder, waiter] = sharedPair();
    await holder.add('key:lock', 'someone', 30);
    const factory = slowFactory('impatient', 1);
    expect(await waiter.getOrSet('key', factory, 60, undefined, { lock: { ttl: 30, wait: 0.1 } })).toBe('impatient');
    expect(factory.runs).toBe(1);
  });

  it('refuses bad options with a TypeError', async () => {
    const cache = new MapCache();
    await expect(cache.getOrSet('k', 1, 60, undefined, { lock: { ttl: 0 } })).rejects.toThrow('getOrSet option lock.ttl must be a positive number of seconds');
    await expect(cache.getOrSet('k', 1, 60, undefined, { lock: { wait: -1 } })).rejects.toThrow('lock.wait');
    await expect(cache.getOrSet('k', 1, 60, undefined, { staleWhileRevalidate: Number.NaN })).rejects.toThrow('staleWhileRevalidate');
    await expect(cache.getOrSet('k', 1, 60, undefined, { jitter: 1 })).rejects.toThrow('jitter must be a fraction');
  });
});

describe('getOrSet: stale-while-revalidate', () => {
  it('past the timeout serves the stored value and refreshes it once in the background', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new MapCache();
    let version = 0;
    const factory = vi.fn(async () => `v${++version}`);
    expect(await cache.getOrSet('key', factory, 10, undefined, { staleWhileRevalidate: 30 })).toBe('v1');
    vi.setSystemTime(Date.now() + 15_000);
    const stale = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('key', factory, 10, undefined, { staleWhileRevalidate: 30 })));
    expect(new Set(stale)).toEqual(new Set(['v1']));
    await vi.waitFor(() => expect(factory).toHaveBeenCalledTimes(2));
    await vi.waitFor(async () => expect(await cache.get('key')).toBe('v2'));
    expect(await cache.getOrSet('key', factory, 10, undefined, { staleWhileRevalidate: 30 })).toBe('v2');
    expect(factory).toHaveBeenCalledTimes(2);
    vi.setSystemTime(Date.now() + 45_000);
    expect(await cache.getOrSet('key', factory, 10, undefined, { staleWhileRevalidate: 30 })).toBe('v3');
  });

  it('get, getMany and hasKey see the value, not the envelope; the stored entry lives timeout + stale seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000_000);
    const cache = new MapCache();
    await cache.getOrSet('key', () => ({ id: 7 }), 10, undefined, { staleWhileRevalidate: 20 });
    expect(await cache.get('key')).toEqual({ id: 7 });
    expect(await cache.getMany(['key'])).toEqual(new Map([['key', { id: 7 }]]));
    const stored = cache.entries.get(':1:key')!;
    expect(isStaleEnvelope(stored.value)).toBe(true);
    expect(stored.expires).toBe(1_000_000 + 30);
  });

  it('a refresh that fails keeps the stale value and is published as a swallowed error', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const published: SwallowedErrorMessage[] = [];
    const listener = (message: unknown) => published.push(message as SwallowedErrorMessage);
    subscribe('cachette:swallowed-error', listener);
    try {
      const cache = new MapCache();
      await cache.getOrSet('key', () => 'old', 10, undefined, { staleWhileRevalidate: 30 });
      vi.setSystemTime(Date.now() + 15_000);
      const failing = async (): Promise<string> => {
        throw new Error('upstream down');
      };
      expect(await cache.getOrSet('key', failing, 10, undefined, { staleWhileRevalidate: 30 })).toBe('old');
      await vi.waitFor(() => expect(published.map((message) => message.reason)).toEqual(['refresh']));
      expect(await cache.get('key')).toBe('old');
    } finally {
      unsubscribe('cachette:swallowed-error', listener);
    }
  });

  it('with a lock, a refresh elsewhere in progress is left to its holder', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const [first, second] = sharedPair();
    const factory = vi.fn(async () => 'fresh');
    await first.getOrSet('key', () => 'old', 10, undefined, { staleWhileRevalidate: 30 });
    vi.setSystemTime(Date.now() + 15_000);
    await second.add('key:lock', 'another refresher', 60);
    expect(await first.getOrSet('key', factory, 10, undefined, { staleWhileRevalidate: 30, lock: true })).toBe('old');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(factory).not.toHaveBeenCalled();
  });

  it('envelopes are recognised by their mark only', () => {
    expect(unwrapStale(wrapStale('v', 1))).toBe('v');
    expect(unwrapStale({ value: 'v', freshUntil: 1 })).toEqual({ value: 'v', freshUntil: 1 });
    expect(unwrapStale(null)).toBe(null);
  });
});

describe('getOrSet: jitter', () => {
  it('shortens timeouts by up to the fraction, so keys written together expire apart', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(2_000_000_000);
    const cache = new MapCache();
    for (let index = 0; index < 50; index++) await cache.getOrSet(`key${index}`, index, 100, undefined, { jitter: 0.5 });
    const expiries = [...cache.entries.values()].map((entry) => entry.expires! - 2_000_000);
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...expiries)).toBeLessThanOrEqual(100);
    expect(new Set(expiries.map(Math.round)).size).toBeGreaterThan(10);
  });
});
