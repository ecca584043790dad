import { describe, expect, it } from 'vitest';
import { LruStore, NEVER, storeFor } from './lru';

function storeWith(keys: string[]): LruStore {
  const store = new LruStore();
  for (const key of keys) store.set(key, `value of ${key}`, NEVER);
  return store;
}

describe('LruStore', () => {
  it('keeps entries from the most to the least recently used', () => {
    const store = storeWith(['a', 'b', 'c']);
    expect([...store.keysByRecency()]).toEqual(['c', 'b', 'a']);
    store.markUsed(store.slotOf('a')!);
    expect([...store.keysByRecency()]).toEqual(['a', 'c', 'b']);
    store.set('b', 'new', NEVER);
    expect([...store.keysByRecency()]).toEqual(['b', 'a', 'c']);
    expect(store.values[store.slotOf('b')!]).toBe('new');
    expect(store.size).toBe(3);
  });

  it('removes the least recently used entries first, and no more than it holds', () => {
    const store = storeWith(['a', 'b', 'c', 'd']);
    store.removeOldest(2);
    expect([...store.keysByRecency()]).toEqual(['d', 'c']);
    store.removeOldest(10);
    expect(store.size).toBe(0);
    expect([...store.keysByRecency()]).toEqual([]);
  });

  it('unlinks entries from the middle and both ends', () => {
    const store = storeWith(['a', 'b', 'c', 'd', 'e']);
    for (const key of ['c', 'e', 'a']) store.remove(store.slotOf(key)!);
    expect([...store.keysByRecency()]).toEqual(['d', 'b']);
    expect(store.slotOf('c')).toBeUndefined();
  });

  it('reuses freed slots and clears what they held', () => {
    const store = storeWith(['a', 'b']);
    const freed = store.slotOf('a')!;
    store.remove(freed);
    expect(store.keyAt(freed)).toBeUndefined();
    expect(store.values[freed]).toBeUndefined();
    store.set('c', 3, 10);
    expect(store.slotOf('c')).toBe(freed);
    expect(store.expiries[freed]).toBe(10);
  });

  it('grows past its initial capacity and keeps the order', () => {
    const keys = Array.from({ length: 1000 }, (_, index) => `k${index}`);
    const store = storeWith(keys);
    expect(store.size).toBe(1000);
    expect([...store.keysByRecency()]).toEqual([...keys].reverse());
    for (const key of keys) expect(store.values[store.slotOf(key)!]).toBe(`value of ${key}`);
  });

  it('forgets a settled value when the value changes or the slot is freed', () => {
    const store = storeWith(['a']);
    const slot = store.slotOf('a')!;
    store.settledValues[slot] = Promise.resolve('value of a');
    store.replaceValue(slot, 'changed');
    expect(store.settledValues[slot]).toBeUndefined();
    store.settledValues[slot] = Promise.resolve('changed');
    store.remove(slot);
    expect(store.settledValues[slot]).toBeUndefined();
  });

  it('starts over on clear', () => {
    const store = storeWith(['a', 'b']);
    store.clear();
    expect(store.size).toBe(0);
    store.set('c', 1, NEVER);
    expect([...store.keysByRecency()]).toEqual(['c']);
  });
});

describe('storeFor', () => {
  it('gives one store per location', () => {
    expect(storeFor('lru-test-one')).toBe(storeFor('lru-test-one'));
    expect(storeFor('lru-test-one')).not.toBe(storeFor('lru-test-two'));
  });
});
