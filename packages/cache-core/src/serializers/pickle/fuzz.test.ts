import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../errors';
import { mutate, mutation } from '../fixtures/mutations';
import { afterRoundTrip, pickleable } from './fixtures/arbitraries';
import { corpus } from './fixtures/corpus';
import { Op } from './opcodes';
import { loadPickle } from './reader';
import { dumpPickle } from './writer';

const RUNS = 2000;
/** Generous: a single input of a few KiB is read in well under a millisecond. */
const MAX_MS_PER_INPUT = 500;

/**
 * loadPickle either returns or throws SerializationError, quickly; any other outcome fails the
 * property. A SerializationError with a `cause` is a wrapped JS exception (a RangeError or
 * TypeError in the VM): safe for callers, but a bug here, so it fails too.
 */
function loadsSafely(data: Uint8Array): void {
  const started = performance.now();
  try {
    loadPickle(data);
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    if (error.cause !== undefined) throw new Error(`wrapped ${String(error.cause)} on ${Buffer.from(data).toString('hex').slice(0, 200)}`);
  }
  const elapsed = performance.now() - started;
  if (elapsed > MAX_MS_PER_INPUT) throw new Error(`took ${elapsed.toFixed(0)} ms on ${Buffer.from(data).toString('hex').slice(0, 200)}`);
}

const smallEntries = corpus.entries.filter((entry) => entry.hex.length < 20_000);
const validPickle = fc.constantFrom(...smallEntries, ...corpus.refusals).map((entry) => Buffer.from(entry.hex, 'hex'));

/** Sequences of real opcodes with short random arguments reach much deeper into the VM than noise. */
const opcodeSoup = fc
  .array(fc.oneof(fc.constantFrom(...Object.values(Op)), fc.integer({ min: 0, max: 255 })), { maxLength: 120 })
  .map((bytes) => Buffer.from([0x80, 4, ...bytes, Op.STOP]));

describe('fuzzing loadPickle', () => {
  it('random bytes only ever give a value or a SerializationError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), loadsSafely), { numRuns: RUNS });
  });

  it('random opcode sequences only ever give a value or a SerializationError', () => {
    fc.assert(fc.property(opcodeSoup, loadsSafely), { numRuns: RUNS });
  });

  it('mutated CPython pickles only ever give a value or a SerializationError', () => {
    fc.assert(
      fc.property(validPickle, fc.array(mutation, { minLength: 1, maxLength: 4 }), (data, mutations) => loadsSafely(mutate(data, mutations))),
      { numRuns: RUNS },
    );
  });

  it('truncated CPython pickles always give a SerializationError', () => {
    fc.assert(
      fc.property(validPickle, fc.nat(), (data, cut) => {
        const truncated = data.subarray(0, cut % data.length);
        expect(() => loadPickle(truncated)).toThrow(SerializationError);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzzing the round trip', () => {
  it('dumpPickle → loadPickle gives back exactly the value (see afterRoundTrip)', () => {
    fc.assert(
      fc.property(pickleable, (value) => {
        expect(loadPickle(dumpPickle(value))).toStrictEqual(afterRoundTrip(value));
      }),
      { numRuns: RUNS },
    );
  });

  it('protocol 5 reads back the same', () => {
    fc.assert(
      fc.property(pickleable, (value) => {
        expect(loadPickle(dumpPickle(value, 5))).toStrictEqual(loadPickle(dumpPickle(value, 4)));
      }),
      { numRuns: 200 },
    );
  });
});
