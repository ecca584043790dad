import { deflateSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerializationError } from '@cachette/cache-core';
import { FileCache } from '../src/index';
import { djangoFormat } from '../src/django-format';
import { cachetteFormat, type EntryFormat } from '../src/entry-format';

const RUNS = 2000;
/** Each run writes and reads a file: fewer of them. */
const FILE_RUNS = 300;

const formats: Array<[string, EntryFormat]> = [
  ['Cachette', cachetteFormat],
  ['Django', djangoFormat],
];

/** A header either is refused or says where a body inside `contents` starts. */
function decodesSafely(format: EntryFormat, contents: Buffer): void {
  const header = format.decodeHeader(contents);
  if (header === undefined) return;
  expect(header.expiry === null || typeof header.expiry === 'number').toBe(true);
  expect(Number.isInteger(header.bodyOffset) && header.bodyOffset > 0 && header.bodyOffset <= contents.length).toBe(true);
}

const expiry = fc.option(fc.double({ noNaN: true }), { nil: null });

/** Pieces of pickled expiries (PROTO, FRAME with any 8-byte length, BINFLOAT, NONE, STOP) in any order. */
const djangoSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom([0x80, 4], [0x80, 2], [0x95], [0x47], [0x4e], [0x2e]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((length) => [...Buffer.from(length.toString(16).padStart(16, '0'), 'hex').reverse()]),
      fc.uint8Array({ maxLength: 9 }).map((bytes) => [...bytes]),
    ),
    { maxLength: 8 },
  )
  .map((pieces) => Buffer.from(pieces.flat()));

describe.each(formats)('fuzzing the %s entry header', (_, format) => {
  it('random bytes are refused or give an expiry and a body inside the file, never an exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }).map(Buffer.from), (contents) => decodesSafely(format, contents)), { numRuns: RUNS });
    fc.assert(fc.property(djangoSoup, (contents) => decodesSafely(format, contents)), { numRuns: RUNS });
  });

  it('a written header reads back its expiry, whatever body follows', () => {
    fc.assert(
      fc.property(expiry, fc.uint8Array({ maxLength: 32 }), (written, body) => {
        const header = format.encodeHeader(written);
        expect(format.decodeHeader(Buffer.concat([header, body]))).toEqual({ expiry: written, bodyOffset: header.length });
      }),
      { numRuns: RUNS },
    );
  });

  it('a truncated header is refused', () => {
    fc.assert(
      fc.property(expiry, fc.nat(), (written, cut) => {
        const header = format.encodeHeader(written);
        expect(format.decodeHeader(header.subarray(0, cut % header.length))).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });
});

describe('a Django header declaring a huge frame', () => {
  it.each([2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 2n ** 64n - 1n])('is refused without reading on (frame length %s)', (length) => {
    const header = Buffer.from(djangoFormat.encodeHeader(1.5));
    header.writeBigUInt64LE(length, 3);
    expect(djangoFormat.decodeHeader(Buffer.concat([header, Buffer.from('body')]))).toBeUndefined();
  });
});

describe('fuzzing FileCache over damaged files', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'cachette-file-fuzz-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Contents a reader may find: noise, a good header over noise or over compressed noise, or a good entry with bytes changed. */
  const damagedFile = (format: EntryFormat, entry: Buffer): fc.Arbitrary<Buffer> =>
    fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map(Buffer.from),
      fc.tuple(expiry, fc.uint8Array({ maxLength: 40 })).map(([written, body]) => Buffer.concat([format.encodeHeader(written), body])),
      fc.uint8Array({ maxLength: 40 }).map((body) => Buffer.concat([format.encodeHeader(null), deflateSync(body)])),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
        const damaged = Buffer.from(entry);
        damaged[at % damaged.length]! ^= flip;
        return damaged;
      }),
    );

  it.each(['v8', 'json', 'pickle'] as const)('get with the %s serializer gives a value, the default or a SerializationError', async (serializer) => {
    const cache = new FileCache({ location: directory, options: { serializer } });
    await cache.set('key', { list: [1, 'two', null], text: 'value' }, null);
    const path = cache.filePath(cache.makeKey('key'));
    const entry = await readFile(path);
    const format = serializer === 'pickle' ? djangoFormat : cachetteFormat;
    await fc.assert(
      fc.asyncProperty(damagedFile(format, entry), async (contents) => {
        await writeFile(path, contents);
        await cache.get('key', 'default').catch((error: unknown) => {
          if (!(error instanceof SerializationError)) throw error;
        });
      }),
      { numRuns: FILE_RUNS },
    );
  });
});
