import { CacheProtocolError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import type { RespValue } from '../resp/decoder';
import { SlotMap, nodeAddress, splitAddress } from './slot-map';

/** A CLUSTER SHARDS node as RESP2 sends it: a flat array of names and values. */
function shardNode(ip: string, port: number, role: string, health = 'online', extra: RespValue[] = []): RespValue[] {
  return ['id', 'x'.repeat(40), 'port', port, 'ip', ip, 'endpoint', ip, 'role', role, 'replication-offset', 0, 'health', health, ...extra];
}

describe('SlotMap.fromShards', () => {
  const reply: RespValue = [
    ['slots', [0, 5460], 'nodes', [shardNode('127.0.0.1', 7000, 'master'), shardNode('127.0.0.1', 7003, 'replica')]],
    ['slots', [5461, 10922], 'nodes', [shardNode('127.0.0.1', 7001, 'master'), shardNode('127.0.0.1', 7004, 'replica', 'loading')]],
    ['slots', [10923, 16000, 16001, 16383], 'nodes', [shardNode('127.0.0.1', 7005, 'master', 'failed'), shardNode('127.0.0.1', 7002, 'master')]],
  ];

  it('maps every slot to its primary, leaving failed nodes out', () => {
    const map = SlotMap.fromShards(reply, '127.0.0.1', false);
    expect(map.shardOf(0)).toEqual({ primary: '127.0.0.1:7000', replicas: ['127.0.0.1:7003'] });
    expect(map.shardOf(5461)).toEqual({ primary: '127.0.0.1:7001', replicas: ['127.0.0.1:7004'] });
    expect(map.shardOf(16383)).toEqual({ primary: '127.0.0.1:7002', replicas: [] });
    expect(map.unassignedSlots).toBe(0);
    expect(map.addresses).toEqual(['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7004']);
  });

  it('reads RESP3 maps (keys as bulk strings) like RESP2 arrays', () => {
    const asMap = (pairs: RespValue[]): Map<RespValue, RespValue> => {
      const map = new Map<RespValue, RespValue>();
      for (let index = 0; index < pairs.length; index += 2) map.set(Buffer.from(String(pairs[index])), pairs[index + 1]!);
      return map;
    };
    const resp3 = [asMap(['slots', [0, 16383], 'nodes', [asMap(shardNode('10.0.0.1', 6379, 'master'))]])];
    expect(SlotMap.fromShards(resp3, '127.0.0.1', false).shardOf(42)).toEqual({ primary: '10.0.0.1:6379', replicas: [] });
  });

  it('uses tls-port with TLS, and the asked host for a node that does not know its endpoint', () => {
    const tls = [['slots', [0, 16383], 'nodes', [shardNode('?', 7000, 'master', 'online', ['tls-port', 7100])]]];
    expect(SlotMap.fromShards(tls, '192.0.2.7', true).shardOf(1)!.primary).toBe('192.0.2.7:7100');
    expect(SlotMap.fromShards(tls, '192.0.2.7', false).shardOf(1)!.primary).toBe('192.0.2.7:7000');
  });

  it('refuses replies it cannot read with a protocol error', () => {
    expect(() => SlotMap.fromShards('OK', 'h', false)).toThrow(CacheProtocolError);
    expect(() => SlotMap.fromShards([['slots', [0]]], 'h', false)).toThrow(CacheProtocolError);
    expect(() => SlotMap.fromShards([['slots', [0, 99999], 'nodes', [shardNode('h', 1, 'master')]]], 'h', false)).toThrow(/impossible slot range/);
  });
});

describe('SlotMap.fromSlots', () => {
  it('maps ranges to a primary and its replicas; an empty host is the asked one', () => {
    const reply: RespValue = [
      [0, 8191, ['127.0.0.1', 7000, 'a'], ['127.0.0.1', 7003, 'd']],
      [8192, 16383, ['', 7001, 'b']],
    ];
    const map = SlotMap.fromSlots(reply, '127.0.0.9');
    expect(map.shardOf(100)).toEqual({ primary: '127.0.0.1:7000', replicas: ['127.0.0.1:7003'] });
    expect(map.shardOf(9000)).toEqual({ primary: '127.0.0.9:7001', replicas: [] });
  });

  it('counts slots no range covers', () => {
    expect(SlotMap.fromSlots([[0, 99, ['h', 1]]], 'h').unassignedSlots).toBe(16_384 - 100);
    expect(SlotMap.empty().shardOf(5)).toBeUndefined();
  });
});

describe('SlotMap.withSlotMovedTo', () => {
  it('moves one slot to a known or a new primary, leaving the old map as it was', () => {
    const before = SlotMap.fromSlots([[0, 16383, ['h', 1]]], 'h');
    const after = before.withSlotMovedTo(7, 'h:2');
    expect(after.shardOf(7)!.primary).toBe('h:2');
    expect(after.shardOf(8)!.primary).toBe('h:1');
    expect(before.shardOf(7)!.primary).toBe('h:1');
    expect(after.withSlotMovedTo(7, 'h:1').shardOf(7)!.primary).toBe('h:1');
  });
});

describe('node addresses', () => {
  it('round-trip host:port, bracketing IPv6', () => {
    expect(nodeAddress('::1', 7000)).toBe('[::1]:7000');
    expect(splitAddress('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(splitAddress('127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(() => splitAddress('nohost')).toThrow(CacheProtocolError);
    expect(() => splitAddress('h:99999')).toThrow(CacheProtocolError);
  });
});
