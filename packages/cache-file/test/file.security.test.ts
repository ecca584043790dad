import { execFileSync } from 'node:child_process';
import { lstat, lutimes, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyNotFoundError } from '@cachette/cache-core';
import { FileCache } from '../src/index';

/**
 * The security rules of the file backend: the directory is 0700 and files 0600 whatever the
 * umask, and a symlink (or FIFO) planted in the directory is never read or written through.
 */

let root: string;
let directory: string;
/** A file outside the cache directory that a planted link points to: it must never change. */
let target: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cachette-file-security-'));
  directory = join(root, 'cache');
  target = join(root, 'precious.txt');
  await writeFile(target, 'precious');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const permissions = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

for (const serializer of ['v8', 'pickle'] as const) {
  describe(`FileCache security, ${serializer} files`, () => {
    const fileCache = (): FileCache => new FileCache({ location: directory, options: { serializer } });

    it.each([0, 0o022, 0o002])('creates the directory and its missing parents 0700 and files 0600 under umask %o', async (mask) => {
      const nested = join(directory, 'a', 'b');
      const previous = process.umask(mask);
      try {
        const cache = new FileCache({ location: nested, options: { serializer } });
        await cache.set('k', 'v');
        await cache.add('added', 'v');
        await cache.touch('k', 100);
        await cache.set('n', 1);
        await cache.incr('n');
        for (const path of [directory, join(directory, 'a'), nested]) expect(await permissions(path)).toBe(0o700);
        const names = await readdir(nested);
        expect(names).toHaveLength(3);
        for (const name of names) expect(await permissions(join(nested, name))).toBe(0o600);
      } finally {
        process.umask(previous);
      }
    });

    /** Plants a symlink to `target` where `key`'s file would be. */
    async function plantLink(cache: FileCache, key: string, to = target): Promise<string> {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const path = cache.filePath(cache.makeKey(key));
      await symlink(to, path);
      return path;
    }

    it("set, add and incr replace a link planted at an entry's file name, never writing through it", async () => {
      const cache = fileCache();
      const paths = [await plantLink(cache, 'set'), await plantLink(cache, 'add'), await plantLink(cache, 'counter')];
      await cache.set('set', 'new');
      expect(await cache.add('add', 'new')).toBe(true);
      await expect(cache.incr('counter')).rejects.toBeInstanceOf(KeyNotFoundError);
      expect(await readFile(target, 'utf8')).toBe('precious');
      expect([await cache.get('set'), await cache.get('add')]).toEqual(['new', 'new']);
      expect((await lstat(paths[0]!)).isFile()).toBe(true);
      expect((await lstat(paths[1]!)).isFile()).toBe(true);
    });

    it('a link to a live cache file elsewhere is not an entry: get, hasKey, touch, ttl and incr each miss and remove only the link', async () => {
      // The link points at a real, live entry written by another cache: following it would read it and touch would rewrite it.
      const elsewhere = new FileCache({ location: join(root, 'elsewhere'), options: { serializer } });
      await elsewhere.set('k', 5, null);
      const foreign = elsewhere.filePath(elsewhere.makeKey('k'));
      const before = await readFile(foreign);
      const cache = fileCache();
      const link = await plantLink(cache, 'k', foreign);
      expect(await cache.get('k')).toBeUndefined();
      await plantLink(cache, 'k', foreign);
      expect(await cache.hasKey('k')).toBe(false);
      await plantLink(cache, 'k', foreign);
      expect(await cache.touch('k', 1000)).toBe(false);
      await plantLink(cache, 'k', foreign);
      await expect(cache.ttl('k')).resolves.toBeUndefined();
      await plantLink(cache, 'k', foreign);
      await expect(cache.incr('k')).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(lstat(link)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readFile(foreign)).equals(before)).toBe(true);
      expect(await elsewhere.get('k')).toBe(5);
    });

    it('a stale link planted as the lock file is broken as a stale lock, not written through', async () => {
      const cache = fileCache();
      await cache.set('counter', 1);
      const lock = `${cache.filePath(cache.makeKey('counter'))}.lock`;
      await symlink(target, lock);
      const longAgo = new Date(Date.now() - 60_000);
      await lutimes(lock, longAgo, longAgo);
      expect(await cache.incr('counter')).toBe(2);
      expect(await readFile(target, 'utf8')).toBe('precious');
      await expect(lstat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a FIFO planted at an entry name reads as missing at once instead of waiting for a writer', async () => {
      const cache = fileCache();
      const path = await plantFifo(cache, 'k');
      expect(await cache.get('k')).toBeUndefined();
      await cache.set('k', 'v');
      expect(await cache.get('k')).toBe('v');
      expect((await lstat(path)).isFile()).toBe(true);
    });

    /** Plants a FIFO where `key`'s file would be. */
    async function plantFifo(cache: FileCache, key: string): Promise<string> {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const path = cache.filePath(cache.makeKey(key));
      execFileSync('mkfifo', [path]);
      return path;
    }

    /** Plants a listening Unix socket where `key`'s file would be; it opens with ENXIO. */
    async function plantSocket(cache: FileCache, key: string): Promise<string> {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const path = cache.filePath(cache.makeKey(key));
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(path, resolve));
      servers.push(server);
      return path;
    }

    const servers: Server[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    });

    it.each([
      ['FIFO', plantFifo],
      ['socket', plantSocket],
    ])('a %s planted at an entry name is a damaged file for every operation: a miss, removed, and replaced by a write', async (_, plant) => {
      const cache = fileCache();
      const path = await plant(cache, 'k');
      expect(await cache.touch('k', 1000)).toBe(false);
      await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
      await plant(cache, 'k');
      expect(await cache.hasKey('k')).toBe(false);
      await plant(cache, 'k');
      await expect(cache.ttl('k')).resolves.toBeUndefined();
      await plant(cache, 'k');
      await expect(cache.incr('k')).rejects.toBeInstanceOf(KeyNotFoundError);
      await plant(cache, 'k');
      expect(await cache.get('k')).toBeUndefined();
      await plant(cache, 'k');
      expect(await cache.add('k', 'added')).toBe(true);
      expect(await cache.get('k')).toBe('added');
      expect((await lstat(path)).isFile()).toBe(true);
    });
  });
}
