import { KeyNotFoundError } from '@cachette/cache-core';
import { expectRejection, keyWarningsOf } from '../expectations';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';
import { valueSamples } from '../value-samples';

const SPACED_KEY_WARNING = "Cache key contains characters that will cause errors if used with memcached: ':1:key with spaces'";

/**
 * Django's DummyCacheTests, for backends that store nothing (`DummyCache`): every operation
 * works, nothing is ever found, and keys are still validated.
 */
export function registerDummyConformance(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'stores nothing (dummy)', (suite) => {
    const { expect } = suite;

    suite.test('set succeeds and get finds nothing', async () => {
      const cache = await suite.cache();
      expect(await cache.set('key', 'value')).toBe(undefined);
      expect(await cache.get('key')).toBe(undefined);
      expect(await cache.get('key', 'default')).toBe('default');
    });

    suite.test('add returns true and stores nothing', async () => {
      const cache = await suite.cache();
      expect(await cache.add('addkey1', 'value')).toBe(true);
      expect(await cache.add('addkey1', 'newvalue')).toBe(true);
      expect(await cache.get('addkey1')).toBe(undefined);
    });

    suite.test('getMany finds nothing', async () => {
      const cache = await suite.cache();
      await cache.setMany({ a: 'a', b: 'b' });
      expect(await cache.getMany(['a', 'b', 'e'])).toEqual(new Map());
    });

    suite.test('delete, hasKey and touch return false; ttl is undefined', async () => {
      const cache = await suite.cache();
      await cache.set('key1', 'spam');
      expect(await cache.delete('key1')).toBe(false);
      expect(await cache.hasKey('key1')).toBe(false);
      expect(await cache.touch('key1')).toBe(false);
      expect(await cache.ttl('key1')).toBe(undefined);
    });

    suite.test('incr, decr, incrVersion and decrVersion reject with KeyNotFoundError', async () => {
      const cache = await suite.cache();
      await cache.set('answer', 42);
      await expectRejection(suite, cache.incr('answer'), KeyNotFoundError);
      await expectRejection(suite, cache.incr('does_not_exist', -1), KeyNotFoundError);
      await expectRejection(suite, cache.decr('answer'), KeyNotFoundError);
      await expectRejection(suite, cache.decr('does_not_exist', -1), KeyNotFoundError);
      await expectRejection(suite, cache.incrVersion('answer'), KeyNotFoundError);
      await expectRejection(suite, cache.decrVersion('answer'), KeyNotFoundError);
    });

    suite.test('values of every type are accepted and not stored; expiry changes nothing', async () => {
      const cache = await suite.cache();
      for (const { value } of valueSamples(suite.capabilities.values)) await cache.set('value', value);
      expect(await cache.get('value')).toBe(undefined);
      await cache.set('expire', 'very quickly', 1);
      expect(await cache.add('expire', 'newvalue', 1)).toBe(true);
      expect(await cache.hasKey('expire')).toBe(false);
    });

    suite.test('Unicode keys and values are accepted and not stored', async () => {
      const cache = await suite.cache();
      const samples = { ascii: 'ascii_value', 'Iñtërnâtiônàlizætiøn': 'Iñtërnâtiônàlizætiøn2', ascii2: { x: 1 } };
      for (const [name, value] of Object.entries(samples)) {
        await cache.set(name, value);
        expect(await cache.get(name)).toBe(undefined);
        expect(await cache.delete(name)).toBe(false);
        expect(await cache.add(name, value)).toBe(true);
      }
      expect(await cache.setMany(samples)).toEqual([]);
      expect(await cache.getMany(Object.keys(samples))).toEqual(new Map());
    });

    suite.test('setMany returns an empty list, with and without a version', async () => {
      const cache = await suite.cache();
      expect(await cache.setMany({ a: 1, b: 2 })).toEqual([]);
      expect(await cache.setMany({ a: 1, b: 2 }, undefined, 1)).toEqual([]);
      expect(await cache.setMany(new Map([['c', 3]]), 1)).toEqual([]);
    });

    suite.test('deleteMany and clear resolve', async () => {
      const cache = await suite.cache();
      expect(await cache.deleteMany(['a', 'b'])).toBe(undefined);
      expect(await cache.clear()).toBe(undefined);
    });

    const warningOperations: Array<[string, (key: string) => Promise<unknown>]> = [
      ['getMany', (key) => suite.cache().then((cache) => cache.getMany([key]))],
      ['setMany', (key) => suite.cache().then((cache) => cache.setMany({ [key]: 'value' }))],
      ['deleteMany', (key) => suite.cache().then((cache) => cache.deleteMany([key]))],
      ['get', (key) => suite.cache().then((cache) => cache.get(key))],
    ];
    for (const [name, operation] of warningOperations) {
      suite.test(`${name} still warns about an invalid key`, async () => {
        expect(await keyWarningsOf(() => operation('key with spaces'))).toEqual([SPACED_KEY_WARNING]);
      });
    }

    suite.test('getOrSet returns the default, calling a function default every time', async () => {
      const cache = await suite.cache();
      expect(await cache.getOrSet('mykey', 'default')).toBe('default');
      expect(await cache.getOrSet('mykey', null)).toBe(null);
      let calls = 0;
      const factory = (): string => `call ${++calls}`;
      expect(await cache.getOrSet('mykey', factory)).toBe('call 1');
      expect(await cache.getOrSet('mykey', factory)).toBe('call 2');
    });

    suite.test('close resolves and can be called again', async () => {
      const cache = await suite.createCache({});
      await cache.close();
      expect(await cache.close()).toBe(undefined);
    });
  });
}
