import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { TextReplyDecoder, type ValueHeader } from './decoder';

type Event = ['value', string, number, string, bigint | undefined] | ['line', string];

function decode(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const decoder = new TextReplyDecoder({
    value: ({ key, flags, cas }, source, start, end) => events.push(['value', key, flags, source.toString('latin1', start, end), cas]),
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

  it('reads a value that lies whole in its chunk in place, and gathers a split one into a buffer holding exactly it', () => {
    const sources: Array<[Buffer, number, number]> = [];
    const decoder = new TextReplyDecoder({ value: (_header, source, start, end) => sources.push([source, start, end]), line: () => {} });
    const whole = Buffer.from('VALUE k 0 3\r\nabc\r\nVALUE s 0 3\r\nde');
    decoder.write(whole);
    decoder.write(Buffer.from('f\r\n'));
    expect(sources[0]).toEqual([whole, 13, 16]);
    const [split, start, end] = sources[1]!;
    expect([split.toString(), start, end]).toEqual(['def', 0, 3]);
  });

  it('compares a VALUE line\'s key with a key asked for as bytes, and decodes it only on demand', () => {
    const headers: ValueHeader[] = [];
    const decoder = new TextReplyDecoder({ value: (header) => headers.push(header), line: () => {} });
    decoder.write(Buffer.from('VALUE key:1 0 0\r\n\r\nVALUE clé-鍵 0 0\r\n\r\n'));
    const [ascii, multiByte] = headers;
    expect([ascii!.key, multiByte!.key]).toEqual(['key:1', 'clé-鍵']);
    expect(['key:1', 'key:2', 'key:', 'key:10', 'clé-鍵'].map((key) => ascii!.matches(key))).toEqual([true, false, false, false, false]);
    expect(['clé-鍵', 'clé-鍵x', 'cle-', 'key:1', 'clÃ©-é\x8D\xB5'].map((key) => multiByte!.matches(key))).toEqual([true, false, false, false, false]);
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
