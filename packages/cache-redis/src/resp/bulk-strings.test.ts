import { describe, expect, it } from 'vitest';
import { BulkStrings } from './bulk-strings';
import { RespDecoder, type RespValue } from './decoder';

const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
/** An array reply's items as text, however it came. */
function asText(value: RespValue): unknown {
  const items = value instanceof BulkStrings ? value.toBuffers() : value;
  return Array.isArray(items) ? items.map((item) => (Buffer.isBuffer(item) ? item.toString('utf8') : item)) : items;
}

/** Decodes `wire` cut into the given chunks, asking for `BulkStrings` before every reply, as a connection whose commands read in place does. */
function decodeInPlace(wire: Buffer, cuts: number[]): RespValue[] {
  const replies: RespValue[] = [];
  const decoder = new RespDecoder({
    onReply: (value) => {
      replies.push(value);
      decoder.expectBulkStrings = true;
    },
  });
  decoder.expectBulkStrings = true;
  let offset = 0;
  for (const cut of [...cuts, wire.length]) {
    decoder.write(wire.subarray(offset, cut));
    offset = cut;
  }
  return replies;
}

describe('BulkStrings: array replies read in place', () => {
  const mget = Buffer.from(`*4\r\n${bulk('one')}$-1\r\n${bulk('')}${bulk('v\r\n*1\r\n$4\r\nPING\r\n')}`);
  const expected = ['one', null, '', 'v\r\n*1\r\n$4\r\nPING\r\n'];

  it('reads a whole array of bulk strings and nils without a Buffer per value, pointing into the chunk', () => {
    const [reply] = decodeInPlace(mget, []);
    expect(reply).toBeInstanceOf(BulkStrings);
    const strings = reply as BulkStrings;
    expect(strings.length).toBe(4);
    expect(strings.source.buffer).toBe(mget.buffer);
    expect(strings.map((source, start, end) => source.toString('utf8', start, end), 'nil')).toEqual(['one', 'nil', '', expected[3]]);
  });

  it('gives the same values, as a plain array, when the reply is split at any byte', () => {
    for (let cut = 1; cut < mget.length; cut++) {
      const [reply] = decodeInPlace(mget, [cut]);
      expect(asText(reply!), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('leaves other replies as they are: integers, errors, nested or mixed arrays, nil and empty arrays', () => {
    const wire = Buffer.from(`:7\r\n-ERR no\r\n*2\r\n:1\r\n${bulk('a')}*1\r\n*1\r\n${bulk('b')}*-1\r\n*0\r\n`);
    const replies = decodeInPlace(wire, []);
    expect(replies.slice(0, 4).map(asText)).toEqual([7, expect.objectContaining({ message: 'ERR no' }), [1, 'a'], [[Buffer.from('b')]]]);
    expect(replies[4]).toBeNull();
    expect(asText(replies[5]!)).toEqual([]);
  });

  it('does not allocate for a count the buffer cannot hold', () => {
    const replies = decodeInPlace(Buffer.from(`*2147483647\r\n${bulk('x')}`), []);
    expect(replies).toEqual([]);
  });

  it('reads nothing in place unless asked', () => {
    const replies: RespValue[] = [];
    new RespDecoder({ onReply: (value) => replies.push(value) }).write(mget);
    expect(Array.isArray(replies[0])).toBe(true);
  });

  it('builds from separate Buffers, nils kept in their places', () => {
    const strings = BulkStrings.of([null, Buffer.from('ab'), null, Buffer.from('c')]);
    expect(strings.toBuffers()).toEqual([null, Buffer.from('ab'), null, Buffer.from('c')]);
    expect(BulkStrings.of([null]).toBuffers()).toEqual([null]);
    expect(BulkStrings.of([]).length).toBe(0);
  });
});
