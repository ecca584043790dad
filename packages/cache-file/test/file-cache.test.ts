import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyNotFoundError, NonNumericValueError, ValueTooLargeError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { FileCache, type FileCacheParams } from '../src/index';
import { HEADER_LENGTH } from '../src/entry-format';
import { DEFAULT_MAX_VALUE_BYTES } from '../src/file-cache';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'cachette-file-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function fileCache(params: FileCacheParams = {}): FileCache {
  return new FileCache({ location: directory, ...params });
}

async function cacheFileNames(): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.cachette'));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('FileCache: files', () => {
  it('stores each key in a file named by the md5 of the made key, with a header and a compressed body', async () => {
    const cache = fileCache();
    await cache.set('../../etc/passwd', 'x'.repeat(10_000));
    const expectedName = createHash('md5').update(':1:../../etc/passwd').digest('hex') + '.cachette';
    expect(await readdir(directory)).toEqual([expectedName]);
    const contents = await readFile(join(directory, expectedName));
    expect(contents.subarray(0, 4)).toEqual(Buffer.from('CCF\x01', 'latin1'));
    expect(contents.length).toBeLessThan(1000);
    expect(await cache.get('../../etc/passwd')).toBe('x'.repeat(10_000));
  });

  it('creates the directory and its missing parents with mode 0700, files with 0600', async () => {
    const nested = join(directory, 'nested', 'filebasedcache');
    const cache = new FileCache({ location: nested });
    await cache.set('key', 'value');
    for (const path of [join(directory, 'nested'), nested]) expect((await stat(path)).mode & 0o777).toBe(0o700);
    const [name] = await readdir(nested);
    expect((await stat(join(nested, name!))).mode & 0o777).toBe(0o600);
  });

  it('recreates the directory when it was removed', async () => {
    const cache = fileCache();
    await rm(directory, { recursive: true });
    await cache.set('key', 'value');
    expect(await cache.get('key')).toBe('value');
  });

  it('clear() removes cache files only, keeping foreign files and the directory', async () => {
    const cache = fileCache();
    await writeFile(join(directory, 'notes.txt'), 'mine');
    await writeFile(join(directory, 'not-a-hash.cachette'), 'mine too');
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.clear();
    expect((await readdir(directory)).sort()).toEqual(['not-a-hash.cachette', 'notes.txt']);
  });

  it('getMany of thousands of keys reads them all', async () => {
    const cache = fileCache({ options: { maxEntries: 10_000 } });
    const keys = Array.from({ length: 3000 }, (_, index) => `many${index}`);
    await cache.setMany(Object.fromEntries(keys.filter((_, index) => index % 2 === 0).map((key) => [key, key])));
    const found = await cache.getMany(keys);
    expect(found.size).toBe(1500);
    expect(found.get('many2998')).toBe('many2998');
  });

  it('reads a missing directory as an empty cache', async () => {
    const cache = new FileCache({ location: join(directory, 'absent') });
    expect(await cache.get('key', 'default')).toBe('default');
    expect(await cache.hasKey('key')).toBe(false);
    await cache.clear();
  });

  it('rejects a relative or missing location with a TypeError naming the problem', () => {
    expect(() => new FileCache({ location: 'relative/dir' })).toThrow(/absolute directory/);
    expect(() => new FileCache({})).toThrow(TypeError);
  });

  it('is created from a file:// URL through the registry', async () => {
    // In an application the file: scheme loads this package by name; the test hands the class over.
    registerCacheScheme('file', FileCache);
    const cache = (await createCache(`file://${directory}/from-url?max_entries=2&cull_frequency=0&timeout=60`)) as FileCache;
    expect([cache.directory, cache.defaultTimeout]).toEqual([join(directory, 'from-url'), 60]);
    for (const key of ['a', 'b', 'c']) await cache.set(key, key);
    // At 2 files, cullFrequency 0 removes them all before the third is written.
    expect([...(await cache.getMany(['a', 'b', 'c'])).keys()]).toEqual(['c']);
  });
});

describe('FileCache: damaged files', () => {
  async function storeThenReplace(replace: (contents: Buffer) => Buffer): Promise<FileCache> {
    const cache = fileCache();
    await cache.set('key', { some: 'value', list: [1, 2, 3] });
    const path = cache.filePath(cache.makeKey('key'));
    await writeFile(path, replace(await readFile(path)));
    return cache;
  }

  it.each([
    ['an empty file', () => Buffer.alloc(0)],
    ['a truncated header', (contents: Buffer) => contents.subarray(0, 7)],
    ['a truncated body', (contents: Buffer) => contents.subarray(0, contents.length - 3)],
    ['a damaged body', (contents: Buffer) => Buffer.concat([contents.subarray(0, HEADER_LENGTH), Buffer.from('garbage!')])],
    ['a foreign format', () => Buffer.from('\x80\x05\x95 a pickle, say')],
    ['a newer format version', (contents: Buffer) => Buffer.concat([Buffer.from('CCF\x02', 'latin1'), contents.subarray(4)])],
  ])('reads %s as a miss and removes it', async (_, replace) => {
    const cache = await storeThenReplace(replace);
    expect(await cache.get('key', 'default')).toBe('default');
    expect(await cacheFileNames()).toEqual([]);
    await cache.set('key', 'fresh');
    expect(await cache.get('key')).toBe('fresh');
  });

  it('has, touch and incr treat a damaged file as missing', async () => {
    const cache = await storeThenReplace((contents) => contents.subarray(0, 5));
    expect(await cache.hasKey('key')).toBe(false);
    await storeThenReplace((contents) => contents.subarray(0, 5));
    expect(await cache.touch('key', 100)).toBe(false);
    await storeThenReplace((contents) => contents.subarray(0, 5));
    await expect(cache.incr('key')).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(await cacheFileNames()).toEqual([]);
  });

  it('ttl reads a file with a sound header but a damaged body as missing, and removes it, as get does', async () => {
    const cache = await storeThenReplace((contents) => Buffer.concat([contents.subarray(0, HEADER_LENGTH), Buffer.from('garbage!')]));
    expect(await cache.ttl('key')).toBeUndefined();
    expect(await cacheFileNames()).toEqual([]);
    await storeThenReplace((contents) => contents.subarray(0, 5));
    expect(await cache.ttl('key')).toBeUndefined();
    expect(await cacheFileNames()).toEqual([]);
  });

  it('rejects with the filesystem error when a cache file cannot be read', async () => {
    const cache = fileCache();
    // A directory where the cache file should be: open succeeds, reading fails with EISDIR.
    await mkdir(cache.filePath(cache.makeKey('key')));
    await expect(cache.get('key')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(cache.set('key', 1)).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|EEXIST|ENOTEMPTY/) });
  });

  it('rejects writes when the directory is not writable', async () => {
    // Root ignores permission bits; a file where the directory should be fails for everyone.
    const blocked = join(directory, 'blocked');
    await writeFile(blocked, 'a file, not a directory');
    const cache = new FileCache({ location: join(blocked, 'cache') });
    await expect(cache.set('key', 1)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('FileCache: maxValueBytes', () => {
  /** JSON, so a value's serialized size is plain: a string of n characters takes n + 2 bytes. */
  const boundedCache = (): FileCache => fileCache({ options: { serializer: 'json', maxValueBytes: 100 } });

  it('stores a value of exactly maxValueBytes serialized and refuses one byte more, writing nothing', async () => {
    const cache = boundedCache();
    await cache.set('key', 'x'.repeat(98));
    expect(await cache.get('key')).toBe('x'.repeat(98));
    await expect(cache.set('key', 'y'.repeat(99))).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(cache.add('other', 'y'.repeat(99))).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(cache.setMany({ small: 1, large: 'y'.repeat(99) })).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await cache.get('key')).toBe('x'.repeat(98));
    expect(await cacheFileNames()).toHaveLength(1);
  });

  /** Replaces the body of `key`'s file with `inflatedSize` compressed zero bytes: a zip bomb, in small. */
  async function plantInflatingBody(cache: FileCache, key: string, inflatedSize: number): Promise<void> {
    await cache.set(key, 'value');
    const path = cache.filePath(cache.makeKey(key));
    const header = (await readFile(path)).subarray(0, HEADER_LENGTH);
    await writeFile(path, Buffer.concat([header, deflateSync(Buffer.alloc(inflatedSize))]));
  }

  it('reads a body that inflates past maxValueBytes as a damaged file: get, hasKey, ttl and incr miss and remove it', async () => {
    const cache = boundedCache();
    await plantInflatingBody(cache, 'key', 101);
    expect(await cache.get('key', 'default')).toBe('default');
    expect(await cacheFileNames()).toEqual([]);
    await plantInflatingBody(cache, 'key', 101);
    expect(await cache.hasKey('key')).toBe(false);
    await plantInflatingBody(cache, 'key', 101);
    expect(await cache.ttl('key')).toBeUndefined();
    await plantInflatingBody(cache, 'key', 101);
    await expect(cache.incr('key')).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(await cacheFileNames()).toEqual([]);
  });

  it(`bounds reads by default at ${DEFAULT_MAX_VALUE_BYTES} bytes: a file of under 100 KiB inflating past it is a miss`, async () => {
    const cache = fileCache();
    await plantInflatingBody(cache, 'key', DEFAULT_MAX_VALUE_BYTES + 1);
    expect((await stat(cache.filePath(cache.makeKey('key')))).size).toBeLessThan(100 * 1024);
    expect(await cache.get('key', 'default')).toBe('default');
    expect(await cacheFileNames()).toEqual([]);
  });
});

describe('FileCache: expiry, touch and incr', () => {
  it('removes an expired file when reading it', async () => {
    const cache = fileCache();
    await cache.set('key', 'value', 0.2);
    await sleep(400);
    expect(await cache.get('key')).toBe(undefined);
    expect(await cacheFileNames()).toEqual([]);
  });

  it('touch rewrites the expiry in place and keeps the value', async () => {
    const cache = fileCache();
    await cache.set('key', 'value', 1);
    expect(await cache.touch('key', null)).toBe(true);
    await sleep(1200);
    expect(await cache.get('key')).toBe('value');
    expect(await cache.touch('key', 0.2)).toBe(true);
    await sleep(400);
    expect(await cache.touch('key', 100)).toBe(false);
    expect(await cacheFileNames()).toEqual([]);
  });

  it('ttl gives the expiry of the header as seconds left, null for never, undefined once expired', async () => {
    const cache = fileCache();
    await cache.set('key', 'value', 10);
    await cache.set('forever', 'value', null);
    const left = await cache.ttl('key');
    expect(left).toBeGreaterThan(9);
    expect(left).toBeLessThanOrEqual(10);
    expect(await cache.ttl('forever')).toBeNull();
    expect(await cache.touch('key', 0.2)).toBe(true);
    await sleep(400);
    expect(await cache.ttl('key')).toBeUndefined();
    expect(await cacheFileNames()).toHaveLength(1);
  });

  it('incr keeps the expiry and rejects a value that is not an integer', async () => {
    const cache = fileCache();
    await cache.set('counter', 1, 1);
    expect(await cache.incr('counter', 5)).toBe(6);
    await sleep(1200);
    expect(await cache.get('counter')).toBe(undefined);
    await cache.set('text', 'one');
    await expect(cache.incr('text')).rejects.toBeInstanceOf(NonNumericValueError);
  });
});

describe('FileCache: storeStats', () => {
  it('counts the cache files of the directory (every prefix, expired ones not yet read) and sums their sizes', async () => {
    const cache = fileCache({ options: { maxEntries: 100 } });
    expect(await cache.storeStats()).toEqual({ entries: 0, bytes: 0, maxEntries: 100 });
    await cache.setMany({ a: 1, b: 'x'.repeat(5000), c: { nested: [1, 2] } });
    await fileCache({ keyPrefix: 'other' }).set('a', 1, 0.1);
    // Neither foreign files nor names like a cache file's lock or temporary file count.
    await writeFile(join(directory, 'notes.txt'), 'mine');
    await writeFile(join(directory, 'not-a-hash.cachette'), 'mine too');
    await writeFile(join(directory, `${'0'.repeat(32)}.cachette.lock`), '');
    await writeFile(join(directory, `${'0'.repeat(32)}.cachette.0123456789ab.tmp`), 'half written');
    await sleep(200);
    const names = await readdir(directory);
    const sizes = await Promise.all(names.filter((name) => /^[0-9a-f]{32}\.cachette$/.test(name)).map(async (name) => (await stat(join(directory, name))).size));
    expect(sizes).toHaveLength(4);
    const stats = await cache.storeStats();
    expect(stats).toEqual({ entries: 4, bytes: sizes.reduce((sum, size) => sum + size, 0), maxEntries: 100 });
    expect(Object.keys(stats)).toEqual(['entries', 'bytes', 'maxEntries']);
    expect(stats.bytes).toBeGreaterThan(4 * HEADER_LENGTH);
    await cache.delete('b');
    expect((await cache.storeStats()).entries).toBe(3);
    // Reading the expired file removes it.
    expect(await fileCache({ keyPrefix: 'other' }).get('a')).toBeUndefined();
    expect((await cache.storeStats()).entries).toBe(2);
  });

  it('reports an empty store for a missing directory, and rejects with the filesystem error for one it cannot read', async () => {
    expect(await new FileCache({ location: join(directory, 'never-written') }).storeStats()).toEqual({ entries: 0, bytes: 0, maxEntries: 300 });
    await writeFile(join(directory, 'a-file'), '');
    await expect(new FileCache({ location: join(directory, 'a-file') }).storeStats()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('FileCache: culling', () => {
  async function fill(cache: FileCache, count: number): Promise<void> {
    for (let index = 1; index < count; index++) await cache.set(`cull${index}`, 'value', 1000);
  }

  it('removes a random third of the files once maxEntries is reached (Django: 29 of 49 left)', async () => {
    await fill(fileCache({ options: { maxEntries: 30 } }), 50);
    expect((await cacheFileNames()).length).toBe(29);
  });

  it('clears every file with cullFrequency 0 (Django: 19 of 49 left)', async () => {
    await fill(fileCache({ options: { maxEntries: 30, cullFrequency: 0 } }), 50);
    expect((await cacheFileNames()).length).toBe(19);
  });

  it('counts the writes of every cache of the process on the directory: the one that reaches maxEntries culls', async () => {
    const [one, other] = [fileCache({ options: { maxEntries: 4 } }), fileCache({ options: { maxEntries: 4 } })];
    for (const key of ['a', 'b']) await one.set(key, 'value');
    for (const key of ['c', 'd']) await other.set(key, 'value');
    expect((await cacheFileNames()).length).toBe(4);
    // Django: 4 files at the write, so a third go (1), then the new one: 4.
    await one.set('e', 'value');
    expect((await cacheFileNames()).length).toBe(4);
  });

  it("sees files other processes wrote once its last count is a second old, and not before", async () => {
    const cache = fileCache({ options: { maxEntries: 4 } });
    await cache.set('mine', 'value');
    // Three files of another process, as it would write them (same format, other keys).
    const [own] = await cacheFileNames();
    const contents = await readFile(join(directory, own!));
    for (const name of ['1', '2', '3']) await writeFile(join(directory, `${createHash('md5').update(name).digest('hex')}.cachette`), contents);
    await cache.set('within the second', 'value');
    expect((await cacheFileNames()).length).toBe(5);
    await sleep(1100);
    await cache.set('after it', 'value');
    // Counted again: 5 files, a third of them (1) culled, then the new one.
    expect((await cacheFileNames()).length).toBe(5);
    await cache.set('once more', 'value');
    expect((await cacheFileNames()).length).toBeLessThanOrEqual(5);
  });

  it('culls randomly, not by age', async () => {
    const cache = fileCache({ options: { maxEntries: 30 } });
    await fill(cache, 32);
    // After the cull at the 31st set, the survivors of the first 30 are a random two thirds.
    const survivors = await cache.getMany(Array.from({ length: 30 }, (_, index) => `cull${index + 1}`));
    expect(survivors.size).toBe(20);
    const keys = [...survivors.keys()];
    expect(keys).not.toEqual(Array.from({ length: 20 }, (_, index) => `cull${index + 11}`));
  });
});

describe('FileCache: concurrency', () => {
  const execFileAsync = promisify(execFile);

  async function runWorker(mode: string, workerId: number, rounds: number): Promise<Record<string, unknown>> {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', join('test', 'concurrent-worker.ts'), directory, mode, String(workerId), String(rounds)], {
      cwd: packageDirectory,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(packageDirectory, 'test', 'tsconfig.child.json') },
      maxBuffer: 1024 * 1024,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  it('readers in other processes see whole values while several processes rewrite one key', async () => {
    await runWorker('write', 0, 1);
    const results = await Promise.all([1, 2, 3].map((id) => runWorker('write', id, 40)).concat([runWorker('read', 0, 120)]));
    expect(results.at(-1)).toEqual({ whole: 120, torn: 0, missing: 0 });
    expect((await cacheFileNames()).length).toBe(1);
    expect((await readdir(directory)).length).toBe(1);
  });

  it('exactly one of several processes adding one key succeeds', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((id) => runWorker('add', id, 1)));
    const winners = results.filter((result) => result.added === true);
    expect(winners.length).toBe(1);
    expect(await fileCache().get('contested')).toBe([1, 2, 3, 4][results.indexOf(winners[0]!)]);
  });

  it('increments from several processes at once lose no update', async () => {
    const cache = fileCache();
    await cache.set('counter', 0);
    await Promise.all([1, 2, 3].map((id) => runWorker('incr', id, 30)));
    expect(await cache.get('counter')).toBe(90);
    expect(await readdir(directory)).toEqual([cache.filePath(cache.makeKey('counter')).slice(directory.length + 1)]);
  });

  it('an increment breaks a lock left behind by a crashed process', async () => {
    const cache = fileCache();
    await cache.set('counter', 1);
    const lockPath = `${cache.filePath(cache.makeKey('counter'))}.lock`;
    await writeFile(lockPath, '');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    expect(await cache.incr('counter')).toBe(2);
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exactly one of many concurrent adds in one process succeeds, and an expired entry can be added over', async () => {
    const cache = fileCache();
    const added = await Promise.all(Array.from({ length: 20 }, (_, index) => cache.add('key', index)));
    expect(added.filter(Boolean).length).toBe(1);
    expect(await cache.get('key')).toBe(added.indexOf(true));
    await cache.set('stale', 'old', 0.1);
    await sleep(300);
    expect(await cache.add('stale', 'new')).toBe(true);
    expect(await cache.get('stale')).toBe('new');
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
