import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SerializationError } from '@cachette/cache-core';
import {
  ONE_WAY_SAMPLES,
  djangoCacheSkipReason,
  djangoPython,
  fromTyped,
  startDjangoCachePeer,
  toTyped,
  type DjangoCachePeer,
} from '@cachette/test-servers';
import { djangoFormat } from '../src/django-format';
import { FileCache, type FileCacheOptions } from '../src/index';

/**
 * One directory shared by a real Django 3.2 `FileBasedCache` and a Cachette `FileCache` with
 * `serializer: 'pickle'`: each reads, increments, expires, touches, deletes, clears and culls
 * the other's files.
 */

const skip = djangoCacheSkipReason();
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEY_PREFIX = 'shared';
const FILE_BACKEND = 'django.core.cache.backends.filebased.FileBasedCache';

/** What Python's own `pickle.load` makes of a file's expiry header, and whether the zlib body after it unpickles. */
async function pythonReadsFile(path: string): Promise<{ expiryType: string; expiry: number | null; body: string }> {
  const script = [
    'import json, pickle, sys, zlib',
    'with open(sys.argv[1], "rb") as f:',
    '    expiry = pickle.load(f)',
    '    body = pickle.loads(zlib.decompress(f.read()))',
    'print(json.dumps({"expiryType": type(expiry).__name__, "expiry": expiry, "body": repr(body)}))',
  ].join('\n');
  const { stdout } = await run(djangoPython(), ['-c', script, path]);
  return JSON.parse(stdout);
}

/** How many bytes of the file follow the end of its zlib stream. */
async function bytesAfterZlibStream(path: string): Promise<number> {
  const contents = await readFile(path);
  const { bodyOffset } = djangoFormat.decodeHeader(contents)!;
  const { engine } = inflateSync(contents.subarray(bodyOffset), { info: true }) as unknown as { engine: { bytesWritten: number } };
  return contents.length - bodyOffset - engine.bytesWritten;
}

/** Writes a Django-format file holding a pickled instance of `uuid.UUID`, which Cachette must refuse. */
async function writeClassInstanceFile(path: string): Promise<void> {
  const script = [
    'import pickle, sys, uuid, zlib',
    'with open(sys.argv[1], "wb") as f:',
    '    f.write(pickle.dumps(None, 5) + zlib.compress(pickle.dumps(uuid.UUID(int=1), 5)))',
  ].join('\n');
  await run(djangoPython(), ['-c', script, path]);
}

describe.skipIf(skip)(`Django's FileBasedCache and FileCache share a directory${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const peers: DjangoCachePeer[] = [];
  const directories: string[] = [];
  let directory: string;
  let peer: DjangoCachePeer;
  let cache: FileCache;

  async function sharedDirectory(name: string, options: FileCacheOptions = {}, djangoOptions: Record<string, unknown> = {}) {
    const location = await mkdtemp(join(tmpdir(), `cachette-django-${name}-`));
    directories.push(location);
    const django = await startDjangoCachePeer({ BACKEND: FILE_BACKEND, LOCATION: location, KEY_PREFIX, OPTIONS: djangoOptions });
    peers.push(django);
    return { location, django, cachette: new FileCache({ location, keyPrefix: KEY_PREFIX, options: { serializer: 'pickle', ...options } }) };
  }

  const cacheFiles = async (location = directory): Promise<string[]> => (await readdir(location)).filter((name) => name.endsWith('.djcache'));

  beforeAll(async () => {
    ({ location: directory, django: peer, cachette: cache } = await sharedDirectory('shared'));
  });
  afterAll(async () => {
    await Promise.all(peers.splice(0).map((django) => django.close()));
    await Promise.all(directories.splice(0).map((location) => rm(location, { recursive: true, force: true })));
  });
  beforeEach(() => peer.clear());

  describe('values', () => {
    it('Cachette reads every sample Django wrote, exactly', async () => {
      const samples = await peer.samples();
      const names = await peer.writeSamples();
      expect(names.sort()).toEqual(Object.keys(samples).sort());
      const found = await cache.getMany(names.map((name) => `sample:${name}`));
      for (const name of names) expect([name, found.get(`sample:${name}`)]).toStrictEqual([name, fromTyped(samples[name]!)]);
    });

    it('Django reads the samples Cachette wrote, all but those JavaScript has no type for', async () => {
      const samples = await peer.samples();
      await cache.setMany(Object.fromEntries(Object.entries(samples).map(([name, typed]) => [`sample:${name}`, fromTyped(typed)])));
      const read = await peer.readSamples();
      const unequal = Object.keys(read).filter((name) => !read[name]!.equal);
      expect(unequal.sort()).toEqual(Object.keys(ONE_WAY_SAMPLES).sort());
    });

    it('both sides name a key’s file md5(made key).djcache, flat in the directory, with a pickled float or None expiry', async () => {
      await peer.set('from-django', toTyped('d'), 100);
      await cache.set('from-cachette', 'c', 100);
      await cache.set('forever', 'f', null);
      const name = (key: string) => createHash('md5').update(`${KEY_PREFIX}:1:${key}`).digest('hex') + '.djcache';
      expect((await readdir(directory)).sort()).toEqual(['from-django', 'from-cachette', 'forever'].map(name).sort());
      expect(cache.filePath(cache.makeKey('from-django'))).toBe(join(directory, name('from-django')));
      const timed = await pythonReadsFile(join(directory, name('from-cachette')));
      expect(timed).toMatchObject({ expiryType: 'float', body: "'c'" });
      expect(timed.expiry! - Date.now() / 1000).toBeGreaterThan(98);
      expect(await pythonReadsFile(join(directory, name('forever')))).toEqual({ expiryType: 'NoneType', expiry: null, body: "'f'" });
      // Files are 0600 in a 0700 directory on both sides.
      for (const file of ['from-django', 'from-cachette'].map(name)) expect((await stat(join(directory, file))).mode & 0o777).toBe(0o600);
    });

    it('the expiry header is a pickle float even for a whole number of seconds', async () => {
      await cache.set('whole', 'w', null);
      const path = cache.filePath(cache.makeKey('whole'));
      const contents = await readFile(path);
      const header = djangoFormat.decodeHeader(contents)!;
      await writeFile(path, Buffer.concat([djangoFormat.encodeHeader(4_000_000_000), contents.subarray(header.bodyOffset)]));
      expect(await pythonReadsFile(path)).toEqual({ expiryType: 'float', expiry: 4_000_000_000, body: "'w'" });
      expect(fromTyped((await peer.get('whole'))!)).toBe('w');
    });
  });

  describe('counters', () => {
    it('each side increments the other’s counter', async () => {
      await peer.set('counter', toTyped(10));
      expect(await cache.incr('counter')).toBe(11);
      expect(await peer.incr('counter', 5)).toBe(16);
      expect(await cache.decr('counter', 2)).toBe(14);
      expect(fromTyped((await peer.get('counter'))!)).toBe(14);

      await cache.set('mine', 100);
      expect(await peer.incr('mine')).toBe(101);
      expect(await cache.incr('mine', 9)).toBe(110);
      expect(await peer.decr('mine', 10)).toBe(100);
      expect(await cache.get('mine')).toBe(100);
    });
  });

  describe('expiry, touch, delete and clear', () => {
    // Short expiries are two seconds, slept past by 2.5: a loaded machine's round trips to the
    // Python peer must not end one before the next step reads or touches it.
    it('an expiry written by one side is honoured by the other', async () => {
      await peer.set('django-short', toTyped('d'), 2);
      await cache.set('cachette-short', 'c', 2);
      await peer.set('django-long', toTyped('d'), 100);
      expect(await cache.get('django-short')).toBe('d');
      expect(fromTyped((await peer.get('cachette-short'))!)).toBe('c');
      const ttl = await cache.ttl('django-long');
      expect(ttl).toBeGreaterThan(98);
      await sleep(2500);
      expect(await cache.get('django-short', 'gone')).toBe('gone');
      expect(await peer.get('cachette-short')).toBeUndefined();
      expect(await cache.hasKey('django-long')).toBe(true);
      expect(await cacheFiles()).toHaveLength(1);
    });

    it('a touch by one side is seen by the other, between None and a float expiry too', async () => {
      // Cachette touches Django's files: float to float (in place) and float to None (rewritten whole).
      await peer.set('kept-by-cachette', toTyped('a'), 2);
      await peer.set('made-forever-by-cachette', toTyped('b'), 2);
      expect(await cache.touch('kept-by-cachette', 100)).toBe(true);
      expect(await cache.touch('made-forever-by-cachette', null)).toBe(true);
      // Django touches Cachette's files: None to a float, and a float to None, which it writes over
      // the old file without truncating it, leaving bytes after the zlib stream.
      await cache.set('expired-by-django', 'c', null);
      await cache.set('made-forever-by-django', { d: [1, 2] }, 2);
      expect(await peer.touch('expired-by-django', 2)).toBe(true);
      expect(await peer.touch('made-forever-by-django', null)).toBe(true);
      expect(await bytesAfterZlibStream(cache.filePath(cache.makeKey('made-forever-by-django')))).toBeGreaterThan(0);
      await sleep(2500);
      expect(fromTyped((await peer.get('kept-by-cachette'))!)).toBe('a');
      expect(fromTyped((await peer.get('made-forever-by-cachette'))!)).toBe('b');
      expect(await cache.get('expired-by-django', 'gone')).toBe('gone');
      expect(await cache.get('made-forever-by-django')).toEqual({ d: [1, 2] });
      expect(await cache.ttl('made-forever-by-django')).toBeNull();
      expect(await peer.touch('expired-by-django')).toBe(false);
      expect(await cache.touch('missing')).toBe(false);
    });

    it('a delete by one side is seen by the other', async () => {
      await peer.set('django', toTyped(1));
      await cache.set('cachette', 2);
      expect(await cache.delete('django')).toBe(true);
      expect(await peer.delete('cachette')).toBe(true);
      expect(await peer.hasKey('django')).toBe(false);
      expect(await cache.hasKey('cachette')).toBe(false);
      expect(await cacheFiles()).toEqual([]);
    });

    it('a clear by either side removes both sides’ files, and only cache files', async () => {
      await writeFile(join(directory, 'notes.txt'), 'mine');
      for (const clear of [() => cache.clear(), () => peer.clear()]) {
        await peer.set('django', toTyped(1));
        await cache.set('cachette', 2, null);
        await clear();
        expect(await cache.get('django')).toBeUndefined();
        expect(await peer.get('cachette')).toBeUndefined();
        expect(await readdir(directory)).toEqual(['notes.txt']);
      }
    });
  });

  it('culling counts the other side’s files, and neither side counts temporary or foreign ones', async () => {
    const shared = await sharedDirectory('cull', { maxEntries: 10, cullFrequency: 2 }, { MAX_ENTRIES: 10, CULL_FREQUENCY: 2 });
    await writeFile(join(shared.location, 'notes.txt'), 'mine');
    await writeFile(join(shared.location, `${'0'.repeat(32)}.djcache.0123456789ab.tmp`), 'half written');
    for (let index = 0; index < 10; index++) await shared.cachette.set(`cachette-${index}`, index);
    expect(await cacheFiles(shared.location)).toHaveLength(10);
    // Django sees 10 files, at its MAX_ENTRIES: it removes 10 / 2 of them, then writes its own.
    await shared.django.set('django-0', toTyped(0));
    expect(await cacheFiles(shared.location)).toHaveLength(6);
    for (let index = 1; index < 5; index++) await shared.django.set(`django-${index}`, toTyped(index));
    expect(await cacheFiles(shared.location)).toHaveLength(10);
    await shared.cachette.set('cachette-last', 'last');
    expect(await cacheFiles(shared.location)).toHaveLength(6);
    expect(await shared.cachette.get('cachette-last')).toBe('last');
    expect((await readdir(shared.location)).filter((name) => !name.endsWith('.djcache')).sort()).toEqual([
      `${'0'.repeat(32)}.djcache.0123456789ab.tmp`,
      'notes.txt',
    ]);
    expect((await shared.cachette.storeStats()).entries).toBe(6);
  });

  describe('damaged files', () => {
    it.each([
      ['an empty file', () => Buffer.alloc(0)],
      ['a truncated header', (contents: Buffer) => contents.subarray(0, 12)],
      ['a truncated body', (contents: Buffer) => contents.subarray(0, contents.length - 3)],
      ['a damaged body', (contents: Buffer) => Buffer.concat([contents.subarray(0, 21), Buffer.from('garbage!')])],
      ['Cachette’s own format', () => Buffer.from('CCF\x01 a Cachette file header', 'latin1')],
    ])('Cachette reads %s written over a Django file as a miss and removes it', async (_, replace) => {
      await peer.set('key', toTyped({ some: 'value' }), 100);
      const path = cache.filePath(cache.makeKey('key'));
      await writeFile(path, replace(await readFile(path)));
      expect(await cache.get('key', 'default')).toBe('default');
      expect(await cacheFiles()).toEqual([]);
      await peer.set('key', toTyped('fresh'));
      expect(await cache.get('key')).toBe('fresh');
    });

    it('a class instance Python pickled is refused with SerializationError naming it, and the file is kept', async () => {
      const path = cache.filePath(cache.makeKey('instance'));
      await writeClassInstanceFile(path);
      await expect(cache.get('instance')).rejects.toBeInstanceOf(SerializationError);
      await expect(cache.get('instance')).rejects.toThrow(/UUID/);
      expect(await cacheFiles()).toHaveLength(1);
      expect(await peer.get('instance')).toMatchObject({ t: 'repr', type: 'uuid.UUID' });
    });
  });
});
