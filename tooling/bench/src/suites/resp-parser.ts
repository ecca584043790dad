/// <reference path="../../../../packages/cache-redis/test/redis-parser.d.ts" />
import RedisParser from 'redis-parser';
import { RespDecoder } from '@cachette/cache-redis/client';
import { defineSuite, type BenchCase } from '../harness';

/** Socket reads deliver at most this much at a time. */
const CHUNK_SIZE = 65_536;

const bulk = (payload: string): string => `$${Buffer.byteLength(payload)}\r\n${payload}\r\n`;

/** Cuts a reply stream into socket-sized chunks. */
function chunked(wire: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < wire.length; offset += CHUNK_SIZE) chunks.push(wire.subarray(offset, offset + CHUNK_SIZE));
  return chunks;
}

/**
 * Reply bytes in socket-sized chunks, and which replies answer a command that reads its reply in
 * place (`MGET` sent by `RedisCache.getMany`), as the connection tells the decoder.
 */
interface Corpus {
  chunks: Buffer[];
  replies: number;
  inPlace: boolean[];
}

/** Replies of one kind, repeated to about `targetBytes`. */
function corpus(reply: string, targetBytes: number, inPlace = false): Corpus {
  const replies = Math.max(1, Math.floor(targetBytes / Buffer.byteLength(reply)));
  return { chunks: chunked(Buffer.from(reply.repeat(replies))), replies, inPlace: Array<boolean>(replies).fill(inPlace) };
}

const REPLIES = {
  'bulk strings (100 B)': bulk('v'.repeat(100)),
  'arrays of 10 bulk strings': `*10\r\n${bulk('member-value').repeat(10)}`,
  integers: ':1234567\r\n',
  errors: '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n',
  'large values (100 KB)': bulk('L'.repeat(100 * 1024)),
  'MGET of 100 values': `*100\r\n${bulk('x'.repeat(100)).repeat(100)}`,
};

/**
 * The corpus: bulk strings, arrays, integers, errors and large values interleaved as a
 * busy connection sees them (per 1000 replies: 400 bulk strings, 200 arrays, 200 integers,
 * 100 errors, 99 MGETs, 1 large value).
 */
function mixedCorpus(): Corpus {
  const pattern = [
    ...Array<string>(400).fill(REPLIES['bulk strings (100 B)']),
    ...Array<string>(200).fill(REPLIES['arrays of 10 bulk strings']),
    ...Array<string>(200).fill(REPLIES.integers),
    ...Array<string>(100).fill(REPLIES.errors),
    ...Array<string>(99).fill(REPLIES['MGET of 100 values']),
    REPLIES['large values (100 KB)'],
  ];
  // A fixed interleaving (stride 7 over 1000 entries visits each once), so every run decodes the same bytes.
  const interleaved = pattern.map((_, index) => pattern[(index * 7) % pattern.length]!);
  return {
    chunks: chunked(Buffer.from(interleaved.join(''))),
    replies: interleaved.length,
    inPlace: interleaved.map((reply) => reply === REPLIES['MGET of 100 values']),
  };
}

const PER_KIND = Object.fromEntries(Object.entries(REPLIES).map(([name, reply]) => [name, corpus(reply, name.startsWith('large') ? 4 << 20 : 1 << 20)]));

/** With `hints`, the decoder is told before each reply whether its command reads it in place, as `RedisConnection` tells it. */
function decodeWithOurs({ chunks, replies, inPlace }: Corpus, hints: boolean): void {
  let count = 0;
  const decoder = new RespDecoder({
    onReply: () => {
      count++;
      if (hints) decoder.expectBulkStrings = inPlace[count] === true;
    },
  });
  decoder.expectBulkStrings = hints && inPlace[0] === true;
  for (const chunk of chunks) decoder.write(chunk);
  if (count !== replies) throw new Error(`cachette decoded ${count} replies, expected ${replies}`);
}

function decodeWithRedisParser({ chunks, replies: expected }: Corpus): void {
  let count = 0;
  const parser = new RedisParser({ returnReply: () => void count++, returnError: () => void count++, returnBuffers: true });
  for (const chunk of chunks) parser.execute(chunk);
  if (count !== expected) throw new Error(`redis-parser decoded ${count} replies, expected ${expected}`);
}

export default defineSuite({
  description: 'Cachette RespDecoder against redis-parser 3 (Buffers out), one run = a corpus of replies arriving in 64 KB chunks',
  async setup() {
    const candidates = (corpus: Corpus): BenchCase['candidates'] => [
      { name: 'cachette', run: () => decodeWithOurs(corpus, true) },
      ...(corpus.inPlace.some(Boolean) ? [{ name: 'cachette, no MGET read in place', run: () => decodeWithOurs(corpus, false) }] : []),
      { name: 'redis-parser', run: () => decodeWithRedisParser(corpus) },
    ];
    const cases: BenchCase[] = [
      { name: 'mixed corpus', baseline: 'redis-parser', target: { candidate: 'cachette', minRatio: 1.5 }, candidates: candidates(mixedCorpus()) },
      // One kind at a time, to see where the time goes.
      ...Object.entries(PER_KIND).map(([name, corpus]) => ({ name, baseline: 'redis-parser', candidates: candidates(corpus) })),
      {
        name: 'MGET of 100 values, read in place',
        baseline: 'redis-parser',
        candidates: candidates(corpus(REPLIES['MGET of 100 values'], 1 << 20, true)),
      },
    ];
    return { cases };
  },
});
