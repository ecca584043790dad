import { KeyNotFoundError, type BaseCache } from '@cachette/cache-core';
import { expectRejection } from '../expectations';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

interface Versioned {
  cache: BaseCache;
  /** The version passed explicitly, or undefined for the cache's own. */
  version: number | undefined;
  /** The version the call actually uses. */
  effective: number;
  label: string;
}

/**
 * Every way to address a version with Django's `default` (version 1) and `v2` caches: each
 * cache with its own version and with versions 1 and 2 given explicitly.
 */
async function versionedCalls(suite: SuiteContext): Promise<Versioned[]> {
  const [v1, v2] = await Promise.all([suite.cache(), suite.cache('v2')]);
  return [
    { cache: v1, version: undefined, effective: 1, label: 'default' },
    { cache: v1, version: 1, effective: 1, label: 'default, version 1' },
    { cache: v1, version: 2, effective: 2, label: 'default, version 2' },
    { cache: v2, version: undefined, effective: 2, label: 'v2' },
    { cache: v2, version: 1, effective: 1, label: 'v2, version 1' },
    { cache: v2, version: 2, effective: 2, label: 'v2, version 2' },
  ];
}

/** Writers: Django's four cases (each cache with its own version and with the other one). */
function writers(calls: Versioned[]): Versioned[] {
  return calls.filter((call) => call.label !== 'default, version 1' && call.label !== 'v2, version 2');
}

/** The values `cache` holds for `key` at versions 1 to 3. */
async function valuesByVersion(cache: BaseCache, key: string): Promise<unknown[]> {
  return Promise.all([1, 2, 3].map((version) => cache.get(key, undefined, version)));
}

/**
 * Writes a key through each of Django's four writers, then reads it through every cache and
 * version: a reader addressing the written version gets `seen`, any other `unseen`.
 */
async function expectSeenOnlyAtWrittenVersion(
  suite: SuiteContext,
  write: (writer: Versioned, name: string) => Promise<unknown>,
  read: (reader: Versioned, name: string) => Promise<unknown>,
  expected: (name: string) => { seen: unknown; unseen: unknown },
): Promise<void> {
  const calls = await versionedCalls(suite);
  for (const [index, writer] of writers(calls).entries()) {
    const name = suite.key(`answer${index}`);
    await write(writer, name);
    for (const reader of calls) {
      const { seen, unseen } = expected(name);
      const wanted = reader.effective === writer.effective ? seen : unseen;
      suite.expect([writer.label, reader.label, await read(reader, name)]).toEqual([writer.label, reader.label, wanted]);
    }
  }
}

/** Key versions: how each operation honours the cache's version and an explicit one. */
export function registerVersioningTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'versioning', (suite) => {
    const { expect, key } = suite;

    suite.test('get and set see only the version they address', async () => {
      await expectSeenOnlyAtWrittenVersion(
        suite,
        (writer, name) => writer.cache.set(name, 42, undefined, writer.version),
        (reader, name) => reader.cache.get(name, undefined, reader.version),
        () => ({ seen: 42, unseen: undefined }),
      );
    });

    suite.test('add stores at the version it addresses, whatever other versions hold', async () => {
      const calls = await versionedCalls(suite);
      for (const [index, writer] of writers(calls).entries()) {
        const name = key(`answer${index}`);
        expect(await writer.cache.add(name, 42, undefined, writer.version)).toBe(true);
        const stored = new Set([writer.effective]);
        for (const other of calls) {
          expect([writer.label, other.label, await other.cache.add(name, 37, undefined, other.version)]).toEqual([
            writer.label,
            other.label,
            !stored.has(other.effective),
          ]);
          stored.add(other.effective);
        }
        expect(await valuesByVersion(writer.cache, name)).toEqual(writer.effective === 1 ? [42, 37, undefined] : [37, 42, undefined]);
      }
    });

    suite.test('hasKey sees only the version it addresses', async () => {
      await expectSeenOnlyAtWrittenVersion(
        suite,
        (writer, name) => writer.cache.set(name, 42, undefined, writer.version),
        (reader, name) => reader.cache.hasKey(name, reader.version),
        () => ({ seen: true, unseen: false }),
      );
    });

    suite.test('delete removes only the version it addresses', async () => {
      const calls = await versionedCalls(suite);
      for (const [index, deleter] of writers(calls).entries()) {
        const name = key(`answer${index}`);
        await deleter.cache.set(name, 37, undefined, 1);
        await deleter.cache.set(name, 42, undefined, 2);
        expect(await deleter.cache.delete(name, deleter.version)).toBe(true);
        expect([deleter.label, await valuesByVersion(deleter.cache, name)]).toEqual([
          deleter.label,
          deleter.effective === 1 ? [undefined, 42, undefined] : [37, undefined, undefined],
        ]);
      }
    });

    suite.test('incr and decr change only the version they address', async () => {
      const calls = await versionedCalls(suite);
      for (const [index, counter] of writers(calls).entries()) {
        const name = key(`answer${index}`);
        await counter.cache.set(name, 1, undefined, 1);
        await counter.cache.set(name, 2, undefined, 2);
        const before = counter.effective === 1 ? 1 : 2;
        expect(await counter.cache.incr(name, 1, counter.version)).toBe(before + 1);
        expect([counter.label, await valuesByVersion(counter.cache, name)]).toEqual([
          counter.label,
          counter.effective === 1 ? [2, 2, undefined] : [1, 3, undefined],
        ]);
        expect(await counter.cache.decr(name, 5, counter.version)).toBe(suite.capabilities.counters === 'signed' ? before - 4 : 0);
      }
    });

    suite.test('getMany and setMany see only the version they address', async () => {
      const stored = (name: string): Map<string, number> => new Map([[`${name}-ford`, 37], [`${name}-arthur`, 42]]);
      await expectSeenOnlyAtWrittenVersion(
        suite,
        (writer, name) => writer.cache.setMany(stored(name), undefined, writer.version),
        (reader, name) => reader.cache.getMany(stored(name).keys(), reader.version),
        (name) => ({ seen: stored(name), unseen: new Map() }),
      );
    });

    suite.test('incrVersion moves a value to the next version and returns it', async () => {
      const [cache, v2] = await Promise.all([suite.cache(), suite.cache('v2')]);
      await cache.set(key('answer'), 42, undefined, 2);
      expect(await cache.get(key('answer'))).toBe(undefined);
      expect(await cache.incrVersion(key('answer'), 1, 2)).toBe(3);
      expect(await valuesByVersion(cache, key('answer'))).toEqual([undefined, undefined, 42]);

      await v2.set(key('answer2'), 42);
      expect(await v2.incrVersion(key('answer2'))).toBe(3);
      expect(await valuesByVersion(v2, key('answer2'))).toEqual([undefined, undefined, 42]);
      expect(await v2.get(key('answer2'))).toBe(undefined);

      await cache.set(key('answer3'), 'moved twice');
      expect(await cache.incrVersion(key('answer3'), 2)).toBe(3);
      expect(await valuesByVersion(cache, key('answer3'))).toEqual([undefined, undefined, 'moved twice']);

      await expectRejection(suite, cache.incrVersion(key('does_not_exist')), KeyNotFoundError);
      await cache.set(key('null'), null);
      expect(await cache.incrVersion(key('null'))).toBe(2);
      expect(await cache.get(key('null'), 'default', 2)).toBe(null);
      expect(await cache.hasKey(key('null'))).toBe(false);
    });

    suite.test('decrVersion moves a value to the previous version and returns it', async () => {
      const [cache, v2] = await Promise.all([suite.cache(), suite.cache('v2')]);
      await cache.set(key('answer'), 42, undefined, 2);
      expect(await cache.decrVersion(key('answer'), 1, 2)).toBe(1);
      expect(await valuesByVersion(cache, key('answer'))).toEqual([42, undefined, undefined]);
      expect(await cache.get(key('answer'))).toBe(42);

      await v2.set(key('answer2'), 42);
      expect(await v2.decrVersion(key('answer2'))).toBe(1);
      expect(await v2.get(key('answer2'))).toBe(undefined);
      expect(await v2.get(key('answer2'), undefined, 1)).toBe(42);

      await expectRejection(suite, cache.decrVersion(key('does_not_exist'), 1, 2), KeyNotFoundError);
      await cache.set(key('null'), null, undefined, 2);
      expect(await cache.decrVersion(key('null'), 1, 2)).toBe(1);
      expect(await cache.get(key('null'), 'default')).toBe(null);
      expect(await cache.hasKey(key('null'), 2)).toBe(false);
    });
  });
}
