import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { deserializeRange, v8Serializer } from '@cachette/cache-core';
import { RedisCache } from '@cachette/cache-redis';
import { RedisClient } from '@cachette/cache-redis/client';
import { serverSkipReason, startRedis } from '@cachette/test-servers';
import { defineSuite, type BenchCase, type Candidate, type MeasuredCandidate } from '../harness';
import { BareSocket, bulkReplyLength, respRequest } from '../bare-socket';
import { fillRedisBenchmarkKeys, redisBenchmarkCandidate } from '../redis-benchmark';
import { IN_FLIGHT, KEY_MASK, benchKeys, cacheContender, candidates, getManyEachBatch, manyKeys, smallValueCases, type Contender as KeyValueContender } from '../key-value-workload';

const smallValue = 'v'.repeat(100);
const largeValue = 'L'.repeat(100 * 1024);

type Contender = KeyValueContender<string>;

export default defineSuite({
  description:
    'Cachette RESP client and RedisCache against ioredis (with and without auto-pipelining) and node-redis, on one local redis-server',
  async setup() {
    const skip = await serverSkipReason('redis');
    if (skip) return { skipped: skip };
    const server = await startRedis();
    const client = new RedisClient({ url: server.url });
    // Keys of the cache are `:1:<key>`; it reads what it wrote, so it gets its own copies of the data.
    const cache = new RedisCache({ location: server.url });
    const ioredis = new Redis(server.port, server.host);
    const ioredisAuto = new Redis({ port: server.port, host: server.host, enableAutoPipelining: true });
    const nodeRedis = createClient({ url: server.url });
    await Promise.all([client.connect(), nodeRedis.connect(), ioredis.ping(), ioredisAuto.ping()]);

    const contenders: Contender[] = [
      { name: 'cachette client', get: (key) => client.get(key), set: (key, value) => client.set(key, value), getMany: (batch) => client.mget(...batch) },
      cacheContender('cachette cache', cache),
      { name: 'ioredis', get: (key) => ioredis.getBuffer(key), set: (key, value) => ioredis.set(key, value), getMany: (batch) => ioredis.mgetBuffer(...batch) },
      {
        name: 'ioredis auto-pipelining',
        get: (key) => ioredisAuto.getBuffer(key),
        set: (key, value) => ioredisAuto.set(key, value),
        getMany: (batch) => ioredisAuto.mgetBuffer(...batch),
      },
      { name: 'node-redis', get: (key) => nodeRedis.get(key), set: (key, value) => nodeRedis.set(key, value), getMany: (batch) => nodeRedis.mGet(batch) },
    ];

    const fill = async (value: string): Promise<void> => {
      for (const key of benchKeys) {
        await client.set(key, value);
        await cache.set(key, value, null);
      }
    };
    await fill(smallValue);

    // The C load generator on the same server, as the ceiling (its keys `key:…` in db 0, 100 KB values in db 1).
    await fillRedisBenchmarkKeys(server, smallValue.length);
    // And the fastest a Node client could be on the cases done one at a time (see BareSocket).
    const bare = await BareSocket.open(server);
    const bareGets = benchKeys.map((key) => respRequest('GET', key));
    const largeKeys = Array.from({ length: 16 }, (_, i) => `large:${i}`);
    const bareLargeSets = largeKeys.map((key) => respRequest('SET', key, largeValue));
    const bareLargeGets = largeKeys.map((key) => respRequest('GET', key));
    const references: Record<string, ReadonlyArray<Candidate | MeasuredCandidate>> = {
      'GET 100 B, one at a time': [
        redisBenchmarkCandidate('redis-benchmark -c 1', server, ['-t', 'get', '-c', '1']),
        { name: 'bare node:net socket', run: (i) => bare.exchange(bareGets[i & KEY_MASK]!, bulkReplyLength(smallValue.length)) },
      ],
      [`GET 100 B, ${IN_FLIGHT} in flight`]: [redisBenchmarkCandidate('redis-benchmark -P 16', server, ['-t', 'get', '-P', '16'])],
    };
    const withReference = (benchCase: BenchCase): BenchCase =>
      references[benchCase.name] ? { ...benchCase, candidates: [...benchCase.candidates, ...references[benchCase.name]!] } : benchCase;

    // The floor of the cache's getMany: what any getMany must hand back (each value decoded to a
    // string, in a Map under the caller's keys), made from the raw client's MGET and nothing else.
    const decodedIntoMap: Candidate = {
      name: 'cachette client, decoded into a Map',
      run: async (i) => {
        const batch = manyKeys[i & KEY_MASK]!;
        const replies = await client.mgetInPlace(...batch.map((key) => cache.makeKey(key)));
        const values = replies.map((source, start, end) => deserializeRange(v8Serializer, source, start, end), undefined);
        const found = new Map<string, unknown>();
        values.forEach((value, index) => value !== undefined && found.set(batch[index]!, value));
        return found;
      },
    };

    const cases: BenchCase[] = [
      ...smallValueCases(contenders, smallValue, { baseline: 'ioredis', target: { candidate: 'cachette client', minRatio: 1 } }, { baseline: 'ioredis auto-pipelining', target: { candidate: 'cachette client', minRatio: 1.2 } }).map(withReference),
      {
        name: 'getMany / MGET of 100 keys',
        baseline: 'node-redis',
        target: { candidate: 'cachette cache', minRatio: 1.5 },
        candidates: [...candidates(contenders, getManyEachBatch), decodedIntoMap],
      },
      {
        name: 'GET 100 KB, one at a time',
        baseline: 'ioredis',
        target: { candidate: 'cachette client', minRatio: 1 },
        candidates: candidates(contenders, (contender) => (i) => contender.get(largeKeys[i & 15]!)),
      },
      {
        name: 'SET+GET 100 KB, one at a time (one pair per operation)',
        baseline: 'ioredis',
        candidates: [
          ...candidates(contenders, (contender) => async (i) => {
            await contender.set(largeKeys[i & 15]!, largeValue);
            return contender.get(largeKeys[i & 15]!);
          }),
          redisBenchmarkCandidate('redis-benchmark -c 1', server, ['-t', 'set,get', '-c', '1', '-d', String(largeValue.length), '--dbnum', '1']),
          {
            name: 'bare node:net socket',
            run: async (i) => {
              await bare.exchange(bareLargeSets[i & 15]!, '+OK\r\n'.length);
              return bare.exchange(bareLargeGets[i & 15]!, bulkReplyLength(largeValue.length));
            },
          },
        ],
      },
    ];
    for (const key of largeKeys) {
      await client.set(key, largeValue);
      await cache.set(key, largeValue, null);
    }

    return {
      cases,
      async teardown() {
        ioredis.disconnect();
        ioredisAuto.disconnect();
        bare.close();
        await nodeRedis.quit();
        await client.close();
        await cache.close();
        await server.stop();
      },
    };
  },
});
