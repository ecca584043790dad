import { CacheProtocolError } from '@cachette/cache-core';
import fc from 'fast-check';
import { cutAt, largestAllocation, splitsOf, throwsOnly } from '@cachette/test-servers/fuzz';
import { describe, expect, it } from 'vitest';
import { BinaryResponseDecoder } from './binary/decoder';
import { binaryProtocol } from './binary/commands';
import { HEADER_SIZE, Opcode, RESPONSE_MAGIC } from './binary/header';
import type { ConnectionRequest } from './connection';
import { ItemPlacer, ItemRanges } from './item-ranges';
import type { MemcachedProtocol } from './protocol';
import { textProtocol } from './text/commands';
import { MAX_ITEM_BYTES } from './declared-length-buffer';
import { TextReplyDecoder } from './text/decoder';

const RUNS = 2000;
/** What a decoder may hold besides what it was given: one reply line (the text decoder's limit). */
const LINE_ALLOWANCE = 16 * 1024;

type Event = ['value', string, number, string, bigint | undefined] | ['line', string] | ['packet', string];

function decodeText(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const decoder = new TextReplyDecoder({
    value: ({ key, flags, cas }, source, start, end) => events.push(['value', key, flags, source.toString('hex', start, end), cas]),
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

// ---- multi-gets read in place ------------------------------------------------------------------

/** One key of a multi-get: asked for, and found (with its flags and data) or not. */
interface AskedKey {
  key: string;
  found: { flags: number; data: Uint8Array } | undefined;
}

const askedKeys = fc.array(
  fc.record({
    key: memcachedKey,
    found: fc.option(fc.record({ flags: fc.nat({ max: 0xffffffff }), data: fc.uint8Array({ maxLength: 40 }) }), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 6 },
);

/** memcached's text reply: a VALUE item for each key found, in the order asked, then END. */
function textMultiGetReply(asked: AskedKey[]): Buffer {
  const values = asked.flatMap(({ key, found }) => (found ? [encodeTextReply({ key, flags: found.flags, data: found.data, cas: undefined })] : []));
  return Buffer.concat([...values, Buffer.from('END\r\n')]);
}

/** memcached's binary reply to quiet gets: a getKQ response for each key found (opaque: its index), then the noop's. */
function binaryMultiGetReply(asked: AskedKey[]): Buffer {
  const response = (opcode: number, opaque: number, key: string, found?: AskedKey['found']): Buffer => {
    const keyBytes = Buffer.from(key);
    const extras = Buffer.alloc(found ? 4 : 0);
    if (found) extras.writeUInt32BE(found.flags);
    const body = Buffer.concat([extras, keyBytes, found?.data ?? new Uint8Array()]);
    const header = Buffer.alloc(HEADER_SIZE);
    header[0] = RESPONSE_MAGIC;
    header[1] = opcode;
    header.writeUInt16BE(keyBytes.length, 2);
    header[4] = extras.length;
    header.writeUInt32BE(body.length, 8);
    header.writeUInt32BE(opaque, 12);
    return Buffer.concat([header, body]);
  };
  const hits = asked.flatMap(({ key, found }, index) => (found ? [response(Opcode.getKQ, index, key, found)] : []));
  return Buffer.concat([...hits, response(Opcode.noop, 0, '')]);
}

type InPlaceItem = [number, string] | null;

/** A multi-get's reply fed in `chunks` to a protocol's decoder and in-place request: its items in key order, and how many lay in `chunks`. */
function readInPlace<R extends ConnectionRequest>(protocol: MemcachedProtocol<R>, keys: string[], chunks: Buffer[]): { items: InPlaceItem[]; inChunks: number } {
  const ranges = new ItemRanges(keys.length);
  const request = protocol.retrieveInPlace(keys, new ItemPlacer(ranges, keys, undefined));
  let finished = false;
  const decoder = protocol.createDecoder({ head: () => (finished ? undefined : request), finishHead: () => void (finished = true) });
  for (const chunk of chunks) decoder.write(chunk);
  expect(finished).toBe(true);
  const lies = (source: Buffer, chunk: Buffer): boolean =>
    chunk.buffer === source.buffer && chunk.byteOffset <= source.byteOffset && source.byteOffset < chunk.byteOffset + chunk.length;
  let inChunks = 0;
  const items = ranges.map<InPlaceItem, null>((flags, source, start, end) => {
    if (chunks.some((chunk) => lies(source, chunk))) inChunks++;
    return [flags, source.toString('hex', start, end)];
  }, null);
  return { items, inChunks };
}

const expectedItems = (asked: AskedKey[]): InPlaceItem[] => asked.map(({ found }) => (found ? [found.flags, Buffer.from(found.data).toString('hex')] : null));

describe.each([
  ['text', textProtocol, textMultiGetReply],
  ['binary', binaryProtocol, binaryMultiGetReply],
] as const)('fuzzing multi-gets read in place (%s protocol)', (_, protocol, encodeReply) => {
  const read = (keys: string[], chunks: Buffer[]) => readInPlace<ConnectionRequest>(protocol as MemcachedProtocol<ConnectionRequest>, keys, chunks);

  it('a reply in one chunk is read entirely in place, in key order', () => {
    fc.assert(
      fc.property(askedKeys, (asked) => {
        const { items, inChunks } = read(
          asked.map(({ key }) => key),
          [encodeReply(asked)],
        );
        expect(items).toEqual(expectedItems(asked));
        expect(inChunks).toBe(asked.filter(({ found }) => found).length);
      }),
      { numRuns: RUNS },
    );
  });

  it('a reply split at every point, and byte by byte, gives the same items', () => {
    fc.assert(
      fc.property(askedKeys.filter((asked) => asked.length <= 3), (asked) => {
        const keys = asked.map(({ key }) => key);
        const expected = expectedItems(asked);
        for (const chunks of splitsOf(encodeReply(asked))) expect(read(keys, chunks).items).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('a reply cut at random points gives the same items', () => {
    fc.assert(
      fc.property(askedKeys, fc.array(fc.nat(), { maxLength: 10 }), (asked, cuts) => {
        expect(read(asked.map(({ key }) => key), cutAt(encodeReply(asked), cuts)).items).toEqual(expectedItems(asked));
      }),
      { numRuns: RUNS },
    );
  });
});
