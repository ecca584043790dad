/**
 * The owner of `hash` on a consistent-hash ring: the index of the first point at or after it in
 * `points` (sorted ascending), wrapping to 0 past the last one. Shared by the ketama-style rings
 * of the memcached and Redis backends.
 */
export function ringPointIndex(points: Uint32Array, hash: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (points[middle]! < hash) low = middle + 1;
    else high = middle;
  }
  return low === points.length ? 0 : low;
}
