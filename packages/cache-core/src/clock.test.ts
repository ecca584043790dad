import { afterEach, describe, expect, it, vi } from 'vitest';
import { expiryClockMs } from './clock';
import { nowInSeconds } from './timeouts';
import { MapCache } from './test-map-cache';

/** Spins until the real clock has moved by `ms` (no timer: the macrotask goes on). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the expiry clock', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('reuses one reading within a macrotask, and reads again in the next one', async () => {
    await nextMacrotask();
    const first = expiryClockMs();
    spin(5);
    expect(expiryClockMs()).toBe(first);
    await nextMacrotask();
    expect(expiryClockMs()).toBeGreaterThanOrEqual(first + 5);
  });

  it('reads again after 1024 reuses, however long the macrotask runs', async () => {
    await nextMacrotask();
    const first = expiryClockMs();
    spin(5);
    const readings = Array.from({ length: 1025 }, () => expiryClockMs());
    expect(readings.slice(0, 1024).every((reading) => reading === first)).toBe(true);
    expect(readings[1024]).toBeGreaterThanOrEqual(first + 5);
  });

  it('follows fake timers and setSystemTime at once, within the macrotask', () => {
    expiryClockMs();
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    expect(nowInSeconds()).toBe(Date.UTC(2030, 0, 1) / 1000);
    vi.setSystemTime(new Date('2030-01-01T00:00:10Z'));
    expect(nowInSeconds()).toBe(Date.UTC(2030, 0, 1) / 1000 + 10);
    vi.advanceTimersByTime(500);
    expect(nowInSeconds()).toBe(Date.UTC(2030, 0, 1) / 1000 + 10.5);
  });

  it('follows a spy on Date.now', () => {
    expiryClockMs();
    vi.spyOn(Date, 'now').mockReturnValue(1234);
    expect(expiryClockMs()).toBe(1234);
  });

  it('lets an entry expire under fake timers without leaving the macrotask', async () => {
    vi.useFakeTimers();
    const cache = new MapCache();
    await cache.set('k', 'v', 10);
    expect(await cache.get('k')).toBe('v');
    vi.setSystemTime(Date.now() + 10_001);
    expect(await cache.get('k')).toBeUndefined();
  });
});
