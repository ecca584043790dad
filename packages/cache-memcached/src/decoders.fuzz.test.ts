import { CacheProtocolError } from '@cachette/cache-core';
import fc from 'fast-check';
import { cutAt, largestAllocation, splitsOf, throwsOnly } from '@cachette/test-servers/fuzz';
import { describe, expect, it } from 'vitest';
import { BinaryResponseDecoder } from './binary/decoder';
import { HEADER_SIZE, RESPONSE_MAGIC } from './binary/header';
import { MAX_ITEM_BYTES } from './declared-length-buffer';
import { TextReplyDecoder } from './text/decoder';

const RUNS = 2000;
/** What a decoder may hold besides what it was given: one reply line (the text decoder's limit). */
const LINE_ALLOWANCE = 16 * 1024;

type Event = ['value', string, number, string, bigint | undefined] | ['line', string] | ['packet', string];

function decodeText(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const decoder = new TextReplyDecoder({
    value: (key, flags, data, cas) => events.push(['value', key, flags, data.toString('hex'), cas]),
    line: (line) => events.push(['line', line]),
  });
  for (const chunk of chunks) decoder.write(chunk);
  return events;
}

function decodeBinary(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const decoder = new BinaryResponseDecoder((packet) => events.push(['packet', packet.toString('hex')]));
  for (const chunk of chunks) decoder.write(chunk);
  return events;
}

/**
 * Decoding `chunks` either gives replies or throws CacheProtocolError, and never allocates more
 * than twice what it was given (plus one line): a declared length is no reason to allocate.
 */
function decodesSafely(decode: (chunks: Buffer[]) => unknown, chunks: Buffer[]): void {
  const given = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const largest = largestAllocation(() => throwsOnly(CacheProtocolError, () => decode(chunks)));
  expect(largest).toBeLessThanOrEqual(2 * given + LINE_ALLOWANCE);
}

const chunked = (bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer[]> =>
  fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 6 })).map(([stream, cuts]) => cutAt(stream, cuts));

/** Declared lengths worth trying: small, at the limits, and far beyond anything that will arrive. */
const declaredLength = fc.oneof(
  fc.nat(40),
  fc.constantFrom(MAX_ITEM_BYTES, MAX_ITEM_BYTES + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 53, 10 ** 20),
);

// ---- text protocol -----------------------------------------------------------------------------

const memcachedKey = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((key) => /^[^\s\p{Cc}]+$/u.test(key));
const replyLine = fc.oneof(
  fc.constantFrom('END', 'STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND', 'DELETED', 'TOUCHED', 'OK', 'ERROR'),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((text) => `SERVER_ERROR ${text}`),
  fc.tuple(fc.stringMatching(/^[a-z_]{1,12}$/), fc.nat()).map(([name, value]) => `STAT ${name} ${value}`),
);
type TextReply = { key: string; flags: number; data: Uint8Array; cas: bigint | undefined } | string;
const textReply: fc.Arbitrary<TextReply> = fc.oneof(
  replyLine,
  fc.record({
    key: memcachedKey,
    flags: fc.nat({ max: 0xffffffff }),
    data: fc.uint8Array({ maxLength: 60 }),
    cas: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
  }),
);

function encodeTextReply(reply: TextReply): Buffer {
  if (typeof reply === 'string') return Buffer.from(`${reply}\r\n`, 'latin1');
  const cas = reply.cas === undefined ? '' : ` ${reply.cas}`;
  return Buffer.concat([Buffer.from(`VALUE ${reply.key} ${reply.flags} ${reply.data.length}${cas}\r\n`), reply.data, Buffer.from('\r\n')]);
}

function expectedTextEvent(reply: TextReply): Event {
  if (typeof reply === 'string') return ['line', reply];
  return ['value', reply.key, reply.flags, Buffer.from(reply.data).toString('hex'), reply.cas];
}

/** Pieces of reply lines in any order: reaches the VALUE parser far more often than noise. */
const textSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('VALUE ', ' ', '\r\n', '\n', '\r', 'END', 'k', '0', '-1', '99999999999999999999999'),
      declaredLength.map(String),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((pieces) => Buffer.from(pieces.join(''), 'utf8'));

describe('fuzzing the text-protocol decoder', () => {
  it('random bytes in random chunks give replies or CacheProtocolError, within bounded memory', () => {
    fc.assert(fc.property(chunked(fc.uint8Array({ maxLength: 300 }).map(Buffer.from)), (chunks) => decodesSafely(decodeText, chunks)), {
      numRuns: RUNS,
    });
  });

  it('random pieces of reply lines give replies or CacheProtocolError, within bounded memory', () => {
    fc.assert(fc.property(chunked(textSoup), (chunks) => decodesSafely(decodeText, chunks)), { numRuns: RUNS });
  });

  it('valid replies decode to what was encoded, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(textReply, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (replies, cuts) => {
        const stream = Buffer.concat(replies.map(encodeTextReply));
        expect(decodeText(cutAt(stream, cuts))).toEqual(replies.map(expectedTextEvent));
      }),
      { numRuns: RUNS },
    );
  });

  it('small valid streams decode the same at every split point and byte by byte', () => {
    fc.assert(
      fc.property(fc.array(textReply, { maxLength: 3 }), (replies) => {
        const stream = Buffer.concat(replies.map(encodeTextReply));
        const expected = replies.map(expectedTextEvent);
        for (const chunks of splitsOf(stream)) expect(decodeText(chunks)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['2^31 - 1', 2 ** 31 - 1],
    ['2^32 - 1', 2 ** 32 - 1],
    ['2^53', 2 ** 53],
    ['1 GiB + 1', MAX_ITEM_BYTES + 1],
  ])('rejects a VALUE line declaring %s bytes without allocating them', (_, length) => {
    const line = Buffer.from(`VALUE k 0 ${length}\r\nabc`);
    const largest = largestAllocation(() => expect(() => decodeText([line])).toThrow(CacheProtocolError));
    expect(largest).toBeLessThan(LINE_ALLOWANCE);
  });

  it('waits for a 1 GiB value with memory for what arrived only', () => {
    const largest = largestAllocation(() => {
      expect(decodeText([Buffer.from(`VALUE k 0 ${MAX_ITEM_BYTES}\r\n`), Buffer.alloc(1000, 'x'), Buffer.alloc(1000, 'y')])).toEqual([]);
    });
    expect(largest).toBeLessThanOrEqual(2000);
  });
});

// ---- binary protocol ---------------------------------------------------------------------------

interface Packet {
  header: Uint8Array;
  bodyLength: number;
  body: Uint8Array;
}

/** A response header: the response magic (mostly), random fields, and the given body length. */
function encodePacket({ header, bodyLength, body }: Packet): Buffer {
  const packet = Buffer.concat([Buffer.from(header), Buffer.from(body)]);
  packet.writeUInt32BE(bodyLength, 8);
  return packet;
}

const header = fc
  .tuple(fc.uint8Array({ minLength: HEADER_SIZE, maxLength: HEADER_SIZE }), fc.boolean())
  .map(([bytes, keepMagic]) => (keepMagic ? Uint8Array.of(RESPONSE_MAGIC, ...bytes.subarray(1)) : bytes));

/** Packets whose declared body length may say anything, followed by bodies of any length. */
const anyPacket: fc.Arbitrary<Packet> = fc.record({
  header,
  bodyLength: fc.oneof(fc.nat(60), declaredLength.map((length) => Math.min(length, 0xffffffff))),
  body: fc.uint8Array({ maxLength: 60 }),
});

/** Packets exactly as long as their header says. */
const validPacket: fc.Arbitrary<Packet> = fc
  .tuple(fc.uint8Array({ minLength: HEADER_SIZE, maxLength: HEADER_SIZE }), fc.uint8Array({ maxLength: 60 }))
  .map(([bytes, body]) => ({ header: Uint8Array.of(RESPONSE_MAGIC, ...bytes.subarray(1)), bodyLength: body.length, body }));

const packetEvents = (packets: Packet[]): Event[] => packets.map((packet) => ['packet', encodePacket(packet).toString('hex')]);

describe('fuzzing the binary-protocol decoder', () => {
  it('random bytes in random chunks give packets or CacheProtocolError, within bounded memory', () => {
    fc.assert(fc.property(chunked(fc.uint8Array({ maxLength: 300 }).map(Buffer.from)), (chunks) => decodesSafely(decodeBinary, chunks)), {
      numRuns: RUNS,
    });
  });

  it('packets declaring any body length give packets or CacheProtocolError, within bounded memory', () => {
    const stream = fc.array(anyPacket, { maxLength: 5 }).map((packets) => Buffer.concat(packets.map(encodePacket)));
    fc.assert(fc.property(chunked(stream), (chunks) => decodesSafely(decodeBinary, chunks)), { numRuns: RUNS });
  });

  it('valid packets decode to what was encoded, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(validPacket, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map(encodePacket));
        expect(decodeBinary(cutAt(stream, cuts))).toEqual(packetEvents(packets));
      }),
      { numRuns: RUNS },
    );
  });

  it('small valid streams decode the same at every split point and byte by byte', () => {
    fc.assert(
      fc.property(fc.array(validPacket, { maxLength: 3 }), (packets) => {
        const expected = packetEvents(packets);
        for (const chunks of splitsOf(Buffer.concat(packets.map(encodePacket)))) expect(decodeBinary(chunks)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('waits for a packet announcing the largest body with memory for what arrived only', () => {
    const packet = encodePacket({ header: Uint8Array.of(RESPONSE_MAGIC, ...new Uint8Array(HEADER_SIZE - 1)), bodyLength: MAX_ITEM_BYTES, body: new Uint8Array(1000) });
    for (const chunks of [[packet], [packet.subarray(0, 10), packet.subarray(10)]]) {
      const largest = largestAllocation(() => expect(decodeBinary([...chunks, Buffer.alloc(1000)])).toEqual([]));
      expect(largest).toBeLessThanOrEqual(2 * (packet.length + 1000));
    }
  });

  it('rejects a packet announcing a 4 GiB body at once', () => {
    const packet = encodePacket({ header: Uint8Array.of(RESPONSE_MAGIC, ...new Uint8Array(HEADER_SIZE - 1)), bodyLength: 0xffffffff, body: new Uint8Array(0) });
    expect(() => decodeBinary([packet])).toThrow(CacheProtocolError);
    expect(() => decodeBinary([packet.subarray(0, 5), packet.subarray(5)])).toThrow(CacheProtocolError);
  });
});
