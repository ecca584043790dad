import { describe, expect, it } from 'vitest';
import { HashRing, hashTag } from './ring';

const keys = Array.from({ length: 10_000 }, (_, i) => `key:${i}`);
const ringOf = (names: string[]): HashRing<string> => new HashRing(names.map((name) => ({ name, node: name })));

describe('HashRing', () => {
  it('spreads keys roughly evenly over the nodes', () => {
    const ring = ringOf(['a:6379', 'b:6379', 'c:6379']);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.nodeFor(key), (counts.get(ring.nodeFor(key)) ?? 0) + 1);
    for (const count of counts.values()) expect(count).toBeGreaterThan(2500);
    expect(counts.size).toBe(3);
  });

  it('does not depend on the order of the server list', () => {
    const forward = ringOf(['a:6379', 'b:6379', 'c:6379']);
    const backward = ringOf(['c:6379', 'b:6379', 'a:6379']);
    expect(keys.every((key) => forward.nodeFor(key) === backward.nodeFor(key))).toBe(true);
  });

  it('moves only the keys the new node takes when a node is added', () => {
    const before = ringOf(['a:6379', 'b:6379', 'c:6379']);
    const after = ringOf(['a:6379', 'b:6379', 'c:6379', 'd:6379']);
    const moved = keys.filter((key) => before.nodeFor(key) !== after.nodeFor(key));
    expect(moved.every((key) => after.nodeFor(key) === 'd:6379')).toBe(true);
    expect(moved.length).toBeLessThan(keys.length * 0.4);
  });

  it('routes by hash tag, Redis Cluster style', () => {
    const ring = ringOf(['a', 'b', 'c', 'd', 'e']);
    expect(new Set(Array.from({ length: 50 }, (_, i) => ring.nodeFor(`{order:9}:${i}`))).size).toBe(1);
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('{}x')).toBe('{}x');
    expect(hashTag('plain')).toBe('plain');
  });

  it('refuses an empty ring', () => {
    expect(() => ringOf([])).toThrow(RangeError);
  });
});
