import { InvalidCacheKey, NonNumericValueError, NotSupportedError, ValueTooLargeError } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemcachedClient } from '../src/client';

const skip = await serverSkipReason('memcached');

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
const binarySafeValues: Array<[string, Buffer]> = [
  ['every byte value', everyByte],
  ['a value containing \\r\\nEND\\r\\n and a fake VALUE line', Buffer.from('x\r\nEND\r\nVALUE k 0 1\r\ny\r\n', 'latin1')],
  ['multi-byte text', Buffer.from('日本語 — ключ — 🎉', 'utf8')],
  ['an empty value', Buffer.alloc(0)],
  ['100 KB of random bytes', Buffer.from(Array.from({ length: 100 * 1024 }, (_, index) => (index * 131 + 7) % 256))],
];

const injectionKeys: Array<[string, string]> = [
  ['a CRLF followed by a command', 'a\r\nflush_all'],
  ['a space and noreply', 'a noreply'],
  ['a tab', 'a\tb'],
  ['a NUL byte', 'a\0b'],
  ['DEL', 'a\x7f'],
  ['251 ASCII bytes', 'k'.repeat(251)],
  ['126 two-byte characters (252 bytes)', 'é'.repeat(126)],
  ['an empty key', ''],
];

for (const protocol of ['text', 'binary'] as const) {
  describe.skipIf(skip)(`MemcachedClient over the ${protocol} protocol${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let server: TestServer;
    let client: MemcachedClient;
    beforeAll(async () => {
      server = await startMemcached({ args: ['-I', '1m'] });
      // Features, not failure detection: room for a machine loaded by parallel test files.
      client = new MemcachedClient(server.url, { protocol, operationTimeout: 5 });
    });
    afterAll(async () => {
      await client.close();
      await server.stop();
    });
    beforeEach(() => client.flushAll());

    it.each(binarySafeValues)('round-trips %s exactly, alone and in a multi-get', async (_, value) => {
      await client.set('binary', value, { flags: 0xfffffffe });
      await client.set('after', 'next');
      const item = await client.get('binary');
      expect([item?.value.equals(value), item?.flags]).toEqual([true, 0xfffffffe]);
      const many = await client.getMany(['binary', 'missing', 'after']);
      expect([...many.keys()].sort()).toEqual(['after', 'binary']);
      expect(many.get('binary')!.value.equals(value)).toBe(true);
      expect(many.get('after')!.value.toString()).toBe('next');
    });

    it('getManyInPlace gives every item in key order, repeats included, read where it lies in the reply', async () => {
      await client.set('in-place-a', 'alpha', { flags: 7 });
      await client.set('in-place-b', Buffer.from([0, 13, 10, 255]), { flags: 0xffffffff });
      await client.set('clé-ключ', 'multi-byte');
      const keys = ['in-place-b', 'missing', 'in-place-a', 'clé-ключ', 'in-place-a'];
      const ranges = await client.getManyInPlace(keys);
      const items = ranges.map((flags, source, start, end) => [flags, source.subarray(start, end).toString('latin1')], 'missing');
      expect(items).toEqual([[0xffffffff, '\0\r\n\xff'], 'missing', [7, 'alpha'], [0, Buffer.from('multi-byte').toString('latin1')], [7, 'alpha']]);
      expect((await client.getManyInPlace([])).length).toBe(0);
      await expect(client.getManyInPlace(['ok', 'a b'])).rejects.toBeInstanceOf(InvalidCacheKey);
    });

    it('round-trips multi-byte keys', async () => {
      await client.set('clé-ключ-鍵', 'v');
      expect((await client.getMany(['clé-ключ-鍵'])).get('clé-ключ-鍵')?.value.toString()).toBe('v');
    });

    it.each(injectionKeys)('rejects a key with %s before writing anything', async (_, key) => {
      await client.set('sentinel', 'kept');
      for (const attempt of [client.get(key), client.set(key, 'x'), client.delete(key), client.incr(key), client.getMany(['ok', key])]) {
        await expect(attempt).rejects.toBeInstanceOf(InvalidCacheKey);
      }
      expect((await client.get('sentinel'))?.value.toString()).toBe('kept');
    });

    it('accepts a key of exactly 250 bytes', async () => {
      const key = `${'é'.repeat(124)}ab`;
      expect(Buffer.byteLength(key)).toBe(250);
      expect(await client.set(key, 'v')).toBe(true);
      expect((await client.get(key))?.value.toString()).toBe('v');
    });

    it('rejects a value over the item size limit with ValueTooLargeError and stays usable', async () => {
      await client.set('big', 'old');
      await expect(client.set('big', Buffer.alloc(2 * 1024 * 1024, 1))).rejects.toBeInstanceOf(ValueTooLargeError);
      expect(await client.set('small', 'fine')).toBe(true);
      expect((await client.get('small'))?.value.toString()).toBe('fine');
      expect(await client.get('big')).toBe(undefined);
    });

    it('reports the keys setMany could not store', async () => {
      const failed = await client.setMany([
        ['a', { value: 'one' }],
        ['too-big', { value: Buffer.alloc(2 * 1024 * 1024) }],
        ['b', { value: 'two', flags: 5 }],
      ]);
      expect(failed).toEqual(['too-big']);
      const found = await client.getMany(['a', 'b', 'too-big']);
      expect([...found].map(([key, item]) => [key, item.value.toString(), item.flags])).toEqual([
        ['a', 'one', 0],
        ['b', 'two', 5],
      ]);
    });

    it('gets a thousand keys of 250 bytes in one multi-get', async () => {
      const keys = Array.from({ length: 1000 }, (_, index) => `${index}-`.padEnd(250, 'k'));
      expect(await client.setMany(keys.map((key) => [key, { value: key.slice(0, 4) }]))).toEqual([]);
      const found = await client.getMany([...keys, 'missing']);
      expect(found.size).toBe(1000);
      expect(found.get(keys[999]!)?.value.toString()).toBe('999-');
      await client.deleteMany(keys);
      expect((await client.getMany(keys)).size).toBe(0);
    });

    it('add, replace, append, prepend and cas follow memcached', async () => {
      expect(await client.replace('k', 'x')).toBe(false);
      expect(await client.add('k', 'b')).toBe(true);
      expect(await client.add('k', 'c')).toBe(false);
      expect(await client.append('k', 'c')).toBe(true);
      expect(await client.prepend('k', 'a')).toBe(true);
      expect(await client.append('missing', 'c')).toBe(false);
      const item = await client.gets('k');
      expect(item?.value.toString()).toBe('abc');
      expect(typeof item?.cas).toBe('bigint');
      expect(await client.cas('k', 'new', item!.cas!)).toBe(true);
      expect(await client.cas('k', 'newer', item!.cas!)).toBe(false);
      expect((await client.get('k'))?.value.toString()).toBe('new');
    });

    it('incr and decr on decimal values; missing keys and non-numbers are told apart', async () => {
      await client.set('n', '10');
      expect(await client.incr('n', 5)).toBe(15n);
      expect(await client.decr('n', 20)).toBe(0n);
      await client.set('n', '18446744073709551615');
      expect(await client.incr('n')).toBe(0n);
      expect(await client.incr('missing')).toBe(undefined);
      await client.set('text', 'abc');
      await expect(client.incr('text')).rejects.toBeInstanceOf(NonNumericValueError);
    });

    it('touch, gat, delete and negative exptimes', async () => {
      expect(await client.touch('missing', 10)).toBe(false);
      await client.set('k', 'v');
      expect(await client.touch('k', 100)).toBe(true);
      expect((await client.getAndTouch('k', 100))?.value.toString()).toBe('v');
      expect(await client.delete('k')).toBe(true);
      expect(await client.delete('k')).toBe(false);
      await client.set('expired', 'v', { exptime: -1 });
      expect(await client.get('expired')).toBe(undefined);
      await client.set('gone', 'v');
      await client.touch('gone', -1);
      expect(await client.get('gone')).toBe(undefined);
    });

    if (protocol === 'text') it('ttl reads the seconds left with meta get: null without an expiry, undefined when missing or expired', async () => {
      await client.set('ten', 'v', { exptime: 10 });
      await client.set('never', 'v');
      await client.set('expired', 'v', { exptime: -1 });
      const left = await client.ttl('ten');
      expect(left).toBeGreaterThanOrEqual(9);
      expect(left).toBeLessThanOrEqual(10);
      expect(await client.ttl('never')).toBeNull();
      expect(await client.ttl('expired')).toBeUndefined();
      expect(await client.ttl('missing')).toBeUndefined();
      await expect(client.ttl('a b')).rejects.toBeInstanceOf(InvalidCacheKey);
    });
    else it('ttl rejects with NotSupportedError: the binary protocol cannot read an expiry', async () => {
      await client.set('k', 'v');
      await expect(client.ttl('k')).rejects.toBeInstanceOf(NotSupportedError);
      await expect(client.ttl('k')).rejects.toThrow('the text protocol can');
    });

    it('empty multi-key operations send nothing and resolve', async () => {
      expect(await client.getMany([])).toEqual(new Map());
      expect(await client.setMany([])).toEqual([]);
      await client.deleteMany([]);
      expect(await client.set('after-empty', 'v')).toBe(true);
    });

    it('bad flags, exptimes and deltas reject instead of throwing', async () => {
      const attempts = [
        () => client.set('k', 'v', { flags: -1 }),
        () => client.set('k', 'v', { flags: 2 ** 32 }),
        () => client.touch('k', 1.5),
        () => client.incr('k', -1),
        () => client.setMany([['k', { value: 'v', flags: 0.5 }]]),
      ];
      for (const attempt of attempts) {
        let outcome: Promise<unknown> | undefined;
        expect(() => (outcome = attempt())).not.toThrow();
        await expect(outcome).rejects.toBeInstanceOf(RangeError);
      }
    });

    it('gets issued while the server is busy go out as one multi-get, in order with other requests', async () => {
      await client.set('order', 'old');
      const first = client.get('order'); // the server was idle: sent alone, at once
      const before = client.get('order'); // the server is busy: waits for the end of the tick…
      const written = client.set('order', 'new'); // …unless another request comes first, which sends it
      const after = client.get('order');
      expect([(await first)?.value.toString(), (await before)?.value.toString()]).toEqual(['old', 'old']);
      expect(await written).toBe(true);
      expect((await after)?.value.toString()).toBe('new');

      const writes = vi.spyOn(net.Socket.prototype, 'write');
      try {
        const keys = Array.from({ length: 50 }, (_, index) => `burst-${index}`);
        await client.setMany(keys.map((key) => [key, { value: key }]));
        writes.mockClear();
        const items = await Promise.all(keys.map((key) => client.get(key)));
        expect(items.map((item) => item?.value.toString())).toEqual(keys);
        expect(writes).toHaveBeenCalledTimes(2);
        if (protocol === 'text') expect(String(writes.mock.calls[1]![0])).toBe(`get ${keys.slice(1).join(' ')}\r\n`);
      } finally {
        writes.mockRestore();
      }
    });

    it('version and stats per server', async () => {
      expect((await client.version()).get(server.url)).toMatch(/^\d+\.\d+/);
      expect((await client.stats()).get(server.url)?.get('pid')).toMatch(/^\d+$/);
    });
  });
}
