import { createRequire } from 'node:module';
import { Cluster } from 'ioredis';
import { v8Serializer } from '@cachette/cache-core';
import { RedisCache } from '@cachette/cache-redis';
import { redisClusterSkipReason, startRedisCluster } from '@cachette/test-servers';
import { defineSuite, type BenchCase } from '../harness';
import { IN_FLIGHT, benchKeys, cacheContender, candidates, getEachKey, getManyEachBatch, setEachKey, type Contender as KeyValueContender } from '../key-value-workload';

const smallValue = 'v'.repeat(100);
// As in the redis suite, ioredis reads its own copies as Buffers (no decoding) while Cachette
// deserializes; the copies hold the bytes Cachette stores, so both move the same bytes.
const storedValue = v8Serializer.serialize(smallValue);

// ioredis's own slot function: cluster-key-slot is its dependency, reached through it rather than added to ours.
const calculateSlot = createRequire(createRequire(import.meta.url).resolve('ioredis'))('cluster-key-slot') as (key: string) => number;

type Contender = KeyValueContender<string>;

/**
 * The multi-key read a user of ioredis can write on a cluster: one MGET per slot. The bench keys
 * have no hash tags, so a batch of 100 falls in about 100 slots.
 */
function mgetPerSlot(ioredis: Cluster, keys: readonly string[]): Promise<unknown> {
  const bySlot = new Map<number, string[]>();
  for (const key of keys) {
    const slot = calculateSlot(key);
    const group = bySlot.get(slot);
    if (group) group.push(key);
    else bySlot.set(slot, [key]);
  }
  return Promise.all([...bySlot.values()].map((group) => ioredis.mgetBuffer(...group)));
}

function ioredisContender(ioredis: Cluster): Contender {
  return {
    name: 'ioredis auto-pipelining',
    get: (key) => ioredis.getBuffer(key),
    // The bytes Cachette would store for the value, so the reads of later cases find the same ones.
    set: (key) => ioredis.set(key, storedValue),
    // No MGET across slots: the gets issued together, which auto-pipelining writes once per node.
    getMany: (batch) => Promise.all(batch.map((key) => ioredis.getBuffer(key))),
  };
}

export default defineSuite({
  description: 'RedisCache against an ioredis Cluster with auto-pipelining, on a local Redis Cluster of 3 primaries',
  async setup() {
    const skip = await redisClusterSkipReason();
    if (skip) return { skipped: skip };
    // No replicas: reads go to primaries anyway, and 2 cores have no room for replication.
    const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
    // Keys of the cache are `:1:<key>`; it reads what it wrote, so it gets its own copies of the data.
    const cache = new RedisCache({ location: cluster.url });
    const ioredis = new Cluster(
      cluster.nodes.map(({ host, port }) => ({ host, port })),
      { enableAutoPipelining: true },
    );
    await cache.cluster!.ready();
    for (const key of benchKeys) {
      await ioredis.set(key, storedValue);
      await cache.set(key, smallValue, null);
    }

    const ioredisAuto = ioredisContender(ioredis);
    const contenders: Contender[] = [cacheContender('cachette', cache), ioredisAuto];
    const perSlot: Contender = { ...ioredisAuto, name: 'ioredis MGET per slot', getMany: (batch) => mgetPerSlot(ioredis, batch) };
    const cases: BenchCase[] = [
      {
        name: `GET 100 B, ${IN_FLIGHT} in flight`,
        baseline: 'ioredis auto-pipelining',
        concurrency: IN_FLIGHT,
        target: { candidate: 'cachette', minRatio: 1.2 },
        candidates: candidates(contenders, getEachKey),
      },
      {
        name: 'getMany of 100 keys across slots',
        baseline: 'ioredis auto-pipelining',
        target: { candidate: 'cachette', minRatio: 1.5 },
        candidates: candidates([...contenders, perSlot], getManyEachBatch),
      },
      // For information: no targets.
      { name: 'GET 100 B, one at a time', baseline: 'ioredis auto-pipelining', candidates: candidates(contenders, getEachKey) },
      { name: `SET 100 B, ${IN_FLIGHT} in flight`, baseline: 'ioredis auto-pipelining', concurrency: IN_FLIGHT, candidates: candidates(contenders, setEachKey(smallValue)) },
    ];

    return {
      cases,
      async teardown() {
        ioredis.disconnect();
        await cache.close();
        await cluster.stop();
      },
    };
  },
});
