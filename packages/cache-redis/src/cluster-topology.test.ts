import { CacheConnectionError } from '@cachette/cache-core';
import { redisClusterSkipReason, startRedisCluster, type RedisClusterNode, type RedisClusterTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from './cluster/slots';
import { RedisCache, type RedisCacheParams } from './index';
import { sleep } from '../test/eventually';

const skip = await redisClusterSkipReason();

interface TrafficReport {
  operations: number;
  failures: Error[];
  /** Reads that returned a value never written for that key. */
  foreign: string[];
  /** Reads that did not return the value just written (only counted when `fresh` is asked). */
  stale: string[];
}

/**
 * Workers writing versioned values to their own keys and reading them back, until `stop()`.
 * Every value names its key, so a value read for another key is caught.
 */
function runTraffic(cache: RedisCache, options: { workers?: number; keysPerWorker?: number; fresh: boolean }) {
  const report: TrafficReport = { operations: 0, failures: [], foreign: [], stale: [] };
  let running = true;
  const worker = async (workerIndex: number): Promise<void> => {
    const keys = Array.from({ length: options.keysPerWorker ?? 25 }, (_, index) => `w${workerIndex}:k${index}`);
    for (let round = 0; running; round++) {
      const key = keys[round % keys.length]!;
      const value = `${key}=${round}`;
      try {
        await cache.set(key, value);
        const read = await cache.get<string>(key);
        report.operations += 2;
        if (read !== undefined && !read.startsWith(`${key}=`)) report.foreign.push(`${key} read ${read}`);
        else if (options.fresh && read !== value) report.stale.push(`${key} read ${String(read)}, wrote ${value}`);
      } catch (error) {
        report.failures.push(error as Error);
        await sleep(10);
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.workers ?? 16 }, (_, index) => worker(index)));
  return {
    report,
    stop: async (): Promise<TrafficReport> => {
      running = false;
      await done;
      return report;
    },
  };
}

/** Every operation succeeded and read back what it had just written. */
function expectFlawless(report: TrafficReport): void {
  expect(report.failures.map((error) => error.message)).toEqual([]);
  expect(report.foreign).toEqual([]);
  expect(report.stale).toEqual([]);
}

const addressOf = (node: RedisClusterNode): string => `${node.host}:${node.port}`;

/** Polls `check` every 25 ms until it holds, for at most `limit` ms; resolves with when it first held. */
async function whenTrue(check: () => Promise<boolean>, limit: number, what: string): Promise<number> {
  const giveUp = Date.now() + limit;
  for (;;) {
    if (await check().catch(() => false)) return Date.now();
    if (Date.now() > giveUp) throw new Error(`${what} did not happen within ${limit} ms`);
    await sleep(25);
  }
}

describe.skipIf(skip)(`RedisCache while a Redis Cluster changes shape${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  const caches: RedisCache[] = [];
  const cache = (params: RedisCacheParams = {}): RedisCache => {
    const created = new RedisCache({ location: cluster.url, ...params, options: { commandTimeout: 2000, ...params.options } });
    caches.push(created);
    return created;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeout: 1000 });
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((created) => created.close()));
    await cluster.waitForHealthy();
  });
  afterAll(() => cluster?.stop());

  it('follows a live resharding under traffic: no failed operation, no wrong value', async () => {
    const redis = cache({ keyPrefix: 'reshard' });
    const [from, to] = await cluster.primaries();
    const traffic = runTraffic(redis, { fresh: true });
    await sleep(300);
    await cluster.clusterCli('reshard', cluster.seeds[0]!, '--cluster-from', from!.id, '--cluster-to', to!.id, '--cluster-slots', '1500', '--cluster-yes');
    await sleep(300);
    const report = await traffic.stop();
    expectFlawless(report);
    expect(report.operations).toBeGreaterThan(500);
    // The cache learned the new owners (from MOVED answers and refreshes), never recreated.
    const slots = [...new Set(Array.from({ length: 16 * 25 }, (_, index) => keySlot(`reshard:1:w${index % 16}:k${index % 25}`)))];
    const owners = await Promise.all(slots.map((slot) => cluster.primaryOfSlot(slot)));
    expect(slots.map((slot) => redis.cluster!.slotMap.shardOf(slot)!.primary)).toEqual(owners.map(addressOf));
    expect(owners.some((owner) => owner.id === to!.id)).toBe(true);
  });

  it('follows a manual CLUSTER FAILOVER under traffic without failing an operation', async () => {
    const redis = cache({ keyPrefix: 'manual' });
    const [replica] = await cluster.replicas();
    const traffic = runTraffic(redis, { fresh: true });
    await sleep(300);
    await cluster.command(replica!, 'CLUSTER', 'FAILOVER');
    await whenTrue(async () => (await cluster.primaries()).some((primary) => primary.id === replica!.id), 10_000, 'the replica taking over');
    await sleep(500);
    const report = await traffic.stop();
    expectFlawless(report);
    expect(report.operations).toBeGreaterThan(200);
  });

  it('when a primary is killed: only its slots fail, fast; they resume within a few refreshes of its replica taking over', async () => {
    const redis = cache({ keyPrefix: 'kill' });
    const ignoring = cache({ keyPrefix: 'kill', options: { ignoreExceptions: true } });
    await redis.cluster!.ready();
    const primaries = await cluster.primaries();
    const victim = primaries[0]!;
    const victimShard = redis.cluster!.slotMap.shards.find((shard) => shard.primary === addressOf(victim))!;
    const keyOn = (primary: string): string => {
      for (let index = 0; ; index++) if (redis.cluster!.slotMap.shardOf(keySlot(`kill:1:probe${index}`))!.primary === primary) return `probe${index}`;
    };
    const victimKey = keyOn(victimShard.primary);
    const otherKey = keyOn(redis.cluster!.slotMap.shards.find((shard) => shard !== victimShard)!.primary);
    await redis.set(victimKey, 'before');
    await redis.set(otherKey, 'before');
    const traffic = runTraffic(redis, { fresh: false, workers: 8 });

    await victim.kill();
    const killedAt = Date.now();
    // Before the cluster notices (its node timeout), the other primaries go on serving.
    await expect(redis.set(otherKey, 'during')).resolves.toBeUndefined();
    expect(await redis.get(otherKey)).toBe('during');
    const failure = await redis.get(victimKey).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CacheConnectionError);
    expect(Date.now() - killedAt).toBeLessThan(cluster.nodeTimeout);
    expect(await ignoring.get(victimKey, 'missed')).toBe('missed');

    const promotedAt = await whenTrue(
      async () => (await cluster.primaries()).some((primary) => victimShard.replicas.includes(addressOf(primary))),
      cluster.nodeTimeout * 10,
      "the victim's replica taking over",
    );
    // The first refresh may ask a node that has not heard of the promotion yet (gossip), so allow
    // a few refreshes (200 ms apart) and a loaded machine's delays: far below the node timeout's ten.
    const resumeLimit = 3000;
    const resumedAt = await whenTrue(async () => (await redis.set(victimKey, 'after').then(() => true)) && (await redis.get(victimKey)) === 'after', resumeLimit, 'operations on the victim slots resuming');
    expect(resumedAt - promotedAt).toBeLessThanOrEqual(resumeLimit);
    const report = await traffic.stop();
    expect(report.foreign).toEqual([]);
    expect(report.failures.every((error) => error instanceof CacheConnectionError)).toBe(true);

    // The killed node comes back as a replica; the cache, never recreated, keeps working.
    await victim.restart();
    await cluster.waitForHealthy();
    expect((await cluster.replicas()).map((node) => node.id)).toContain(victim.id);
    expect(await redis.get(victimKey)).toBe('after');
  });
});
