import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { TextReplyDecoder } from './decoder';

type Event = ['value', string, number, string, bigint | undefined] | ['line', string];

function decode(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const decoder = new TextReplyDecoder({
    value: (key, flags, data, cas) => events.push(['value', key, flags, data.toString('latin1'), cas]),
    line: (line) => events.push(['line', line]),
  });
  for (const chunk of chunks) decoder.write(chunk);
  return events;
}

/** Every way of cutting `bytes` into two chunks, and one byte at a time. */
function splits(bytes: Buffer): Buffer[][] {
  const result: Buffer[][] = [[bytes], [...bytes].map((byte) => Buffer.from([byte]))];
  for (let cut = 1; cut < bytes.length; cut++) result.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return result;
}

describe('TextReplyDecoder', () => {
  it('reads values by their declared length, whatever they contain and wherever chunks end', () => {
    const tricky = Buffer.concat([Buffer.from('a\r\nEND\r\nVALUE x 0 1\r\n', 'latin1'), Buffer.from([0, 255, 13, 10])]);
    const multiByte = Buffer.from('日本語 🎉', 'utf8');
    const reply = Buffer.concat([
      Buffer.from(`VALUE k1 7 ${tricky.length}\r\n`),
      tricky,
      Buffer.from(`\r\nVALUE clé 4294967295 ${multiByte.length} 12345678901234567890\r\n`),
      multiByte,
      Buffer.from('\r\nEND\r\nSTORED\r\n'),
    ]);
    const expected: Event[] = [
      ['value', 'k1', 7, tricky.toString('latin1'), undefined],
      ['value', 'clé', 4294967295, multiByte.toString('latin1'), 12345678901234567890n],
      ['line', 'END'],
      ['line', 'STORED'],
    ];
    for (const chunks of splits(reply)) expect(decode(chunks)).toEqual(expected);
  });

  it('reads an empty value and a value split over many chunks', () => {
    const big = Buffer.alloc(100_000, 'x');
    const reply = Buffer.concat([Buffer.from('VALUE e 0 0\r\n\r\nVALUE big 0 100000\r\n'), big, Buffer.from('\r\nEND\r\n')]);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < reply.length; offset += 4096) chunks.push(reply.subarray(offset, offset + 4096));
    const events = decode(chunks);
    expect(events.map((event) => event[1])).toEqual(['e', 'big', 'END']);
    expect(events[1]![3]).toBe(big.toString('latin1'));
  });

  it('gives values Buffers of their own, not views of the socket chunk', () => {
    const chunk = Buffer.from('VALUE k 0 3\r\nabc\r\n');
    let data: Buffer | undefined;
    new TextReplyDecoder({ value: (_key, _flags, value) => (data = value), line: () => {} }).write(chunk);
    chunk.fill(0);
    expect(data?.toString()).toBe('abc');
  });

  it.each([
    ['a bad byte count', 'VALUE k 0 x\r\nabc\r\n'],
    ['a value without its line end', 'VALUE k 0 3\r\nabcd\r\n'],
    ['a VALUE line without flags', 'VALUE k\r\n'],
  ])('rejects %s with CacheProtocolError', (_, reply) => {
    expect(() => decode([Buffer.from(reply)])).toThrow(CacheProtocolError);
  });

  it('rejects an endless line instead of buffering it forever', () => {
    expect(() => decode([Buffer.alloc(10_000, 'a')])).toThrow(CacheProtocolError);
  });
});
