import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnknownCacheOptionError, ValueTooLargeError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { FileCache } from '../src/index';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cachette-file-config-'));
  // The file scheme's backend, from these sources rather than the built package.
  registerCacheScheme('file', FileCache);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('FileCache configuration with unknown names', () => {
  it("refuses options: { maxEntriez: 5 }, suggesting 'maxEntries' and listing the known options", async () => {
    const construct = () => new FileCache({ location: directory, options: { maxEntriez: 5 } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow("Unknown option 'maxEntriez' for FileCache (did you mean 'maxEntries'?). Known options: cullFrequency, maxEntries, maxValueBytes, serializer");
    await expect(createCache({ backend: FileCache, location: directory, options: { serialiser: 'json' } })).rejects.toThrow("(did you mean 'serializer'?)");
  });

  it('refuses an unknown URL query parameter before touching the directory', async () => {
    const cacheDirectory = join(directory, 'cache');
    await expect(createCache(`file://${cacheDirectory}?cull_frequncy=2`)).rejects.toThrow(
      `Unknown query parameter 'cull_frequncy' in the cache URL 'file://${cacheDirectory}?cull_frequncy=2' (did you mean 'cull_frequency'?). ` +
        'Known query parameters: timeout, key_prefix, version, stats, cull_frequency, max_entries, max_value_bytes, serializer',
    );
    expect(await readdir(directory)).toEqual([]);
  });

  it('still takes every option it knows by URL', async () => {
    const cache = (await createCache(`file://${directory}?max_entries=2&cull_frequency=0&serializer=json&max_value_bytes=10`)) as FileCache;
    await cache.setMany({ a: 1, b: 2, c: 3 });
    // Full at two entries with cullFrequency 0: the third write cleared the directory first.
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(new Map([['c', 3]]));
    // JSON of 'x' * 9 is 11 bytes.
    await expect(cache.set('long', 'x'.repeat(9))).rejects.toBeInstanceOf(ValueTooLargeError);
  });

  it.each([0, -1, 1.5, 'many', Number.POSITIVE_INFINITY])('refuses maxValueBytes %s with a TypeError', (maxValueBytes) => {
    expect(() => new FileCache({ location: directory, options: { maxValueBytes: maxValueBytes as number } })).toThrow(/maxValueBytes must be a positive integer/);
  });
});
