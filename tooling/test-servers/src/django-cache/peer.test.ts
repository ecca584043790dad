import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DjangoCacheError,
  djangoCacheSkipReason,
  fromTyped,
  serverSkipReason,
  startDjangoCachePeer,
  startMemcached,
  startRedis,
  toTyped,
  type DjangoCacheConfig,
  type DjangoCachePeer,
  type TestServer,
  type TypedValue,
} from '../index.js';
import { makeTempDir, removeTempDir } from '../process.js';

const skip = djangoCacheSkipReason();
const pylibmcSkip = skip ?? djangoCacheSkipReason(['pylibmc']);
const redisSkip = await serverSkipReason('redis');
const memcachedSkip = await serverSkipReason('memcached');

interface Context {
  redis?: TestServer;
  memcached?: TestServer;
  dir: string;
}

interface Backend {
  name: string;
  skip: string | undefined;
  config(context: Context): DjangoCacheConfig;
  /** Runs once the peer is up. */
  prepare?(peer: DjangoCachePeer): Promise<void>;
  /** Samples this backend does not give back as written: what Django reads instead. */
  lossy?: Record<string, TypedValue>;
  /** What rawGet reports for a stored int 41 and str 'text'. */
  raw?: { int: Partial<{ flags: number; text: string }>; str: Partial<{ flags: number; text: string }> };
}

const BACKENDS: Backend[] = [
  {
    name: 'PyMemcacheCache',
    skip: memcachedSkip,
    config: ({ memcached }) => ({ BACKEND: 'django.core.cache.backends.memcached.PyMemcacheCache', LOCATION: memcached!.url, KEY_PREFIX: 'pymemcache' }),
    raw: { int: { flags: 2, text: '41' }, str: { flags: 16, text: 'text' } },
  },
  {
    name: 'PyLibMCCache',
    skip: memcachedSkip ?? pylibmcSkip,
    config: ({ memcached }) => ({ BACKEND: 'django.core.cache.backends.memcached.PyLibMCCache', LOCATION: memcached!.url, KEY_PREFIX: 'pylibmc' }),
    // pylibmc stores a bool as an int (b'1', flag 2), so Django reads True back as 1; ints get flag 4.
    lossy: { true: { t: 'int', v: '1' }, false: { t: 'int', v: '0' } },
    raw: { int: { flags: 4, text: '41' }, str: { flags: 16, text: 'text' } },
  },
  {
    name: 'django_redis RedisCache',
    skip: redisSkip,
    config: ({ redis }) => ({ BACKEND: 'django_redis.cache.RedisCache', LOCATION: `${redis!.url}/0`, OPTIONS: { CLIENT_CLASS: 'django_redis.client.DefaultClient' } }),
    raw: { int: { text: '41' }, str: {} },
  },
  {
    name: 'DatabaseCache (SQLite)',
    skip: undefined,
    config: ({ dir }) => ({
      BACKEND: 'django.core.cache.backends.db.DatabaseCache',
      LOCATION: 'django_cache',
      DATABASES: { default: { ENGINE: 'django.db.backends.sqlite3', NAME: join(dir, 'cache.sqlite3') } },
    }),
    prepare: (peer) => peer.createCacheTable(),
  },
  {
    name: 'FileBasedCache',
    skip: undefined,
    config: ({ dir }) => ({ BACKEND: 'django.core.cache.backends.filebased.FileBasedCache', LOCATION: join(dir, 'file-cache') }),
  },
  {
    name: 'LocMemCache',
    skip: undefined,
    config: () => ({ BACKEND: 'django.core.cache.backends.locmem.LocMemCache', LOCATION: 'peer-test' }),
  },
];

const title = (name: string, reason: string | undefined): string => `${name}${reason ? ` (skipped: ${reason})` : ''}`;

describe.skipIf(skip)(title('a Django cache peer', skip), () => {
  const context: Context = { dir: '' };

  beforeAll(async () => {
    context.dir = makeTempDir('django-cache');
    const [redis, memcached] = await Promise.all([redisSkip ? undefined : startRedis(), memcachedSkip ? undefined : startMemcached()]);
    Object.assign(context, { redis, memcached });
  });

  afterAll(async () => {
    await Promise.all([context.redis?.stop(), context.memcached?.stop()]);
    await removeTempDir(context.dir);
  });

  for (const backend of BACKENDS) {
    describe.skipIf(backend.skip)(title(backend.name, backend.skip), () => {
      let peer: DjangoCachePeer;
      let samples: Record<string, TypedValue>;

      beforeAll(async () => {
        peer = await startDjangoCachePeer(backend.config(context));
        await backend.prepare?.(peer);
        samples = await peer.samples();
      });

      afterAll(() => peer?.close());

      it('reads back every sample it wrote, exactly', async () => {
        expect(peer.djangoVersion).toMatch(/^\d+\.\d+/);
        expect(await peer.writeSamples()).toEqual(Object.keys(samples));
        const results = await peer.readSamples();
        const unequal = Object.fromEntries(Object.entries(results).flatMap(([name, result]) => (result.equal ? [] : [[name, result.value]])));
        expect(unequal).toEqual(backend.lossy ?? {});
        expect(Object.keys(results)).toEqual(Object.keys(samples));
      });

      it('round-trips each typed sample through set/get and set_many/get_many', async () => {
        for (const [name, value] of Object.entries(samples)) {
          await peer.set(`rt:${name}`, value);
          expect(await peer.get(`rt:${name}`), name).toEqual(backend.lossy?.[name] ?? value);
        }
        const pairs = Object.entries(samples).map(([name, value]) => [`many:${name}`, value] as const);
        expect(await peer.setMany(pairs)).toEqual([]);
        const expected = new Map(pairs.map(([key, value]) => [key, backend.lossy?.[key.slice('many:'.length)] ?? value]));
        expect(await peer.getMany([...pairs.map(([key]) => key), 'many:absent'])).toEqual(expected);
        expect(await peer.get('absent')).toBeUndefined();
        expect(await peer.get('rt:none')).toEqual({ t: 'none' });
      });

      it('counts with incr and decr', async () => {
        await peer.set('counter', toTyped(41));
        expect(await peer.incr('counter')).toBe(42);
        expect(await peer.decr('counter', 2)).toBe(40);
        expect(fromTyped((await peer.get('counter'))!)).toBe(40);
        await expect(peer.incr('no-counter')).rejects.toMatchObject({ name: 'DjangoCacheError', pythonType: 'ValueError' });
      });

      it('adds, touches, checks and deletes', async () => {
        expect(await peer.add('added', toTyped('first'))).toBe(true);
        expect(await peer.add('added', toTyped('second'))).toBe(false);
        expect(await peer.get('added')).toEqual(toTyped('first'));
        expect(await peer.touch('added', 60)).toBe(true);
        expect(await peer.touch('never-set', 60)).toBe(false);
        expect(await peer.hasKey('added')).toBe(true);
        expect(await peer.delete('added')).toBe(true);
        expect(await peer.hasKey('added')).toBe(false);
        expect(await peer.delete('added')).toBe(false);
      });

      it('shows the stored bytes', async () => {
        await peer.set('raw:int', toTyped(41));
        await peer.set('raw:str', toTyped('text'));
        const [int, str] = [await peer.rawGet('raw:int'), await peer.rawGet('raw:str')];
        expect(int?.bytes.length).toBeGreaterThan(0);
        expect(str?.bytes.length).toBeGreaterThan(0);
        for (const [entry, expected] of [[int, backend.raw?.int], [str, backend.raw?.str]] as const) {
          if (expected?.flags !== undefined) expect(entry?.flags).toBe(expected.flags);
          if (expected?.text !== undefined) expect(entry?.bytes.toString('latin1')).toBe(expected.text);
        }
        expect(await peer.rawGet('raw:absent')).toBeUndefined();
      });

      it('answers a bad request with an error and stays alive', async () => {
        await expect(peer.request('no_such_op')).rejects.toThrow(/unknown op 'no_such_op'/);
        await expect(peer.set('bad', { t: 'nonsense' } as unknown as TypedValue)).rejects.toBeInstanceOf(DjangoCacheError);
        await expect(peer.request('get', {})).rejects.toMatchObject({ pythonType: 'KeyError' });
        await peer.set('alive', toTyped(1));
        expect(await peer.get('alive')).toEqual(toTyped(1));
      });

      it('clears', async () => {
        await peer.set('to-clear', toTyped(1));
        await peer.clear();
        expect(await peer.hasKey('to-clear')).toBe(false);
      });
    });
  }

  describe('the peer process', () => {
    it('rejects a request a hung Python does not answer, with its stderr', async () => {
      const peer = await startDjangoCachePeer({ BACKEND: 'django.core.cache.backends.locmem.LocMemCache' }, { requestTimeoutMs: 300 });
      await expect(peer.request('no_such_op')).rejects.toThrow();
      process.kill(peer.pid, 'SIGSTOP');
      try {
        await expect(peer.get('k')).rejects.toThrow(/did not answer get within 0.3 s[\s\S]*unknown op 'no_such_op'/);
      } finally {
        process.kill(peer.pid, 'SIGCONT');
      }
      expect(await peer.get('k')).toBeUndefined();
      await peer.close();
      await peer.close();
      await expect(peer.get('k')).rejects.toThrow(/has exited/);
    });

    it('fails to start with the reason when Django cannot make the cache', async () => {
      await expect(startDjangoCachePeer({ BACKEND: 'no.such.Backend' })).rejects.toThrow(/failed to start: InvalidCacheBackendError/);
    });
  });
});

describe('typed JSON', () => {
  const typed = (t: string, v: unknown): TypedValue => ({ t, v }) as TypedValue;

  it('maps Python values to what a pickle reader gives', () => {
    expect(fromTyped(typed('int', '9007199254740991'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(fromTyped(typed('int', '9007199254740993'))).toBe(2n ** 53n + 1n);
    expect(Object.is(fromTyped(typed('float', '-0.0')), -0)).toBe(true);
    expect(fromTyped(typed('float', 'nan'))).toBeNaN();
    expect(fromTyped({ t: 'bytes', b64: 'AP8=' })).toEqual(Buffer.from([0, 255]));
    expect(fromTyped(typed('tuple', [typed('int', '1')]))).toEqual([1]);
    expect(fromTyped(typed('frozenset', [typed('str', 'a')]))).toEqual(new Set(['a']));
    expect(fromTyped(typed('dict', [[typed('str', 'a'), typed('none', undefined)]]))).toEqual({ a: null });
    expect(fromTyped(typed('dict', [[typed('int', '1'), typed('str', 'x')]]))).toEqual(new Map([[1, 'x']]));
    expect(fromTyped({ t: 'datetime', iso: '2024-01-02T03:04:05.678901', tz: 'utc' })).toEqual(new Date('2024-01-02T03:04:05.678Z'));
    expect(fromTyped({ t: 'datetime', iso: '2024-01-02T03:04:05', tz: null })).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(fromTyped({ t: 'datetime', iso: '2024-01-02T03:04:05', tz: '+02:00' })).toEqual(new Date('2024-01-02T01:04:05Z'));
    expect(fromTyped({ t: 'date', iso: '2024-02-29' })).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(fromTyped(typed('decimal', '19.99'))).toBe('19.99');
    expect(() => fromTyped({ t: 'repr', type: 'uuid.UUID', v: "UUID('…')" })).toThrow(/uuid.UUID/);
  });

  it('maps JS values to Python ones', () => {
    expect(toTyped(null)).toEqual({ t: 'none' });
    expect(toTyped(3)).toEqual(typed('int', '3'));
    expect(toTyped(1.5)).toEqual(typed('float', 1.5));
    expect(toTyped(-0)).toEqual(typed('float', '-0.0'));
    expect(toTyped(Number.NEGATIVE_INFINITY)).toEqual(typed('float', '-inf'));
    expect(toTyped(2n ** 100n)).toEqual(typed('int', '1267650600228229401496703205376'));
    expect(toTyped(new Uint8Array([0, 255]))).toEqual({ t: 'bytes', b64: 'AP8=' });
    expect(toTyped({ a: [true] })).toEqual(typed('dict', [[typed('str', 'a'), typed('list', [typed('bool', true)])]]));
    expect(toTyped(new Map([[1, 'x']]))).toEqual(typed('dict', [[typed('int', '1'), typed('str', 'x')]]));
    expect(toTyped(new Set(['a']))).toEqual(typed('set', [typed('str', 'a')]));
    expect(toTyped(new Date('2024-01-02T03:04:05.678Z'))).toEqual({ t: 'datetime', iso: '2024-01-02T03:04:05.678', tz: 'utc' });
    expect(() => toTyped(() => 1)).toThrow(/no Python form/);
  });
});
