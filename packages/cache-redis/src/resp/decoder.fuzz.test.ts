import { getHeapStatistics } from 'node:v8';
import { CacheProtocolError } from '@cachette/cache-core';
import fc from 'fast-check';
import { cutAt, largestAllocation, splitsOf, throwsOnly } from '@cachette/test-servers/fuzz';
import { describe, expect, it } from 'vitest';
import { BulkStrings } from './bulk-strings';
import { RespDecoder } from './decoder';
import { RedisReplyError } from './reply-error';

const RUNS = 2000;

type Event = ['reply' | 'push' | 'attribute', unknown];

/** A decoded value as plain data, so values compare by content (Buffers by bytes, errors by message). */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (value instanceof BulkStrings) return value.map((source, start, end) => plain(source.subarray(start, end)), null);
  if (value instanceof RedisReplyError) return { error: value.message };
  if (value instanceof Map) return { map: [...value].map(([key, item]) => [plain(key), plain(item)]) };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'bigint') return { bigint: String(value) };
  return value;
}

interface DecodeOptions {
  bulkStrings?: boolean;
  /** Sets `expectBulkStrings` before the stream, as `getMany` does before its MGET reply. */
  expectBulkStrings?: boolean;
}

function decode(chunks: Buffer[], { bulkStrings = false, expectBulkStrings = false }: DecodeOptions = {}): Event[] {
  const events: Event[] = [];
  const decoder = new RespDecoder(
    {
      onReply: (value) => events.push(['reply', plain(value)]),
      onPush: (value) => events.push(['push', plain(value)]),
      onAttribute: (value) => events.push(['attribute', plain(value)]),
    },
    { bulkStrings },
  );
  decoder.expectBulkStrings = expectBulkStrings;
  for (const chunk of chunks) decoder.write(chunk);
  return events;
}

/**
 * Decoding `chunks` either gives replies or throws CacheProtocolError, and allocates no Buffer
 * larger than what it was given: a declared length is no reason to allocate. (A decoder that
 * loops forever never returns: the run stalls, and the regression cases below keep the inputs
 * that once did.)
 */
function decodesSafely(chunks: Buffer[], options: DecodeOptions = {}): void {
  const given = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const largest = largestAllocation(() => throwsOnly(CacheProtocolError, () => decode(chunks, options)));
  expect(largest, Buffer.concat(chunks).toString('hex').slice(0, 200)).toBeLessThanOrEqual(given);
}

const chunked = (bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer[]> =>
  fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 6 })).map(([stream, cuts]) => cutAt(stream, cuts));

// ---- valid replies: the bytes on the wire, and the value the decoder must give ----------------------

/** One reply as it is written, and the value decoding it gives. */
interface Wire {
  bytes: Buffer;
  value: unknown;
}

const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((line) => !/[\r\n]/.test(line));
const bytesOf = (...parts: Array<string | Uint8Array>): Buffer => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));

function blob(type: string, data: Uint8Array): Buffer {
  return bytesOf(`${type}${data.length}\r\n`, data, '\r\n');
}

/** `bulkStrings`: the decoder's option (bulk and verbatim strings as UTF-8 text). */
function scalars(bulkStrings: boolean): fc.Arbitrary<Wire> {
  const asText = (data: Uint8Array): unknown => (bulkStrings ? Buffer.from(data).toString('utf8') : Buffer.from(data));
  return fc.oneof(
    text.map((line) => ({ bytes: bytesOf(`+${line}\r\n`), value: line })),
    text.map((line) => ({ bytes: bytesOf(`-${line}\r\n`), value: new RedisReplyError(line) })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((integer) => ({
      bytes: bytesOf(`:${integer}\r\n`),
      value: Number.isSafeInteger(Number(integer)) ? Number(integer) : integer,
    })),
    fc.uint8Array({ maxLength: 30 }).map((data) => ({ bytes: blob('$', data), value: asText(data) })),
    fc.uint8Array({ maxLength: 20 }).map((data) => ({ bytes: blob('=', bytesOf('txt:', data)), value: asText(data) })),
    text.map((message) => ({ bytes: blob('!', Buffer.from(message)), value: new RedisReplyError(message) })),
    fc.constantFrom('_\r\n', '$-1\r\n', '*-1\r\n').map((nil) => ({ bytes: bytesOf(nil), value: null })),
    fc.boolean().map((flag) => ({ bytes: bytesOf(flag ? '#t\r\n' : '#f\r\n'), value: flag })),
    fc.double().map((number) => ({ bytes: bytesOf(`,${doubleText(number)}\r\n`), value: Object.is(number, -0) ? 0 : number })),
    fc.bigInt().map((integer) => ({ bytes: bytesOf(`(${integer}\r\n`), value: integer })),
    fc.array(fc.uint8Array({ minLength: 1, maxLength: 10 }), { maxLength: 4 }).map((parts) => ({
      bytes: bytesOf('$?\r\n', ...parts.map((part) => blob(';', part)), ';0\r\n'),
      value: asText(Buffer.concat(parts)),
    })),
  );
}

function doubleText(number: number): string {
  if (Number.isNaN(number)) return 'nan';
  if (number === Infinity) return 'inf';
  if (number === -Infinity) return '-inf';
  return String(number);
}

/** An aggregate of `items`: sized or streamed (`?` … `.`). */
function aggregate(type: string, items: Wire[], streamed: boolean, pairs = false): Buffer {
  const count = pairs ? items.length / 2 : items.length;
  return bytesOf(streamed ? `${type}?\r\n` : `${type}${count}\r\n`, ...items.map((item) => item.bytes), streamed ? '.\r\n' : '');
}

function mapOf(entries: Array<[Wire, Wire]>): Map<unknown, unknown> {
  return new Map(entries.map(([key, item]) => [key.value, item.value]));
}

function replyTree(bulkStrings: boolean): fc.Arbitrary<Wire> {
  return fc.letrec<{ reply: Wire }>((tie) => ({
    reply: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalars(bulkStrings),
      fc.tuple(fc.constantFrom('*', '~'), fc.array(tie('reply'), { maxLength: 4 }), fc.boolean()).map(([type, items, streamed]) => ({
        bytes: aggregate(type, items, streamed),
        value: items.map((item) => item.value),
      })),
      fc.tuple(fc.array(fc.tuple(tie('reply'), tie('reply')), { maxLength: 3 }), fc.boolean()).map(([entries, streamed]) => ({
        bytes: aggregate('%', entries.flat(), streamed, true),
        value: mapOf(entries),
      })),
    ),
  })).reply;
}

/** A top-level stream element: a reply, perhaps after attributes, or an out-of-band push. */
function streamElement(bulkStrings: boolean): fc.Arbitrary<{ bytes: Buffer; events: Event[] }> {
  const reply = replyTree(bulkStrings);
  return fc.oneof(
    reply.map(({ bytes, value }) => ({ bytes, events: [['reply', plain(value)]] as Event[] })),
    fc.array(reply, { maxLength: 3 }).map((items) => ({
      bytes: aggregate('>', items, false),
      events: [['push', plain(items.map((item) => item.value))]] as Event[],
    })),
    fc.tuple(fc.array(fc.tuple(reply, reply), { maxLength: 2 }), reply).map(([entries, { bytes, value }]) => ({
      bytes: bytesOf(aggregate('|', entries.flat(), false, true), bytes),
      events: [['attribute', plain(mapOf(entries))], ['reply', plain(value)]] as Event[],
    })),
  );
}

function validStream(bulkStrings: boolean, maxLength: number): fc.Arbitrary<{ bytes: Buffer; events: Event[] }> {
  return fc.array(streamElement(bulkStrings), { maxLength }).map((elements) => ({
    bytes: Buffer.concat(elements.map((element) => element.bytes)),
    events: elements.flatMap((element) => element.events),
  }));
}

// ---- hostile streams ------------------------------------------------------------------------------

/** Lengths and counts worth trying: small, negative, at the limits, and far beyond anything that will arrive. */
const declaredLength = fc.oneof(
  fc.integer({ min: -10, max: 40 }),
  fc.constantFrom(2 ** 25, 2 ** 29, 2 ** 29 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 64, 10 ** 30),
);

/** Type bytes, lengths and line ends in any order: reaches every reader far more often than noise. */
const respSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...'$!=:;*%~>|+-_#,(.?'.split(''), '\r\n', '\r', '\n', '$?', '*?', ';0', 'txt:', 'inf', 'nan'),
      declaredLength.map(String),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 30 },
  )
  .map((pieces) => Buffer.from(pieces.join(''), 'utf8'));

describe('fuzzing the RESP decoder', () => {
  it('random bytes in random chunks give replies or CacheProtocolError, within bounded memory', () => {
    fc.assert(fc.property(chunked(fc.uint8Array({ maxLength: 300 }).map(Buffer.from)), fc.boolean(), (chunks, expectBulkStrings) => decodesSafely(chunks, { expectBulkStrings })), {
      numRuns: RUNS,
    });
  });

  it('random type bytes, lengths and line ends give replies or CacheProtocolError, within bounded memory', () => {
    fc.assert(fc.property(chunked(respSoup), fc.boolean(), (chunks, expectBulkStrings) => decodesSafely(chunks, { expectBulkStrings })), { numRuns: RUNS });
  });

  it('mutated valid streams give replies or CacheProtocolError, within bounded memory', () => {
    fc.assert(
      fc.property(validStream(false, 4), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 4 }), ({ bytes }, changes, cuts) => {
        const mutated = Buffer.from(bytes);
        for (const [at, byte] of changes) if (mutated.length) mutated[at % mutated.length] = byte;
        decodesSafely(cutAt(mutated, cuts));
      }),
      { numRuns: RUNS },
    );
  });

  it.each([false, true])('valid streams decode to what was encoded, however they are cut (bulkStrings: %s)', (bulkStrings) => {
    fc.assert(
      fc.property(validStream(bulkStrings, 5), fc.array(fc.nat(), { maxLength: 10 }), ({ bytes, events }, cuts) => {
        expect(decode([bytes], { bulkStrings })).toEqual(events);
        expect(decode(cutAt(bytes, cuts), { bulkStrings })).toEqual(events);
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('small valid streams decode the same at every split point and byte by byte', () => {
    fc.assert(
      fc.property(validStream(false, 2), ({ bytes, events }) => {
        for (const chunks of splitsOf(bytes)) expect(decode(chunks)).toEqual(events);
      }),
      { numRuns: 40 },
    );
  });

  it('an array of bulk strings reads the same whether or not it is expected as BulkStrings', () => {
    const bulk = fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null });
    fc.assert(
      fc.property(fc.array(bulk, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 4 }), (items, cuts) => {
        const bytes = bytesOf(`*${items.length}\r\n`, ...items.map((item) => (item === null ? Buffer.from('$-1\r\n') : blob('$', item))));
        const expected: Event[] = [['reply', plain(items.map((item) => (item === null ? null : Buffer.from(item))))]];
        expect(decode(cutAt(bytes, cuts), { expectBulkStrings: true })).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

/** Heap in use after a full collection (run with --expose-gc when available; otherwise a rough figure). */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return getHeapStatistics().used_heap_size;
}

describe('RESP decoder regressions found by fuzzing', () => {
  it.each([
    ['a big number that is not a number', '(abc\r\n'],
    ['a big number with no digits', '($\r\n'],
    ['a streamed string holding something other than chunks', '$?\r\n:1\r\n;0\r\n'],
    ['a negative bulk length', '$-7\r\n'],
    ['a negative chunk length', '$?\r\n;-9\r\n'],
    ['a negative array count', '*-5\r\n'],
    ['a negative map count', '%-3\r\n'],
    ['a length with more digits than any length', `$${'9'.repeat(400)}\r\n`],
    ['a bulk string longer than 512 MiB', `$${512 * 1024 * 1024 + 1}\r\n`],
    ['an array count of 2^32', '*4294967296\r\n'],
    ['a map count of 2^31 (2^32 items)', '%2147483648\r\n'],
  ])('rejects %s with CacheProtocolError', (_, wire) => {
    expect(() => decode([Buffer.from(wire)])).toThrow(CacheProtocolError);
  });

  it('waits for a 512 MiB bulk string with memory for what arrived only', () => {
    const largest = largestAllocation(() => {
      expect(decode([Buffer.from(`$${512 * 1024 * 1024}\r\n`), Buffer.alloc(1000, 'x'), Buffer.alloc(1000, 'y')])).toEqual([]);
    });
    expect(largest).toBeLessThanOrEqual(2100);
  });

  it('rejects a line that never ends instead of buffering it without bound', () => {
    const decoder = new RespDecoder({ onReply: () => {} });
    const piece = Buffer.alloc(1024 * 1024, 'a');
    decoder.write(Buffer.from('+'));
    expect(() => {
      for (let written = 0; written <= 600; written++) decoder.write(piece);
    }).toThrow(CacheProtocolError);
  });

  it('does not allocate for array counts that have not arrived', () => {
    const before = heapUsed();
    const decoder = new RespDecoder({ onReply: () => {} });
    // 200 nested arrays each announcing 2^25 - 1 items: 8 bytes a slot would be 50 GiB.
    for (let depth = 0; depth < 200; depth++) decoder.write(Buffer.from(`*${2 ** 25 - 1}\r\n`));
    decoder.write(Buffer.from('*99999\r\n'.repeat(1000)));
    expect(heapUsed() - before).toBeLessThan(64 * 1024 * 1024);
  });
});
