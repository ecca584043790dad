import { deflateSync } from 'node:zlib';
import { SerializationError } from '@cachette/cache-core';
import { expectRejection } from '../expectations';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';
import { NON_JSON_VALUES, NON_PICKLE_VALUES, awkwardBinaryValues, fingerprint, patternedValue, valueSamples } from '../value-samples';

const NEEDS_BINARY = "values: 'json' has no binary type";
const NEEDS_V8 = "values: 'json' and 'pickle' have no undefined (pickle writes it as None)";

/** Stores `value` under `name` with set, add and setMany, and checks each reads back equal. */
async function expectRoundTripEverywhere(suite: SuiteContext, name: string, value: unknown): Promise<void> {
  const cache = await suite.cache();
  const { expect, key } = suite;
  await cache.set(key(`${name}-set`), value);
  expect(await cache.get(key(`${name}-set`))).toEqual(value);
  expect(await cache.add(key(`${name}-add`), value)).toBe(true);
  expect(await cache.get(key(`${name}-add`))).toEqual(value);
  expect(await cache.setMany({ [key(`${name}-many`)]: value })).toEqual([]);
  expect(await cache.getMany([key(`${name}-many`)])).toEqual(new Map([[key(`${name}-many`), value]]));
}

/** Values of every supported type, Unicode, binary data, large values, copies and unserializable values. */
export function registerValueTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'values', (suite) => {
    const { expect, key } = suite;
    const binarySkip = suite.capabilities.values === 'json' ? NEEDS_BINARY : undefined;

    for (const sample of valueSamples(suite.capabilities.values)) {
      suite.test(`round-trips ${sample.label}`, async () => {
        const cache = await suite.cache();
        await cache.set(key('value'), sample.value);
        const read = await cache.get(key('value'), 'missing');
        expect(read).toEqual(sample.value);
        if (sample.instanceOf) expect(read).toBeInstanceOf(sample.instanceOf);
        // toEqual may treat 0 and -0 alike.
        if (typeof sample.value === 'number') expect(Object.is(read, sample.value)).toBe(true);
      });
    }

    suite.test('a Buffer reads back as a Buffer', async () => {
      const cache = await suite.cache();
      await cache.set(key('buffer'), Buffer.from('bytes'));
      expect(Buffer.isBuffer(await cache.get(key('buffer')))).toBe(true);
    }, { skip: binarySkip });

    suite.test('Unicode keys and values round-trip through set, delete, add and setMany', async () => {
      const cache = await suite.cache();
      const samples = {
        ascii: 'ascii_value',
        'unicode_ascii': 'Iñtërnâtiônàlizætiøn1',
        'Iñtërnâtiônàlizætiøn': 'Iñtërnâtiônàlizætiøn2',
        '日本語のキー': '値は 😀 と 𝄞 を含む',
        ascii2: { x: 1, 'ключ': 'значение' },
      };
      for (const [name, value] of Object.entries(samples)) {
        await cache.set(key(name), value);
        expect(await cache.get(key(name))).toEqual(value);
        expect(await cache.delete(key(name))).toBe(true);
        expect(await cache.add(key(name), value)).toBe(true);
        expect(await cache.get(key(name))).toEqual(value);
        expect(await cache.delete(key(name))).toBe(true);
      }
      const entries = Object.entries(samples).map(([name, value]) => [key(name), value] as const);
      await cache.setMany(new Map(entries));
      expect(await cache.getMany(entries.map(([made]) => made))).toEqual(new Map(entries));
    });

    suite.test('compressed binary data round-trips through set, add and setMany', async () => {
      const compressed = deflateSync(Buffer.from('value to be compressed '.repeat(20)));
      await expectRoundTripEverywhere(suite, 'binary', compressed);
    }, { skip: binarySkip });

    for (const { label, value } of awkwardBinaryValues()) {
      suite.test(`binary data round-trips: ${label}`, async () => {
        await expectRoundTripEverywhere(suite, 'bytes', value);
      }, { skip: binarySkip });
    }

    suite.test('strings holding protocol delimiters round-trip', async () => {
      await expectRoundTripEverywhere(suite, 'delimiters', 'line\r\nEND\r\nVALUE k 0 1\r\n$3\r\n\u0000\u00ff');
    });

    suite.test(`large values (capabilities.largeValueBytes = ${suite.capabilities.largeValueBytes}) round-trip, alone and among small ones`, async () => {
      const cache = await suite.cache();
      const { largeValueBytes, values } = suite.capabilities;
      const [first, second] = [patternedValue(largeValueBytes, 0, values), patternedValue(largeValueBytes, 1, values)];
      await cache.set(key('large'), first);
      expect(fingerprint(await cache.get(key('large')))).toBe(fingerprint(first));
      await cache.setMany({ [key('small')]: 'small', [key('large2')]: second });
      const found = await cache.getMany([key('large'), key('small'), key('large2')]);
      expect([fingerprint(found.get(key('large'))), found.get(key('small')), fingerprint(found.get(key('large2')))]).toEqual([
        fingerprint(first),
        'small',
        fingerprint(second),
      ]);
    });

    suite.test('the cache keeps a copy: mutating a value after set does not change it', async () => {
      const cache = await suite.cache();
      const value = { list: [1, 2], nested: { name: 'before' } };
      await cache.set(key('copy'), value);
      value.list.push(3);
      value.nested.name = 'after';
      expect(await cache.get(key('copy'))).toEqual({ list: [1, 2], nested: { name: 'before' } });
    });

    suite.test('the cache hands out copies: mutating a value read does not change it', async () => {
      const cache = await suite.cache();
      await cache.set(key('copy'), { list: [1, 2] });
      const read = (await cache.get(key('copy'))) as { list: number[] };
      read.list.push(3);
      expect(await cache.get(key('copy'))).toEqual({ list: [1, 2] });
    });

    const unserializable: Array<[string, unknown]> = [
      ['a function', () => 'no'],
      ['a symbol', Symbol('no')],
      ['an object holding a function', { callback: () => 'no' }],
    ];
    for (const [label, value] of unserializable) {
      suite.test(`set, add and setMany reject ${label} with SerializationError and store nothing new`, async () => {
        const cache = await suite.cache();
        await cache.set(key('kept'), 'previous');
        await expectRejection(suite, cache.set(key('kept'), value), SerializationError);
        expect(await cache.get(key('kept'))).toBe('previous');
        await expectRejection(suite, cache.add(key('absent'), value), SerializationError);
        expect(await cache.hasKey(key('absent'))).toBe(false);
        await expectRejection(suite, cache.setMany({ [key('absent')]: value }), SerializationError);
        expect(await cache.hasKey(key('absent'))).toBe(false);
      });
    }

    suite.test('a JSON backend rejects values JSON cannot hold with SerializationError instead of changing them', async () => {
      const cache = await suite.cache();
      for (const { label, value } of NON_JSON_VALUES) {
        await expectRejection(suite, cache.set(key('json'), value), SerializationError, undefined, label);
        expect([label, await cache.hasKey(key('json'))]).toEqual([label, false]);
      }
    }, { skip: suite.capabilities.values === 'json' ? undefined : `values: '${suite.capabilities.values}' stores all of them` });

    suite.test('a pickle backend rejects values pickle cannot hold with SerializationError instead of changing them', async () => {
      const cache = await suite.cache();
      for (const { label, value } of NON_PICKLE_VALUES) {
        await expectRejection(suite, cache.set(key('pickle'), value), SerializationError, undefined, label);
        expect([label, await cache.hasKey(key('pickle'))]).toEqual([label, false]);
      }
    }, { skip: suite.capabilities.values === 'pickle' ? undefined : `values: '${suite.capabilities.values}' stores them or is checked above` });

    suite.test('undefined is stored as a value, distinct from a missing key', async () => {
      const cache = await suite.cache();
      await cache.set(key('undefined'), undefined);
      expect(await cache.hasKey(key('undefined'))).toBe(true);
      expect(await cache.get(key('undefined'), 'default')).toBe(undefined);
    }, { skip: suite.capabilities.values === 'v8' ? undefined : NEEDS_V8 });
  });
}
