import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CacheConnectionError,
  CacheProtocolError,
  CacheTimeoutError,
  ValueTooLargeError,
  swallowedErrorChannel,
  type SwallowedErrorMessage,
} from '@cachette/cache-core';
import {
  redisClusterSkipReason,
  seededRandom,
  serverSkipReason,
  startFaultProxy,
  startRedis,
  startRedisCluster,
  type FaultProxy,
  type RedisClusterTestServer,
  type RedisTestServer,
} from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache, type RedisCacheOptions } from './index';
import { eventually, sleep } from '../test/eventually';

/**
 * Fault injection through the fault proxy, for every topology (one server, a pool, a ring, a
 * cluster) and every fault the proxy makes (latency below and above the command timeout, a
 * stall, resets, a reply cut mid-way then closed or silent, garbage). For each: every operation
 * settles within its timeout, nobody reads a value written for another key, the same cache
 * object works again once the fault is gone, and with `ignoreExceptions` a fault is a miss and
 * one `cachette:swallowed-error` event.
 */

const COMMAND_TIMEOUT = 300;
/** Slack for the event loop of a loaded two-core machine, on top of the command timeout. */
const SETTLE_MARGIN = 1500;
const FAULT_WINDOW = 400;
const KEYS = Array.from({ length: 12 }, (_, index) => `k${index}`);
const OPTIONS: RedisCacheOptions = { commandTimeout: COMMAND_TIMEOUT, connectTimeout: 500, reconnect: { initialDelay: 20, maxDelay: 100 } };


function isTypedOutage(error: unknown): boolean {
  return error instanceof CacheTimeoutError || error instanceof CacheConnectionError || error instanceof CacheProtocolError;
}

// ---- faults -----------------------------------------------------------------------------------

interface Fault {
  name: string;
  /** Whether operations during the fault fail (latency below the timeout only slows them). */
  fails: boolean;
  /**
   * Starts the fault on these proxies; the returned function ends it. One-shot faults hit the
   * next reply only, unless `repeat` arms them again and again for a workload.
   */
  start(proxies: readonly FaultProxy[], repeat: boolean): () => void | Promise<void>;
}

/** Does `act` on every proxy now, and when asked every 100 ms until the fault ends: one-shot faults keep hitting replies. */
function repeatedly(act: (proxy: FaultProxy) => void, onEnd: (proxy: FaultProxy) => void = () => {}): Fault['start'] {
  return (proxies, repeat) => {
    const hitAll = (): void => proxies.forEach(act);
    hitAll();
    const timer = repeat ? setInterval(hitAll, 100) : undefined;
    return () => {
      clearInterval(timer);
      proxies.forEach(onEnd);
    };
  };
}

function latency(ms: number): Fault['start'] {
  return (proxies) => {
    proxies.forEach((proxy) => proxy.setLatency(ms));
    return () => proxies.forEach((proxy) => proxy.setLatency(0));
  };
}

const FAULTS: Fault[] = [
  // Both ways: a round trip of a sixth of the timeout, leaving room for a loaded machine.
  { name: 'latency below the command timeout', fails: false, start: latency(COMMAND_TIMEOUT / 12) },
  { name: 'latency above the command timeout', fails: true, start: latency(COMMAND_TIMEOUT) },
  {
    name: 'a stalled server (nothing forwarded)',
    fails: true,
    start: (proxies) => {
      proxies.forEach((proxy) => proxy.pause());
      return () => proxies.forEach((proxy) => proxy.resume());
    },
  },
  {
    name: 'connection resets',
    fails: true,
    // Paused so that every command is still in flight when its connection is reset.
    start: repeatedly(
      (proxy) => {
        proxy.pause();
        proxy.resetAll();
      },
      (proxy) => proxy.resume(),
    ),
  },
  { name: 'a reply cut mid-way, then the connection closed', fails: true, start: repeatedly((proxy) => proxy.cutNextReply('close')) },
  { name: 'a reply cut mid-way, then silence', fails: true, start: repeatedly((proxy) => proxy.cutNextReply('stall')) },
  { name: 'garbage instead of a reply', fails: true, start: repeatedly((proxy) => proxy.garbleNextReply()) },
];

// ---- the workload: concurrent operations on versioned values ----------------------------------

interface Outcome {
  operation: string;
  tookMs: number;
  error?: unknown;
}

/**
 * Callers writing `key#n` (n unique per write) and reading keys back. Every value read must be
 * one written for that key: a reply handed to the wrong caller shows up as another key's value.
 */
class VersionedWorkload {
  readonly outcomes: Outcome[] = [];
  readonly misdelivered: string[] = [];
  private readonly written = new Map<string, Set<string>>(KEYS.map((key) => [key, new Set()]));
  private writes = 0;
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly random = seededRandom(7);

  constructor(private readonly cache: RedisCache) {}

  start(callers = 8): void {
    this.running = true;
    this.workers = Array.from({ length: callers }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Writes every key, then reads them all back exactly; rejects on any failure. */
  async roundTrip(): Promise<void> {
    const values = Object.fromEntries(KEYS.map((key) => [key, this.nextValue(key)]));
    expect(await this.cache.setMany(values)).toEqual([]);
    expect(Object.fromEntries(await this.cache.getMany(KEYS))).toEqual(values);
    await Promise.all(KEYS.map(async (key) => expect(await this.cache.get(key)).toBe(values[key])));
  }

  private nextValue(key: string): string {
    const value = `${key}#${++this.writes}`;
    this.written.get(key)!.add(value);
    return value;
  }

  private pick(): string {
    return KEYS[Math.floor(this.random() * KEYS.length)]!;
  }

  private check(key: string, value: unknown): void {
    if (value !== undefined && !this.written.get(key)!.has(value as string)) this.misdelivered.push(`${key} read ${String(value)}`);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const key = this.pick();
      await this.timed('set', () => this.cache.set(key, this.nextValue(key)));
      await this.timed('get', async () => this.check(key, await this.cache.get(key)));
      const many = [this.pick(), this.pick(), this.pick()];
      await this.timed('getMany', async () => {
        const found = await this.cache.getMany(many);
        for (const [foundKey, value] of found) this.check(foundKey, value);
      });
    }
  }

  private async timed(operation: string, run: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await run();
      this.outcomes.push({ operation, tookMs: performance.now() - started });
    } catch (error) {
      this.outcomes.push({ operation, tookMs: performance.now() - started, error });
      await sleep(5); // a failing server fails fast: do not spin
    }
  }
}

// ---- topologies -------------------------------------------------------------------------------

interface Rig {
  proxies: FaultProxy[];
  location: string | string[];
  options: RedisCacheOptions;
  stop(): Promise<void>;
}

interface Topology {
  name: string;
  skip: string | undefined;
  start(): Promise<Rig>;
}

async function proxied(server: RedisTestServer): Promise<FaultProxy> {
  return startFaultProxy({ host: server.host, port: server.port });
}

async function serversBehindProxies(count: number, options: RedisCacheOptions): Promise<Rig> {
  const servers = await Promise.all(Array.from({ length: count }, () => startRedis()));
  const proxies = await Promise.all(servers.map(proxied));
  return {
    proxies,
    location: proxies.map((proxy) => `redis://${proxy.host}:${proxy.port}`),
    options,
    stop: async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

/**
 * A cluster whose nodes announce their proxy's port (`cluster-announce-port`): the slot map and
 * every `MOVED` then send the client through the proxies, while the cluster bus stays direct.
 */
async function clusterBehindProxies(): Promise<Rig> {
  const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  const proxies = await Promise.all(cluster.nodes.map(proxied));
  await Promise.all(cluster.nodes.map((node, index) => cluster.command(node, 'CONFIG', 'SET', 'cluster-announce-port', String(proxies[index]!.port))));
  await everyNodeAnnounces(cluster, proxies);
  return {
    proxies,
    location: `redis+cluster://${proxies.map((proxy) => `${proxy.host}:${proxy.port}`).join(',')}`,
    options: { ...OPTIONS, cluster: { refreshInterval: 50 } },
    stop: async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      await cluster.stop();
    },
  };
}

/** Waits until every node's `CLUSTER SLOTS` names only proxy ports (the cluster bus gossips the change). */
async function everyNodeAnnounces(cluster: RedisClusterTestServer, proxies: readonly FaultProxy[]): Promise<void> {
  const proxyPorts = new Set(proxies.map((proxy) => String(proxy.port)));
  await eventually(async () => {
    for (const node of cluster.nodes) {
      const client = new RedisClient({ host: node.host, port: node.port });
      try {
        const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<Array<unknown>>;
        const ports = slots.flatMap((range) => range.slice(2).map((entry) => String((entry as unknown[])[1])));
        if (ports.length === 0 || !ports.every((port) => proxyPorts.has(port))) throw new Error(`${node.port} still announces ${ports.join(',')}`);
      } finally {
        await client.close();
      }
    }
  }, 15_000);
}

const skipRedis = await serverSkipReason('redis');
const skipCluster = await redisClusterSkipReason();

const TOPOLOGIES: Topology[] = [
  { name: 'one server', skip: skipRedis, start: () => serversBehindProxies(1, OPTIONS) },
  { name: 'one server, poolSize 3', skip: skipRedis, start: () => serversBehindProxies(1, { ...OPTIONS, poolSize: 3 }) },
  { name: 'a ring of two servers', skip: skipRedis, start: () => serversBehindProxies(2, { ...OPTIONS, sharding: 'consistent' }) },
  { name: 'a cluster of three primaries', skip: skipCluster, start: clusterBehindProxies },
];

// ---- the checks -------------------------------------------------------------------------------

/** The proxy in front of the server a key's reads go to. */
function proxyFor(rig: Rig, cache: RedisCache, key: string): FaultProxy {
  const port = Number(cache.getClient({ key }).address.split(':').pop());
  return rig.proxies.find((proxy) => proxy.port === port)!;
}

async function underLoad(rig: Rig, cache: RedisCache, fault: Fault): Promise<VersionedWorkload> {
  const workload = new VersionedWorkload(cache);
  await workload.roundTrip();
  workload.start();
  await sleep(100);
  const end = fault.start(rig.proxies, true);
  await sleep(FAULT_WINDOW);
  await workload.stop();
  await end();
  return workload;
}

function expectSettledInTime(workload: VersionedWorkload, fault: Fault): void {
  const { outcomes } = workload;
  const late = outcomes.filter((outcome) => outcome.tookMs > COMMAND_TIMEOUT + SETTLE_MARGIN);
  expect(late.map(({ operation, tookMs }) => `${operation} took ${Math.round(tookMs)} ms`)).toEqual([]);
  const errors = outcomes.filter((outcome) => 'error' in outcome).map((outcome) => outcome.error);
  const untyped = outcomes.filter((outcome) => 'error' in outcome && !isTypedOutage(outcome.error));
  expect(untyped.map(({ operation, error }) => `${operation}: ${(error as Error).stack}`)).toEqual([]);
  if (fault.fails) expect(errors.length).toBeGreaterThan(0);
  else expect(errors).toEqual([]);
  expect(outcomes.length).toBeGreaterThan(20);
}

/** Reads the probe often enough to go through every connection of a pool. */
async function expectReadsFromEveryConnection(redis: RedisCache): Promise<void> {
  for (let read = 0; read < 6; read++) expect(await redis.get('probe')).toBe('stored');
}

/** Counts the swallowed-error events `cache` publishes while `run` runs. */
async function swallowedDuring<T>(cache: RedisCache, run: () => Promise<T>): Promise<{ result: T; events: number }> {
  let events = 0;
  const listener = (message: unknown): void => {
    if ((message as SwallowedErrorMessage).cache === cache) events++;
  };
  subscribe(swallowedErrorChannel.name, listener);
  try {
    return { result: await run(), events };
  } finally {
    unsubscribe(swallowedErrorChannel.name, listener);
  }
}

for (const topology of TOPOLOGIES) {
  describe.skipIf(topology.skip)(`faults on ${topology.name}${topology.skip ? ` (skipped: ${topology.skip})` : ''}`, () => {
    let rig: Rig;
    const caches: RedisCache[] = [];
    const cache = (options: RedisCacheOptions = {}): RedisCache => {
      const created = new RedisCache({ location: rig.location, keyPrefix: 'faults', options: { ...rig.options, ...options } });
      caches.push(created);
      return created;
    };

    beforeAll(async () => {
      rig = await topology.start();
    });
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((created) => created.close()));
      rig.proxies.forEach((proxy) => proxy.clearFaults()); // a one-shot fault nothing took must not hit the next test
    });
    afterAll(() => rig?.stop());

    describe.each(FAULTS)('$name', (fault) => {
      it('settles every operation in time, never hands a value to the wrong caller, and recovers', async () => {
        const redis = cache();
        const workload = await underLoad(rig, redis, fault);
        expectSettledInTime(workload, fault);
        expect(workload.misdelivered).toEqual([]);
        // The same object, not a new one: it reconnects by itself.
        await eventually(() => workload.roundTrip());
        await workload.roundTrip();
        expect(workload.misdelivered).toEqual([]);
      });

      it('with ignoreExceptions, reads a fault as a miss and publishes one swallowed error', async () => {
        const redis = cache({ ignoreExceptions: true });
        await redis.set('probe', 'stored');
        expect(await redis.get('probe')).toBe('stored');
        const end = fault.start([proxyFor(rig, redis, 'probe')], false);
        const started = performance.now();
        const { result, events } = await swallowedDuring(redis, () => redis.get('probe', 'default'));
        expect(performance.now() - started).toBeLessThan(COMMAND_TIMEOUT + SETTLE_MARGIN);
        await end();
        expect({ result, events }).toEqual(fault.fails ? { result: 'default', events: 1 } : { result: 'stored', events: 0 });
        // Recovered: every connection answers again (reads through a failing one would be misses).
        await eventually(() => expectReadsFromEveryConnection(redis));
        await expectReadsFromEveryConnection(redis);
      });
    });
  });
}

/**
 * A server given a bulk string longer than its `proto-max-bulk-len` answers an error and closes
 * the connection, failing every other command in flight on it: `maxValueBytes` refuses such a
 * value before it is sent.
 */
describe.skipIf(skipRedis)(`a value over the server's proto-max-bulk-len${skipRedis ? ` (skipped: ${skipRedis})` : ''}`, () => {
  const LIMIT = 1024 * 1024;
  let server: RedisTestServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--proto-max-bulk-len', String(LIMIT)] });
  });
  afterAll(() => server?.stop());

  it.each([false, true])('is refused with ValueTooLargeError before it is sent, disturbing no other command (ignoreExceptions: %s)', async (ignoreExceptions) => {
    const redis = new RedisCache({ location: server.url, keyPrefix: 'size', options: { maxValueBytes: LIMIT, ignoreExceptions } });
    try {
      await redis.set('small', 'kept');
      const big = 'x'.repeat(2 * LIMIT);
      const reads = Array.from({ length: 20 }, () => redis.get('small'));
      const refused = Promise.allSettled([redis.set('big', big), redis.add('big', big)]);
      const partial = redis.setMany({ big, other: 'stored' });
      reads.push(...Array.from({ length: 20 }, () => redis.get('small')));
      for (const outcome of await refused) expect(outcome).toEqual({ status: 'rejected', reason: expect.any(ValueTooLargeError) });
      expect(await Promise.all(reads)).toEqual(Array.from({ length: 40 }, () => 'kept'));
      expect(await partial).toEqual(['big']);
      expect(await redis.getMany(['big', 'other', 'small'])).toEqual(new Map([['other', 'stored'], ['small', 'kept']]));
    } finally {
      await redis.close();
    }
  });

  it('refuses a maxValueBytes that is not a positive number', () => {
    expect(() => new RedisCache({ location: server.url, options: { maxValueBytes: 0 } })).toThrow(RangeError);
  });
});

describe.skipIf(skipRedis)(`a pool losing one connection${skipRedis ? ` (skipped: ${skipRedis})` : ''}`, () => {
  let server: RedisTestServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await proxied(server);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('serves every command from its other connections while that one reconnects', async () => {
    // A long first backoff: the lost connection is certain to be still reconnecting below.
    const redis = new RedisCache({ location: `redis://${proxy.host}:${proxy.port}`, options: { ...OPTIONS, poolSize: 3, reconnect: { initialDelay: 1000 } } });
    try {
      await redis.set('k', 'v');
      for (let read = 0; read < 6; read++) expect(await redis.get('k')).toBe('v');
      proxy.cutNextReply('close');
      await expect(redis.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
      expect(await Promise.all(Array.from({ length: 9 }, () => redis.get('k')))).toEqual(Array.from({ length: 9 }, () => 'v'));
    } finally {
      await redis.close();
    }
  });
});

describe.skipIf(skipRedis)(`a connection silent after a timeout${skipRedis ? ` (skipped: ${skipRedis})` : ''}`, () => {
  let server: RedisTestServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());

  it('is kept while a blocking command (no timeout) is waiting on it', async () => {
    const client = new RedisClient({ url: server.url, commandTimeout: COMMAND_TIMEOUT });
    try {
      await client.ping();
      // BLPOP answers (nil) after 1.5 s: past the first timeout plus the silence allowed after it.
      const blocking = client.connection().send(['BLPOP', 'never-filled', '1.5'], 0);
      await expect(client.get('queued-behind')).rejects.toBeInstanceOf(CacheTimeoutError);
      expect(await blocking).toBeNull();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.close();
    }
  });
});
