import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverSkipReason, startMariaDb, startMemcached, startPostgres, startRedis, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, run } from './run-cli';

interface StoreTarget {
  name: string;
  /** Why the target cannot run here, if it cannot. */
  skip?: string | undefined;
  /** Starts what the URL needs and resolves to the URL. */
  start(): Promise<{ url: string; stop(): Promise<void> }>;
}

function serverTarget(name: string, kind: 'redis' | 'memcached' | 'postgres' | 'mariadb', skip: string | undefined, start: () => Promise<TestServer>, toUrl: (server: TestServer) => string): StoreTarget {
  return {
    name,
    skip,
    async start() {
      const server = await start();
      return { url: toUrl(server), stop: () => server.stop() };
    },
  };
}

function directoryTarget(name: string, toUrl: (dir: string) => string): StoreTarget {
  return {
    name,
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'cachette-cli-'));
      return { url: toUrl(dir), stop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

const TARGETS: StoreTarget[] = [
  serverTarget('redis', 'redis', await serverSkipReason('redis'), () => startRedis(), (server) => `${server.url}/0`),
  serverTarget('memcached', 'memcached', await serverSkipReason('memcached'), () => startMemcached(), (server) => `memcached://${server.host}:${server.port}`),
  serverTarget('postgres', 'postgres', await serverSkipReason('postgres'), startPostgres, (server) => server.url),
  serverTarget('mariadb', 'mariadb', await serverSkipReason('mariadb'), startMariaDb, (server) => server.url),
  directoryTarget('sqlite', (dir) => `sqlite://${join(dir, 'cache.db')}`),
  directoryTarget('file', (dir) => `file://${dir}`),
];

describe.each(TARGETS)('cachette on $name', (target) => {
  let url = '';
  let stop = async (): Promise<void> => {};
  beforeAll(async () => {
    if (target.skip) return;
    ({ url, stop } = await target.start());
  });
  afterAll(() => stop());

  it.skipIf(target.skip)('sets, reads, counts, times and deletes keys, as text and as JSON', async () => {
    expect(await run(['set', url, 'greeting', 'hello there'])).toMatchObject({ code: 0, out: ["Stored 'greeting' (expires in 300 s)."] });
    expect(await run(['get', url, 'greeting'])).toMatchObject({ code: 0, out: ['hello there'], error: [] });
    expect(jsonOf(await run(['set', url, 'doc', '{"tags":["a","b"],"n":1}', '--timeout', '60', '--json']))).toEqual({ key: 'doc', stored: true, timeout: 60 });
    expect(jsonOf(await run(['get', url, 'doc', '--json']))).toEqual({ key: 'doc', found: true, value: { tags: ['a', 'b'], n: 1 } });
    await run(['set', url, 'answer', '42', '--string']);
    expect(jsonOf(await run(['get', url, 'answer', '--json']))).toEqual({ key: 'answer', found: true, value: '42' });

    await run(['set', url, 'hits', '41']);
    expect((await run(['incr', url, 'hits'])).out).toEqual(['42']);
    expect(jsonOf(await run(['incr', url, 'hits', '--json', '--', '-40']))).toEqual({ key: 'hits', value: 2 });
  });

  it.skipIf(target.skip)('reports and changes how long a key has left', async () => {
    await run(['set', url, 'session', 'x', '--timeout', '60']);
    const ttl = jsonOf(await run(['ttl', url, 'session', '--json'])).ttl as number;
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await run(['touch', url, 'session', '--timeout', 'none'])).toMatchObject({ code: 0, out: ["Touched 'session' (never expires)."] });
    expect(await run(['ttl', url, 'session'])).toMatchObject({ code: 0, out: ["'session' never expires."] });
    expect(jsonOf(await run(['ttl', url, 'session', '--json']))).toEqual({ key: 'session', found: true, ttl: null });
  });

  it.skipIf(target.skip)('exits with 1 for a key that is not there, saying so on stderr', async () => {
    for (const command of ['get', 'delete', 'touch', 'ttl']) {
      expect([command, await run([command, url, 'never-set'])]).toEqual([command, { code: 1, out: [], error: ["No value for 'never-set'."], progress: [] }]);
    }
    expect(jsonOf(await run(['get', url, 'never-set', '--json']))).toEqual({ key: 'never-set', found: false });
    expect(await run(['incr', url, 'never-set'])).toMatchObject({ code: 1, error: [expect.stringMatching(/never-set/)] });
    await run(['set', url, 'word', 'abc']);
    expect(await run(['incr', url, 'word'])).toMatchObject({ code: 1, error: [expect.stringMatching(/word/)] });
  });

  it.skipIf(target.skip)('deletes a key, and clears only when the answer is yes or --yes is given', async () => {
    await run(['set', url, 'doomed', '1']);
    expect(await run(['delete', url, 'doomed'])).toMatchObject({ code: 0, out: ["Deleted 'doomed'."] });
    expect((await run(['get', url, 'doomed'])).code).toBe(1);

    await run(['set', url, 'kept', '1']);
    const questions: string[] = [];
    const refused = await run(['clear', url], { confirm: async (question) => (questions.push(question), false) });
    expect(refused).toMatchObject({ code: 1, error: ['Nothing cleared.'] });
    expect(questions).toEqual([expect.stringMatching(/^Clear every key of .*\? .*\[y\/N\] $/)]);
    expect((await run(['clear', url])).code).toBe(1);
    expect((await run(['get', url, 'kept'])).out).toEqual(['1']);

    expect(await run(['clear', url], { confirm: async () => true })).toMatchObject({ code: 0 });
    expect((await run(['get', url, 'kept'])).code).toBe(1);
    await run(['set', url, 'kept', '1']);
    expect(jsonOf(await run(['clear', url, '--yes', '--json']))).toEqual({ cleared: true });
    expect((await run(['get', url, 'kept'])).code).toBe(1);
  });

  it.skipIf(target.skip)('keeps key prefixes and versions from the URL apart', async () => {
    const separator = url.includes('?') ? '&' : '?';
    await run(['set', `${url}${separator}key_prefix=app&version=2`, 'shared', 'two']);
    expect((await run(['get', url, 'shared'])).code).toBe(1);
    expect((await run(['get', `${url}${separator}key_prefix=app&version=2`, 'shared'])).out).toEqual(['two']);
  });

  it.skipIf(target.skip)('prints its settings and what the store reports', async () => {
    await run(['set', url, 'counted', '1']);
    const stats = jsonOf(await run(['stats', url, '--json']));
    expect(stats).toMatchObject({ keyPrefix: '', version: 1, timeout: 300, url });
    expect(typeof stats.backend).toBe('string');
    expect((stats.store as { entries: number }).entries).toBeGreaterThanOrEqual(1);
    const text = await run(['stats', url]);
    expect(text.out.join('\n')).toMatch(/^backend +\w+Cache\n[\s\S]*\n\nStore:\nentries +\d+/);
  });
});

describe('cachette store commands: mistakes and unreachable servers', () => {
  it('exits with 2 for a URL it cannot read or a scheme no backend serves', async () => {
    expect(await run(['get', 'not a url', 'k'])).toMatchObject({ code: 2, error: [expect.stringMatching(/not a cache URL/)] });
    expect(await run(['get', 'gopher://host/x', 'k'])).toMatchObject({ code: 2, error: [expect.stringMatching(/No cache backend is registered for URL scheme 'gopher:'/)] });
  });

  it('exits with 2, pointing to --help, for missing or extra arguments and unknown options', async () => {
    for (const argv of [['get'], ['get', 'locmem://x'], ['set', 'locmem://x', 'k'], ['get', 'locmem://x', 'k', 'extra'], ['clear', 'locmem://x', '--force'], ['set', 'locmem://x', 'k', 'v', '--timeout', 'soon'], ['incr', 'locmem://x', 'k', '1.5'], ['frobnicate']]) {
      const result = await run(argv);
      expect([argv, result.code]).toEqual([argv, 2]);
      expect(result.error.join('\n')).toMatch(/Run 'cachette( [a-z]+)? --help'/);
    }
  });

  it.each([
    ['redis', 'redis://127.0.0.1:1/0'],
    ['memcached', 'memcached://127.0.0.1:1'],
    ['postgres', 'postgres://someone:hunter2@127.0.0.1:1/db'],
    ['mysql', 'mysql://someone:hunter2@127.0.0.1:1/db'],
  ])('exits with 3 when the %s server cannot be reached, without printing its password', async (_name, url) => {
    const result = await run(['get', url, 'k']);
    expect(result.code).toBe(3);
    expect(result.error).toHaveLength(1);
    expect(result.error[0]).toMatch(/^Cannot reach /);
    expect(result.error[0]).not.toContain('hunter2');
  });
});
