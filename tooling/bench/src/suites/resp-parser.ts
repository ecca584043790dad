/// <reference path="../../../../packages/cache-redis/test/redis-parser.d.ts" />
import RedisParser from 'redis-parser';
import { RespDecoder } from '@cachette/cache-redis/client';
import { defineSuite, type BenchCase } from '../harness';

/** Socket reads deliver at most this much at a time. */
const CHUNK_SIZE = 65_536;

const bulk = (payload: string): string => `$${Buffer.byteLength(payload)}\r\n${payload}\r\n`;

/** Replies of one kind, repeated to about `targetBytes`, then cut into socket-sized chunks. */
function corpus(reply: string, targetBytes: number): { chunks: Buffer[]; replies: number } {
  const replies = Math.max(1, Math.floor(targetBytes / Buffer.byteLength(reply)));
  const wire = Buffer.from(reply.repeat(replies));
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < wire.length; offset += CHUNK_SIZE) chunks.push(wire.subarray(offset, offset + CHUNK_SIZE));
  return { chunks, replies };
}

const CORPORA = {
  'bulk strings (100 B)': corpus(bulk('v'.repeat(100)), 1 << 20),
  'arrays of 10 bulk strings': corpus(`*10\r\n${bulk('member-value').repeat(10)}`, 1 << 20),
  integers: corpus(':1234567\r\n', 1 << 19),
  errors: corpus('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n', 1 << 19),
  'large values (100 KB)': corpus(bulk('L'.repeat(100 * 1024)), 4 << 20),
  'MGET of 100 values': corpus(`*100\r\n${bulk('x'.repeat(100)).repeat(100)}`, 1 << 20),
};

function decodeWithOurs(chunks: Buffer[], expected: number): void {
  let count = 0;
  const decoder = new RespDecoder({ onReply: () => void count++ });
  for (const chunk of chunks) decoder.write(chunk);
  if (count !== expected) throw new Error(`cachette decoded ${count} replies, expected ${expected}`);
}

function decodeWithRedisParser(chunks: Buffer[], expected: number): void {
  let count = 0;
  const parser = new RedisParser({ returnReply: () => void count++, returnError: () => void count++, returnBuffers: true });
  for (const chunk of chunks) parser.execute(chunk);
  if (count !== expected) throw new Error(`redis-parser decoded ${count} replies, expected ${expected}`);
}

export default defineSuite({
  description: 'Cachette RespDecoder against redis-parser 3 (Buffers out), one run = a corpus of replies arriving in 64 KB chunks',
  async setup() {
    const cases: BenchCase[] = Object.entries(CORPORA).map(([name, { chunks, replies }]) => ({
      name,
      baseline: 'redis-parser',
      target: { candidate: 'cachette', minRatio: 1.5 },
      candidates: [
        { name: 'cachette', run: () => decodeWithOurs(chunks, replies) },
        { name: 'redis-parser', run: () => decodeWithRedisParser(chunks, replies) },
      ],
    }));
    return { cases };
  },
});
