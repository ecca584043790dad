import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateTlsFiles,
  redisClusterSkipReason,
  serverSkipReason,
  startRedisCluster,
  type RedisClusterNode,
  type RedisClusterTestServer,
} from './index.js';
import { infoField } from './resp.js';
import { ask, endsWithCrlf, portIsFree, processesWith, stoppedAfterAll } from './test-helpers.js';

const skip = await redisClusterSkipReason();
const tlsSkip = skip ?? (await serverSkipReason('redis', { tls: true }));

/** A process's working directory: a redis-server's is its --dir. */
function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined; // it exited while we looked
  }
}

const processesUnder = (dir: string): number[] => processesWith('redis-server').filter((pid) => cwdOf(pid)?.startsWith(dir));

/** Runs `use` with os.tmpdir() pointing at a fresh directory, so what it creates is told apart from anyone else's. */
async function withOwnTmpdir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cachette-cluster-test-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await use(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

const ids = (nodes: readonly RedisClusterNode[]): string[] => nodes.map(({ id }) => id);

describe.skipIf(skip)(`startRedisCluster${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const start = stoppedAfterAll(startRedisCluster);
  let cluster: RedisClusterTestServer;
  beforeAll(async () => {
    cluster = await start();
  });

  /** The key's slot, and the primary that serves it now. */
  async function slotOf(key: string): Promise<{ slot: number; primary: RedisClusterNode }> {
    const slot = Number(await cluster.command(cluster.nodes[0]!, 'CLUSTER', 'KEYSLOT', key));
    return { slot, primary: await cluster.primaryOfSlot(slot) };
  }

  it('starts 3 primaries covering all 16384 slots, each with one linked replica, on loopback', async () => {
    const { nodes, seeds, url } = cluster;
    expect(nodes).toHaveLength(6);
    expect(seeds).toEqual(nodes.map(({ port }) => `127.0.0.1:${port}`));
    expect(url).toBe(`redis+cluster://${seeds.join(',')}`);
    for (const node of nodes) {
      expect(node).toMatchObject({ kind: 'redis', source: 'local', host: '127.0.0.1', url: `redis://127.0.0.1:${node.port}` });
      expect(node.id).toMatch(/^[0-9a-f]{40}$/);
      expect(processesWith('redis-server', `127.0.0.1:${node.port}`)).toHaveLength(1);
    }
    const info = await cluster.command(nodes[0]!, 'CLUSTER', 'INFO');
    expect(infoField(info, 'cluster_state')).toBe('ok');
    expect(infoField(info, 'cluster_slots_ok')).toBe('16384');
    expect(infoField(info, 'cluster_size')).toBe('3');

    const primaries = await cluster.primaries();
    const replicas = await cluster.replicas();
    expect(primaries).toHaveLength(3);
    expect([...primaries, ...replicas].sort((a, b) => a.port - b.port)).toEqual([...nodes].sort((a, b) => a.port - b.port));
    const primaryPorts = await Promise.all(
      replicas.map(async (replica) => {
        const replication = await cluster.command(replica, 'INFO', 'replication');
        expect(infoField(replication, 'master_link_status')).toBe('up');
        return Number(infoField(replication, 'master_port'));
      }),
    );
    expect(primaryPorts.sort()).toEqual(primaries.map(({ port }) => port).sort());
  });

  it('runs commands on a node and gives their replies as text', async () => {
    const { slot, primary } = await slotOf('greeting');
    expect(await cluster.command(primary, 'SET', 'greeting', 'hello world')).toBe('OK');
    expect(await cluster.command(primary, 'GET', 'greeting')).toBe('hello world');
    expect(await cluster.command(primary, 'GET', '{greeting}missing')).toBe(''); // same slot: the hash tag
    expect(await cluster.command(primary, 'EXISTS', 'greeting', '{greeting}missing')).toBe('1');
    const other = (await cluster.primaries()).find((node) => node !== primary)!;
    await expect(cluster.command(other, 'GET', 'greeting')).rejects.toThrow(`MOVED ${slot} 127.0.0.1:${primary.port}`);
  });

  it('moves slots with clusterCli reshard', async () => {
    const from = await cluster.primaryOfSlot(0);
    const to = (await cluster.primaries()).find((node) => node !== from)!;
    // reshard takes the source's lowest slots first.
    const output = await cluster.clusterCli('reshard', `127.0.0.1:${to.port}`, '--cluster-from', from.id, '--cluster-to', to.id, '--cluster-slots', '10');
    expect(output).toContain('Moving slot 9 from');
    await cluster.waitForHealthy();
    expect((await cluster.primaryOfSlot(0)).id).toBe(to.id);
    expect((await cluster.primaryOfSlot(9)).id).toBe(to.id);
    expect((await cluster.primaryOfSlot(10)).id).toBe(from.id);
    await expect(cluster.clusterCli('reshard', '127.0.0.1:1')).rejects.toThrow(/Could not connect/);
  });

  it('fails a killed primary over to its replica, and takes it back as a replica after restart', async () => {
    const { slot, primary: victim } = await slotOf('survivor');
    const [replicaId] = (await cluster.command(victim, 'CLUSTER', 'REPLICAS', victim.id)).split(' ');
    await cluster.command(victim, 'SET', 'survivor', 'kept');
    expect(await cluster.command(victim, 'WAIT', '1', '5000')).toBe('1'); // the replica has it

    await victim.kill();
    await expect
      .poll(async () => (await cluster.primaryOfSlot(slot)).id, { timeout: cluster.nodeTimeout + 5_000, interval: 100 })
      .toBe(replicaId);
    await cluster.waitForHealthy();
    expect(ids(await cluster.primaries())).not.toContain(victim.id);
    const promoted = await cluster.primaryOfSlot(slot);
    expect(await cluster.command(promoted, 'GET', 'survivor')).toBe('kept');

    await victim.restart();
    await cluster.waitForHealthy();
    expect(ids(await cluster.replicas())).toContain(victim.id);
    expect(infoField(await cluster.command(victim, 'INFO', 'replication'), 'master_port')).toBe(String(promoted.port));
  });

  it('rejects waitForHealthy in bounded time, naming the nodes that are not ready', async () => {
    const [stalled] = await cluster.replicas();
    stalled!.pause();
    const startedAt = Date.now();
    try {
      await expect(cluster.waitForHealthy(500)).rejects.toThrow(`127.0.0.1:${stalled!.port} gave no reply`);
      expect(Date.now() - startedAt).toBeLessThan(5_000); // the timeout, plus one round of probes
    } finally {
      stalled!.resume();
    }
    await cluster.waitForHealthy();
  });

  it('honours its options, and leaves no process, port or directory behind after stop', async () => {
    const small = await start({ replicasPerPrimary: 0, nodeTimeout: 2_000, args: ['--maxmemory', '7mb'] });
    expect(small.nodeTimeout).toBe(2_000);
    expect(small.nodes).toHaveLength(3);
    expect(await small.replicas()).toEqual([]);
    const node = small.nodes[0]!;
    expect(await small.command(node, 'CONFIG', 'GET', 'cluster-node-timeout')).toBe('cluster-node-timeout\n2000');
    expect(await small.command(node, 'CONFIG', 'GET', 'maxmemory')).toBe('maxmemory\n7340032');
    const dirs = small.nodes.map(({ port }) => processesWith('redis-server', `127.0.0.1:${port}`).map(cwdOf)[0]);
    expect(new Set(dirs).size).toBe(3);
    for (const dir of dirs) expect(existsSync(join(dir ?? '', 'nodes.conf'))).toBe(true);

    await small.stop();
    await small.stop();
    for (const { port } of small.nodes) {
      expect(processesWith('redis-server', `127.0.0.1:${port}`)).toEqual([]);
      expect(await portIsFree(port)).toBe(true);
    }
    expect(dirs.filter((dir) => existsSync(dir ?? ''))).toEqual([]);
  });

  it('stops every node it started when starting fails part way', async () => {
    await withOwnTmpdir(async (dir) => {
      // The nodes start and answer PING, then CLUSTER MYID fails on every one of them.
      await expect(start({ args: ['--cluster-enabled', 'no'] })).rejects.toThrow(/cluster support disabled/);
      expect(processesUnder(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    });
    await expect(start({ primaries: 2 })).rejects.toThrow(/at least 3 primaries/);
  });
});

describe.skipIf(tlsSkip)(`startRedisCluster with TLS${tlsSkip ? ` (skipped: ${tlsSkip})` : ''}`, () => {
  const start = stoppedAfterAll(startRedisCluster);

  it('starts healthy with TLS clients, bus and replication, names the TLS ports, and redirects TLS clients to TLS ports', async () => {
    const tls = await generateTlsFiles();
    const cluster = await start({ tls });
    const { nodes, seeds, url } = cluster;
    expect(nodes).toHaveLength(6);
    expect(seeds).toEqual(nodes.map(({ tlsPort }) => `127.0.0.1:${tlsPort}`));
    expect(url).toBe(`rediss+cluster://${seeds.join(',')}`);
    for (const node of nodes) {
      expect(node.tlsPort).toBeGreaterThan(0);
      expect(node.tlsPort).not.toBe(node.port);
      const pong = await ask({ port: node.tlsPort! }, 'PING\r\n', endsWithCrlf, { tls: { ca: tls.ca } });
      expect(String(pong)).toBe('+PONG\r\n');
    }
    const node = nodes[0]!;
    expect(await cluster.command(node, 'CONFIG', 'GET', 'tls-cluster')).toBe('tls-cluster\nyes');
    expect(await cluster.command(node, 'CONFIG', 'GET', 'tls-replication')).toBe('tls-replication\nyes');
    expect(infoField(await cluster.command(node, 'CLUSTER', 'INFO'), 'cluster_state')).toBe('ok');

    // Replicas follow their primaries' TLS ports, and a TLS client is redirected to TLS ports.
    const primaries = await cluster.primaries();
    const replicas = await cluster.replicas();
    expect(replicas).toHaveLength(3);
    const followed = await Promise.all(replicas.map(async (replica) => infoField(await cluster.command(replica, 'INFO', 'replication'), 'master_port')));
    expect(followed.map(Number).sort()).toEqual(primaries.map(({ tlsPort }) => tlsPort).sort());
    const slot = Number(await cluster.command(node, 'CLUSTER', 'KEYSLOT', 'greeting'));
    const owner = await cluster.primaryOfSlot(slot);
    const other = primaries.find((primary) => primary !== owner)!;
    const moved = await ask({ port: other.tlsPort! }, '*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n', endsWithCrlf, { tls: { ca: tls.ca } });
    expect(String(moved)).toBe(`-MOVED ${slot} 127.0.0.1:${owner.tlsPort}\r\n`);
    expect(await cluster.clusterCli('check', seeds[0]!)).toContain('[OK] All 16384 slots covered.');
  });
});
