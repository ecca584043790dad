import RedisParser from 'redis-parser';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@cachette/test-servers';
import { generateReplies, randomChunks } from '../../test/resp-corpus';
import { RespDecoder, type RespValue } from './decoder';
import { RedisReplyError } from './reply-error';

/** One comparable form for both parsers: text and bytes as hex, errors by message. */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8').toString('hex') };
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

function decodeWithOurs(chunks: Buffer[], bulkStrings: boolean): unknown[] {
  const replies: RespValue[] = [];
  const decoder = new RespDecoder({ onReply: (value) => replies.push(value) }, { bulkStrings });
  for (const chunk of chunks) decoder.write(chunk);
  return replies.map((value) => (value instanceof RedisReplyError ? new Error(value.message) : value)).map(normalize);
}

function decodeWithRedisParser(chunks: Buffer[], returnBuffers: boolean): unknown[] {
  const replies: unknown[] = [];
  const parser = new RedisParser({
    returnReply: (reply) => replies.push(reply),
    returnError: (error) => replies.push(error),
    returnBuffers,
  });
  for (const chunk of chunks) parser.execute(chunk);
  return replies.map(normalize);
}

describe('RespDecoder against redis-parser (differential, RESP2)', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => 1000 + i);

  it.each(seeds)('decodes the same replies as redis-parser at random chunk boundaries (seed %i)', (seed) => {
    const wire = generateReplies(seed, 60);
    const random = seededRandom(seed * 7);
    const maxChunk = [3, 64, 4096, 70_000][seed % 4]!;
    const ours = randomChunks(wire, random, maxChunk);
    const theirs = randomChunks(wire, seededRandom(seed * 7), maxChunk);
    const bulkStrings = seed % 2 === 0;
    const expected = decodeWithRedisParser(theirs, !bulkStrings);
    expect(expected.length).toBe(60);
    expect(decodeWithOurs(ours, bulkStrings)).toEqual(expected);
  });
});
