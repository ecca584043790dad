import { afterEach, describe, expect, it } from 'vitest';
import { CacheKeyWarning } from './errors';
import { defaultKeyFunction, emitCacheKeyWarning, memcacheKeyWarnings, resetCacheKeyWarnings } from './keys';

describe('defaultKeyFunction', () => {
  it('joins prefix, version and key with colons, as Django does', () => {
    expect(defaultKeyFunction('foo', '', 1)).toBe(':1:foo');
    expect(defaultKeyFunction('foo', 'site', 2)).toBe('site:2:foo');
    expect(defaultKeyFunction('a:b', 'p', 10)).toBe('p:10:a:b');
  });
});

describe('memcacheKeyWarnings (Django test vectors)', () => {
  it('accepts ordinary keys, non-ASCII included', () => {
    expect(memcacheKeyWarnings(':1:ok-key_1')).toEqual([]);
    expect(memcacheKeyWarnings(':1:清')).toEqual([]);
    expect(memcacheKeyWarnings('a'.repeat(250))).toEqual([]);
  });

  it('flags spaces and control characters with the key in Python repr', () => {
    expect(memcacheKeyWarnings('key with spaces and 清')).toEqual([
      "Cache key contains characters that will cause errors if used with memcached: 'key with spaces and 清'",
    ]);
    expect(memcacheKeyWarnings('tab\there')).toEqual([
      "Cache key contains characters that will cause errors if used with memcached: 'tab\\there'",
    ]);
    expect(memcacheKeyWarnings('del\x7f')).toEqual([
      "Cache key contains characters that will cause errors if used with memcached: 'del\\x7f'",
    ]);
  });

  it('flags keys longer than 250 code points, not UTF-16 units', () => {
    const key = 'a'.repeat(250) + '清';
    expect(memcacheKeyWarnings(key)).toEqual([`Cache key will cause errors if used with memcached: '${key}' (longer than 250)`]);
    // 249 characters + one astral character: 251 UTF-16 units but 250 code points.
    expect(memcacheKeyWarnings('a'.repeat(249) + '😀')).toEqual([]);
  });

  it('reports length first, then characters', () => {
    const key = ' '.repeat(251);
    expect(memcacheKeyWarnings(key)).toEqual([
      `Cache key will cause errors if used with memcached: '${key}' (longer than 250)`,
      `Cache key contains characters that will cause errors if used with memcached: '${key}'`,
    ]);
  });
});

describe('emitCacheKeyWarning', () => {
  const seen: Error[] = [];
  const listener = (warning: Error) => seen.push(warning);
  afterEach(() => {
    process.off('warning', listener);
    seen.length = 0;
    resetCacheKeyWarnings();
  });

  it('emits a CacheKeyWarning once per distinct message until reset', async () => {
    process.on('warning', listener);
    emitCacheKeyWarning('first');
    emitCacheKeyWarning('first');
    emitCacheKeyWarning('second');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.map((warning) => warning.message)).toEqual(['first', 'second']);
    expect(seen[0]).toBeInstanceOf(CacheKeyWarning);
    expect(seen[0]!.name).toBe('CacheKeyWarning');
    resetCacheKeyWarnings();
    emitCacheKeyWarning('first');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(3);
  });
});
