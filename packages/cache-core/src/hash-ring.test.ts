import { describe, expect, it } from 'vitest';
import { ringPointIndex } from './hash-ring';

describe('ringPointIndex', () => {
  const points = Uint32Array.from([10, 20, 30]);

  it('finds the first point at or after the hash', () => {
    expect(ringPointIndex(points, 0)).toBe(0);
    expect(ringPointIndex(points, 10)).toBe(0);
    expect(ringPointIndex(points, 11)).toBe(1);
    expect(ringPointIndex(points, 30)).toBe(2);
  });

  it('wraps past the last point to the first', () => {
    expect(ringPointIndex(points, 31)).toBe(0);
    expect(ringPointIndex(points, 0xffffffff)).toBe(0);
  });
});
