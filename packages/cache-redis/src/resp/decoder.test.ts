import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { RespDecoder, type RespValue } from './decoder';
import { RedisReplyError } from './reply-error';

interface Decoded {
  replies: RespValue[];
  pushes: RespValue[][];
  attributes: Array<Map<RespValue, RespValue>>;
}

function decodeInChunks(wire: string | Buffer, chunkSizes: number[] | number, bulkStrings = false): Decoded {
  const decoded: Decoded = { replies: [], pushes: [], attributes: [] };
  const decoder = new RespDecoder(
    {
      onReply: (value) => decoded.replies.push(value),
      onPush: (value) => decoded.pushes.push(value),
      onAttribute: (value) => decoded.attributes.push(value),
    },
    { bulkStrings },
  );
  const bytes = Buffer.isBuffer(wire) ? wire : Buffer.from(wire, 'utf8');
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = typeof chunkSizes === 'number' ? chunkSizes : (chunkSizes[i] ?? bytes.length);
    decoder.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return decoded;
}

function decodeAll(wire: string | Buffer, bulkStrings = false): RespValue[] {
  return decodeInChunks(wire, Buffer.byteLength(wire as string), bulkStrings).replies;
}

describe('RespDecoder: RESP2 types', () => {
  it('decodes simple strings, errors, integers, bulk strings and arrays', () => {
    const [ok, error, integer, negative, bulk, empty, nullBulk, array, nullArray] = decodeAll(
      '+OK\r\n-WRONGTYPE Operation against a key\r\n:1000\r\n:-42\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*2\r\n:1\r\n$1\r\na\r\n*-1\r\n',
    );
    expect(ok).toBe('OK');
    expect(error).toBeInstanceOf(RedisReplyError);
    expect(error).toBeInstanceOf(CacheProtocolError);
    expect((error as RedisReplyError).code).toBe('WRONGTYPE');
    expect((error as RedisReplyError).message).toBe('WRONGTYPE Operation against a key');
    expect(integer).toBe(1000);
    expect(negative).toBe(-42);
    expect(bulk).toEqual(Buffer.from('hello'));
    expect(empty).toEqual(Buffer.alloc(0));
    expect(nullBulk).toBeNull();
    expect(array).toEqual([1, Buffer.from('a')]);
    expect(nullArray).toBeNull();
  });

  it('returns bulk strings as text when asked', () => {
    expect(decodeAll('$5\r\ncafé\r\n', true)).toEqual(['café']);
  });

  it('reads integers beyond the safe range as bigints', () => {
    expect(decodeAll(':9223372036854775807\r\n:-9223372036854775808\r\n:123456789012345\r\n')).toEqual([
      9223372036854775807n,
      -9223372036854775808n,
      123456789012345,
    ]);
  });

  it('reads binary bulk strings by length, even when they hold CRLF and RESP-looking bytes', () => {
    const value = Buffer.concat([Buffer.from('\r\n+OK\r\n$3\r\n'), Buffer.from([0, 255, 13, 10])]);
    const wire = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n:7\r\n')]);
    for (let size = 1; size <= wire.length; size++) expect(decodeInChunks(wire, size).replies).toEqual([value, 7]);
  });

  it('decodes nested arrays with errors inside, as EXEC replies them', () => {
    const [reply] = decodeAll('*3\r\n*2\r\n+a\r\n*0\r\n-ERR inner\r\n$-1\r\n');
    expect((reply as RespValue[])[0]).toEqual(['a', []]);
    expect((reply as RespValue[])[1]).toBeInstanceOf(RedisReplyError);
    expect((reply as RespValue[])[2]).toBeNull();
  });
});

describe('RespDecoder: RESP3 types', () => {
  it('decodes null, booleans, doubles, big numbers, bulk errors and verbatim strings', () => {
    const replies = decodeAll(
      '_\r\n#t\r\n#f\r\n,3.25\r\n,-1e3\r\n,inf\r\n,-inf\r\n,nan\r\n(3492890328409238509324850943850943825024385\r\n!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n',
    );
    expect(replies.slice(0, 7)).toEqual([null, true, false, 3.25, -1000, Infinity, -Infinity]);
    expect(replies[7]).toBeNaN();
    expect(replies[8]).toBe(3492890328409238509324850943850943825024385n);
    expect(replies[9]).toBeInstanceOf(RedisReplyError);
    expect((replies[9] as RedisReplyError).code).toBe('SYNTAX');
    expect(replies[10]).toEqual(Buffer.from('Some string'));
  });

  it('decodes maps (any key type) and sets', () => {
    const [map, set] = decodeAll('%2\r\n+first\r\n:1\r\n:2\r\n*1\r\n#t\r\n~3\r\n+a\r\n:1\r\n_\r\n');
    expect(map).toEqual(
      new Map<RespValue, RespValue>([
        ['first', 1],
        [2, [true]],
      ]),
    );
    expect(set).toEqual(['a', 1, null]);
  });

  it('sends pushes out of band, between replies', () => {
    const decoded = decodeInChunks('+before\r\n>3\r\n+message\r\n+channel\r\n$2\r\nhi\r\n:5\r\n', 3);
    expect(decoded.replies).toEqual(['before', 5]);
    expect(decoded.pushes).toEqual([['message', 'channel', Buffer.from('hi')]]);
  });

  it('reports attributes and delivers the reply they annotate, at the top level and inside arrays', () => {
    const decoded = decodeInChunks('|1\r\n+ttl\r\n:3\r\n$1\r\nx\r\n*2\r\n|1\r\n+a\r\n:1\r\n:10\r\n:20\r\n', 2);
    expect(decoded.replies).toEqual([Buffer.from('x'), [10, 20]]);
    expect(decoded.attributes).toEqual([new Map([['ttl', 3]]), new Map([['a', 1]])]);
  });

  it('decodes streamed strings and streamed aggregates', () => {
    const wire = '$?\r\n;4\r\nHell\r\n;2\r\no!\r\n;0\r\n*?\r\n:1\r\n:2\r\n.\r\n%?\r\n+k\r\n+v\r\n.\r\n';
    for (const size of [1, 2, 5, 100]) {
      expect(decodeInChunks(wire, size).replies).toEqual([Buffer.from('Hello!'), [1, 2], new Map([['k', 'v']])]);
    }
  });

  it('decodes empty aggregates of every kind', () => {
    const decoded = decodeInChunks('*0\r\n%0\r\n~0\r\n|0\r\n:1\r\n>0\r\n', 1);
    expect(decoded.replies).toEqual([[], new Map(), [], 1]);
    expect(decoded.pushes).toEqual([[]]);
  });
});

describe('RespDecoder: chunk boundaries and errors', () => {
  it('decodes a long array split at every possible boundary without losing or repeating items', () => {
    const items = Array.from({ length: 50 }, (_, i) => `item-${i}`);
    const wire = `*${items.length}\r\n${items.map((item) => `$${item.length}\r\n${item}\r\n`).join('')}`;
    for (let first = 1; first < wire.length; first += 7) {
      expect(decodeInChunks(wire, [first, 3, 11]).replies).toEqual([items.map((item) => Buffer.from(item))]);
    }
  });

  it('waits for the whole of a large bulk string delivered in many chunks', () => {
    const value = Buffer.alloc(1_000_000, 'v');
    const wire = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const decoded = decodeInChunks(wire, 65_536);
    expect(decoded.replies).toHaveLength(1);
    expect((decoded.replies[0] as Buffer).equals(value)).toBe(true);
  });

  it('does not wait for more bytes than the next element needs after a large value', () => {
    const big = 'x'.repeat(5000);
    const decoded = decodeInChunks(`$5000\r\n${big}\r\n+OK\r\n`, [5010, 2, 3]);
    expect(decoded.replies).toEqual([Buffer.from(big), 'OK']);
  });

  it('throws a protocol error on an unknown type byte and on malformed lengths', () => {
    expect(() => decodeAll('@oops\r\n')).toThrow(CacheProtocolError);
    expect(() => decodeAll('$1x\r\nab\r\n')).toThrow(/malformed number/);
  });
});
