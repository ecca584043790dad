import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheConnectionError } from '@cachette/cache-core';
import { createCacheTableCommand } from '../src/command';
import { SqlCache, createCacheTable } from '../src/index';
import { DATABASE_TARGETS, type TestDatabase } from './databases';

async function run(argv: string[], cwd?: string): Promise<{ code: number; out: string[]; error: string[] }> {
  const out: string[] = [];
  const error: string[] = [];
  const code = await createCacheTableCommand(argv, { out: (line) => out.push(line), error: (line) => error.push(line) }, cwd);
  return { code, out, error };
}

describe('createcachetable --dry-run prints the SQL of each dialect without connecting', () => {
  it.each([
    [
      'sqlite:///tmp/never-created.db',
      [
        'CREATE TABLE "my cache" (\n    "cache_key" varchar(255) NOT NULL PRIMARY KEY,\n    "value" text NOT NULL,\n    "expires" datetime NOT NULL\n);',
        'CREATE INDEX "my cache_expires" ON "my cache" ("expires");',
      ],
    ],
    [
      // Port 1: nothing listens, so a connection attempt would fail the test.
      'postgres://nobody@127.0.0.1:1/db',
      [
        'CREATE TABLE "my cache" (\n    "cache_key" varchar(255) NOT NULL PRIMARY KEY,\n    "value" text NOT NULL,\n    "expires" timestamp with time zone NOT NULL\n);',
        'CREATE INDEX "my cache_expires" ON "my cache" ("expires");',
      ],
    ],
    [
      'mysql://nobody@127.0.0.1:1/db',
      [
        'CREATE TABLE `my cache` (\n    `cache_key` varchar(255) NOT NULL PRIMARY KEY,\n    `value` longtext NOT NULL,\n    `expires` datetime(6) NOT NULL,\n' +
          '    INDEX `my cache_expires` (`expires`)\n) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;',
      ],
    ],
  ])('%s', async (url, expected) => {
    const { code, out } = await run(['--url', url, '--table', 'my cache', '--dry-run']);
    expect(code).toBe(0);
    expect(out).toEqual(expected);
  });
});

describe('createcachetable: usage and failures', () => {
  it('explains its usage and exits with 2 when misused', async () => {
    for (const argv of [[], ['createcachetable'], ['--url', 'redis://localhost'], ['dropcachetable', '--url', 'sqlite://:memory:'], ['--bogus']]) {
      const { code, error } = await run(argv);
      expect([argv, code]).toEqual([argv, 2]);
      expect(error.join('\n')).toContain('Usage:');
    }
    expect((await run(['--help'])).code).toBe(0);
  });

  it('reports a database it cannot reach with exit code 1', async () => {
    const { code, error } = await run(['--url', 'postgres://nobody:hunter2@127.0.0.1:1/db']);
    expect(code).toBe(1);
    expect(error.join('\n')).toMatch(/^Cache table 'cachette_cache' could not be created in postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/db: /);
    await expect(createCacheTable({ location: 'mysql://nobody@127.0.0.1:1/db' })).rejects.toBeInstanceOf(CacheConnectionError);
  });
});

for (const target of DATABASE_TARGETS) {
  describe.skipIf(target.skip)(`createcachetable on ${target.name}${target.skip ? ` (skipped: ${target.skip})` : ''}`, () => {
    let database: TestDatabase;
    let directory: string;
    beforeAll(async () => {
      database = await target.start();
      directory = await mkdtemp(join(tmpdir(), 'cachette-createcachetable-'));
    });
    afterAll(async () => {
      await database?.stop();
      await rm(directory, { recursive: true, force: true });
    });

    const tableExists = (table: string): Promise<boolean> => database.exists('table', table);

    it('creates a missing table, then leaves it alone; a cache that does not create tables uses it', async () => {
      const dryRun = await run(['--url', database.url, '--table', 'django cache', '--dry-run']);
      expect(dryRun.out[0]).toMatch(/^CREATE TABLE /);
      expect(await tableExists('django cache')).toBe(false);

      expect(await run(['--url', database.url, '--table', 'django cache'])).toEqual({ code: 0, out: ["Cache table 'django cache' created."], error: [] });
      expect(await tableExists('django cache')).toBe(true);
      const cache = new SqlCache({ location: database.url, options: { table: 'django cache', createTable: false } });
      await cache.set('kept', 'across runs');
      expect(await run(['--url', database.url, '--table', 'django cache'])).toEqual({
        code: 0,
        out: ["Cache table 'django cache' already exists."],
        error: [],
      });
      expect(await cache.get('kept')).toBe('across runs');
      await cache.close();
    });

    it('creates the tables of every SQL cache in a JSON or JS config, ignoring other backends', async () => {
      const separator = database.url.includes('?') ? '&' : '?';
      await writeFile(
        join(directory, 'caches.json'),
        JSON.stringify({
          default: `${database.url}${separator}table=json_url_table`,
          other: { backend: '@cachette/cache-sql', location: database.url, options: { table: 'json_object_table' } },
          local: 'locmem://somewhere',
        }),
      );
      await writeFile(join(directory, 'caches.mjs'), `export default { caches: { main: { location: ${JSON.stringify(database.url)}, options: { table: 'module_table' } } } };`);
      const fromJson = await run(['--config', 'caches.json'], directory);
      expect(fromJson).toEqual({ code: 0, out: ["Cache table 'json_url_table' created.", "Cache table 'json_object_table' created."], error: [] });
      expect((await run(['--config', join(directory, 'caches.mjs')])).out).toEqual(["Cache table 'module_table' created."]);
      expect((await run(['--config', 'caches.json', '--table', 'json_object_table'], directory)).out).toEqual([
        "Cache table 'json_object_table' already exists.",
      ]);
      for (const table of ['json_url_table', 'json_object_table', 'module_table']) expect(await tableExists(table)).toBe(true);
    });

    it('createCacheTable() reports what it did, for programmatic use', async () => {
      const params = { location: database.url, options: { table: 'programmatic' } };
      expect((await createCacheTable(params, { dryRun: true })).map(({ outcome }) => outcome)).toEqual(['dry-run']);
      expect((await createCacheTable(params)).map(({ outcome }) => outcome)).toEqual(['created']);
      expect((await createCacheTable(params)).map(({ outcome }) => outcome)).toEqual(['exists']);
    });
  });
}
