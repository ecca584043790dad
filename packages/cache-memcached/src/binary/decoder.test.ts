import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { BinaryResponseDecoder } from './decoder';
import { encodeRequest } from './encoder';
import { HEADER_SIZE, Opcode, RESPONSE_MAGIC, packetKey, packetOpaque, packetStatus, packetValue } from './header';

/** A response packet as memcached writes it. */
function response(opcode: number, status: number, key: string, value: Buffer, opaque: number): Buffer {
  const packet = encodeRequest(opcode, key, 4, value, opaque);
  packet[0] = RESPONSE_MAGIC;
  packet.writeUInt16BE(status, 6);
  packet.writeUInt32BE(0xdeadbeef, HEADER_SIZE);
  return packet;
}

function decode(chunks: Buffer[]): Array<[number, string, string, number]> {
  const packets: Array<[number, string, string, number]> = [];
  const decoder = new BinaryResponseDecoder((packet) =>
    packets.push([packetStatus(packet), packetKey(packet), packetValue(packet).toString('latin1'), packetOpaque(packet)]),
  );
  for (const chunk of chunks) decoder.write(chunk);
  return packets;
}

describe('BinaryResponseDecoder', () => {
  const binary = Buffer.from([0, 1, 0x81, 13, 10, 255]);
  const stream = Buffer.concat([
    response(Opcode.getKQ, 0, 'clé', binary, 7),
    response(Opcode.getKQ, 0, 'empty', Buffer.alloc(0), 8),
    response(Opcode.noop, 1, '', Buffer.alloc(0), 0),
  ]);
  const expected = [
    [0, 'clé', binary.toString('latin1'), 7],
    [0, 'empty', '', 8],
    [1, '', '', 0],
  ];

  it('frames packets by their body length wherever the chunks end', () => {
    expect(decode([stream])).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) expect(decode([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    expect(decode([...stream].map((byte) => Buffer.from([byte])))).toEqual(expected);
  });

  it('rejects a packet without the response magic', () => {
    const bad = Buffer.from(stream);
    bad[0] = 0x80;
    expect(() => decode([bad])).toThrow(CacheProtocolError);
  });
});

describe('binary encoder', () => {
  it('writes the header fields where the protocol puts them', () => {
    const packet = encodeRequest(Opcode.set, 'ключ', 8, Buffer.from('value'), 42, 7n);
    const keyBytes = Buffer.byteLength('ключ');
    expect(packet.length).toBe(HEADER_SIZE + 8 + keyBytes + 5);
    expect([packet[0], packet[1], packet.readUInt16BE(2), packet[4], packet.readUInt32BE(8), packet.readUInt32BE(12)]).toEqual([
      0x80,
      Opcode.set,
      keyBytes,
      8,
      8 + keyBytes + 5,
      42,
    ]);
    expect(packet.readBigUInt64BE(16)).toBe(7n);
    expect(packet.toString('utf8', HEADER_SIZE + 8)).toBe('ключvalue');
  });
});
