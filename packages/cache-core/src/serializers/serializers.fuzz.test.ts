import { serialize as v8Serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../errors';
import { mutate, mutation } from './fixtures/mutations';
import { jsonSerializer } from './json-serializer';
import type { Serializer } from './serializer';
import { v8Serializer } from './v8-serializer';

const RUNS = 2000;

/** Runs `run`; a SerializationError is an allowed outcome, any other error fails the property. */
function onlySerializationErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
  }
}

/** Everything the v8 serializer promises to round-trip, nested. */
const v8Storable = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
});

/** JSON values the JSON serializer stores: -0 (which it refuses) becomes 0. */
const jsonStorable = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown);

/** Anything at all, functions and boxed values included. */
const anyValue = fc.tuple(fc.anything({ withObjectString: true, withBoxedValues: true, withBigInt: true, withMap: true }), fc.func(fc.nat()));

describe.each<[string, Serializer, fc.Arbitrary<unknown>]>([
  ['v8', v8Serializer, v8Storable],
  ['JSON', jsonSerializer, jsonStorable],
])('fuzzing the %s serializer', (_, serializer, storable) => {
  it('random bytes only ever give a value or a SerializationError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (data) => onlySerializationErrors(() => serializer.deserialize(Buffer.from(data)))), { numRuns: RUNS });
  });

  it('mutated serializations only ever give a value or a SerializationError', () => {
    fc.assert(
      fc.property(storable, fc.array(mutation, { minLength: 1, maxLength: 4 }), (value, mutations) =>
        onlySerializationErrors(() => serializer.deserialize(mutate(serializer.serialize(value), mutations))),
      ),
      { numRuns: RUNS },
    );
  });

  it('serialize → deserialize gives back an equal value', () => {
    fc.assert(
      fc.property(storable, (value) => {
        expect(serializer.deserialize(serializer.serialize(value))).toStrictEqual(value);
      }),
      { numRuns: RUNS },
    );
  });

  it('any value serializes to bytes or is refused with SerializationError', () => {
    fc.assert(
      fc.property(anyValue, ([value, f]) => {
        for (const tried of [value, [value, f]]) onlySerializationErrors(() => expect(serializer.serialize(tried)).toBeInstanceOf(Buffer));
      }),
      { numRuns: RUNS },
    );
  });
});

/** Base-128 lengths as V8 writes them, from small to far beyond any input. */
const varint = fc.constantFrom(0, 1, 127, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1).map((length) => {
  const bytes: number[] = [];
  for (let rest = length; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) return [...bytes, rest];
    bytes.push((rest % 128) | 0x80);
  }
});

/**
 * The Cachette and V8 headers, then V8 tags (strings, arrays, objects, array buffers, Node's host
 * objects for Buffers) with lengths up to 2^32-1 and random bytes: reaches V8's deserializer.
 */
const v8Soup = fc
  .array(fc.oneof(fc.constantFrom(...[...'"cSaAoObBDRmM;\\@{}$'].map((tag) => [tag.charCodeAt(0)])), varint, fc.uint8Array({ maxLength: 6 }).map((bytes) => [...bytes])), {
    maxLength: 12,
  })
  .map((pieces) => Buffer.from([0xca, 0x01, ...v8Serialize(null).subarray(0, 2), ...pieces.flat()]));

describe('fuzzing the v8 serializer with V8 tags', () => {
  it('random V8 tags and lengths after the headers only ever give a value or a SerializationError', () => {
    fc.assert(fc.property(v8Soup, (data) => onlySerializationErrors(() => v8Serializer.deserialize(data))), { numRuns: RUNS });
  });
});
