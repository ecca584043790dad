import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { skipOrRequire } from './availability.js';
import { redisCliBinary, redisServerBinary } from './binaries.js';
import { hostPort } from './env.js';
import type { ServerProcess } from './process.js';
import { startRedisProcess } from './redis.js';
import { infoField, redisCommand } from './resp.js';
import { runCommand } from './system.js';
import type { ControllableServer, TlsFiles } from './types.js';

export interface RedisClusterOptions {
  /** At least 3, the fewest `redis-cli --cluster create` accepts. Default 3. */
  primaries?: number;
  /** Default 1. */
  replicasPerPrimary?: number;
  /** `cluster-node-timeout` in ms: how soon a dead primary is failed over. Default 1000. */
  nodeTimeout?: number;
  /** Extra redis-server arguments for every node. */
  args?: string[];
  /**
   * Every node also listens with TLS on its `tlsPort` (clients need no certificate), and the
   * cluster bus and replication run over TLS; `url`, `seeds` and `clusterCli` then name and speak
   * to the TLS ports. The plain `port` stays open beside it for `command` and the health checks.
   */
  tls?: TlsFiles;
}

export interface RedisClusterNode extends ControllableServer {
  /** Its cluster node id (CLUSTER MYID); its nodes.conf keeps it across restarts. */
  id: string;
  /** Its TLS port, on a cluster started with `tls`. */
  tlsPort?: number;
}

export interface RedisClusterTestServer {
  /** Every node, in start order. */
  nodes: readonly RedisClusterNode[];
  /** `redis+cluster://127.0.0.1:<port>,127.0.0.1:<port>,…`, every node; `rediss+cluster://…<tlsPort>…` with `tls`. */
  url: string;
  /** `127.0.0.1:<port>` of every node, the ports `url` names (`tlsPort` with `tls`). */
  seeds: readonly string[];
  nodeTimeout: number;
  /** Current roles, from CLUSTER NODES of a running node; nodes it has marked failed are in neither. */
  primaries(): Promise<RedisClusterNode[]>;
  replicas(): Promise<RedisClusterNode[]>;
  /** The primary `slot` is assigned to now (a killed one, until its replica has taken over). */
  primaryOfSlot(slot: number): Promise<RedisClusterNode>;
  /** One command over RESP on the node's plain `port`: the reply as `redis-cli --raw` prints it; an error reply rejects. */
  command(node: RedisClusterNode, ...args: string[]): Promise<string>;
  /** `redis-cli [--tls --cacert <ca>] --cluster <args> --cluster-yes`: its output, or a rejection with the tail of it. */
  clusterCli(...args: string[]): Promise<string>;
  /**
   * Resolves once every running node says cluster_state:ok, they all agree on roles and slot owners,
   * running primaries serve every slot and every running replica's link is up. Rejects after
   * `timeoutMs` (default 30 s) naming what is not so.
   */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes their directories; calling it again is fine. */
  stop(): Promise<void>;
}

const TOTAL_SLOTS = 16_384;
const HEALTHY_TIMEOUT_MS = 30_000;
const HEALTH_POLL_MS = 100;
/** Far above what a loaded machine needs, but a paused node must not hold up a polling round for long. */
const HEALTH_PROBE_TIMEOUT_MS = 2_000;

/**
 * Undefined when a local Redis Cluster can be started; otherwise why not (printed once), or a
 * throw under CACHETTE_REQUIRE_SERVERS=1. An env server or a container cannot be one.
 */
export async function redisClusterSkipReason(): Promise<string | undefined> {
  const binaries = [['redis-server', redisServerBinary()], ['redis-cli', redisCliBinary()]] as const;
  const missing = binaries.filter(([, path]) => path === undefined).map(([name]) => name);
  return missing.length ? skipOrRequire('redis cluster', `${missing.join(' and ')} not found on PATH`) : undefined;
}

interface Member {
  node: RedisClusterNode;
  serverProcess: ServerProcess;
}

const nodeWithId = (members: readonly Member[], id: string | undefined): RedisClusterNode | undefined =>
  members.find(({ node }) => node.id === id)?.node;

/** A node's cluster settings: its own bus port (not port + 10000, which nobody checked is free). */
function clusterArgs(dir: string, busPort: number, nodeTimeout: number): string[] {
  return [
    ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-port', String(busPort)],
    ...['--cluster-node-timeout', String(nodeTimeout), '--cluster-require-full-coverage', 'yes'],
    // A replica may always fail over, however long ago it last heard from its primary.
    ...['--cluster-replica-validity-factor', '0'],
    // Replicas sync at once instead of waiting 5 s for more replicas to share the transfer.
    ...['--repl-diskless-sync-delay', '0'],
  ];
}

/**
 * TLS beside the plain port rather than instead of it: the start-up probe, `command` and the
 * health checks keep using the plain `port`, so only the client ports, the bus and replication
 * need TLS. A node connecting to another's cluster bus shows its certificate as a client's,
 * whatever `tls-auth-clients` says (the certificate allows both uses).
 */
function clusterTlsArgs(tls: TlsFiles, tlsPort: number): string[] {
  return [
    ...['--tls-port', String(tlsPort), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile],
    ...['--tls-auth-clients', 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes'],
  ];
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterTestServer> {
  const { primaries = 3, replicasPerPrimary = 1, nodeTimeout = 1_000, args = [], tls } = options;
  if (!Number.isInteger(primaries) || primaries < 3) throw new Error(`A Redis Cluster needs at least 3 primaries, not ${primaries}`);
  if (!Number.isInteger(replicasPerPrimary) || replicasPerPrimary < 0) throw new Error(`replicasPerPrimary must be 0 or more, not ${replicasPerPrimary}`);
  const starts = Array.from({ length: primaries * (1 + replicasPerPrimary) }, () =>
    startRedisProcess('redis-cluster', tls ? 2 : 1, (dir, [busPort = 0, tlsPort = 0]) => [
      ...clusterArgs(dir, busPort, nodeTimeout),
      ...(tls ? clusterTlsArgs(tls, tlsPort) : []),
      ...args,
    ]),
  );
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const members = await Promise.all(
      started.map(async ({ server, serverProcess, extraPorts: [, tlsPort] }) => ({
        node: { ...server, id: await redisCommand(server, ['CLUSTER', 'MYID']), ...(tlsPort !== undefined && { tlsPort }) },
        serverProcess,
      })),
    );
    const cluster = clusterHandle(members, nodeTimeout, tls);
    await cluster.clusterCli('create', ...cluster.seeds, '--cluster-replicas', String(replicasPerPrimary));
    await cluster.waitForHealthy();
    return cluster;
  } catch (error) {
    await Promise.all(started.map(({ server }) => server.stop()));
    throw error;
  }
}

function clusterHandle(
  members: readonly Member[],
  nodeTimeout: number,
  tls: TlsFiles | undefined,
): RedisClusterTestServer {
  const nodes = members.map(({ node }) => node);
  const seeds = nodes.map(({ host, port, tlsPort }) => hostPort({ host, port: tlsPort ?? port }));
  const cliTls = tls ? ['--tls', '--cacert', tls.caFile] : [];
  return {
    nodes,
    url: `${tls ? 'rediss' : 'redis'}+cluster://${seeds.join(',')}`,
    seeds,
    nodeTimeout,
    primaries: () => nodesInView(members, isPrimary),
    replicas: () => nodesInView(members, (line) => !isPrimary(line)),
    primaryOfSlot: (slot) => primaryOfSlot(members, slot),
    command: (node, ...commandArgs) => redisCommand(node, commandArgs),
    // stdin is closed, so a question could never be answered; TERM=dumb keeps colour codes out.
    clusterCli: (...cliArgs) => runCommand(redisCliBinary() ?? 'redis-cli', [...cliTls, '--cluster', ...cliArgs, '--cluster-yes'], { env: { TERM: 'dumb' } }),
    waitForHealthy: (timeoutMs = HEALTHY_TIMEOUT_MS) => waitForHealthy(members, timeoutMs),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}

/** One line of CLUSTER NODES: `<id> <ip:port@bus> <flags> <primary id | -> <ping> <pong> <epoch> <link> <slots…>`. */
interface NodeLine {
  id: string;
  flags: string[];
  primaryId: string;
  /** `0-5460` or `5461`; `[slot->-id]` entries (a slot being migrated, not yet moved) are left out. */
  slots: string[];
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [id = '', , flags = '', primaryId = '', , , , , ...slots] = line.trim().split(' ');
      return { id, flags: flags.split(','), primaryId, slots: slots.filter((range) => !range.startsWith('[')) };
    });
}

const isPrimary = (line: NodeLine): boolean => line.flags.includes('master');

/** `fail?` is one node's suspicion, `fail` the cluster's verdict. */
const isFailing = (line: NodeLine): boolean => line.flags.includes('fail') || line.flags.includes('fail?');

function slotRange(range: string): { first: number; last: number } {
  const [first = 0, last = first] = range.split('-').map(Number);
  return { first, last };
}

const runningMembers = (members: readonly Member[]): Member[] => members.filter(({ serverProcess }) => serverProcess.running);

/** CLUSTER NODES as the first running node that answers sees it. */
async function currentView(members: readonly Member[]): Promise<NodeLine[]> {
  for (const { node } of runningMembers(members)) {
    try {
      return parseClusterNodes(await redisCommand(node, ['CLUSTER', 'NODES']));
    } catch {
      // Paused, or killed a moment ago: ask the next one.
    }
  }
  throw new Error('No node of the Redis Cluster is running and answers CLUSTER NODES');
}

async function nodesInView(members: readonly Member[], wanted: (line: NodeLine) => boolean): Promise<RedisClusterNode[]> {
  const view = await currentView(members);
  const matches = new Set(view.filter((line) => !line.flags.includes('fail') && wanted(line)).map((line) => line.id));
  return members.map(({ node }) => node).filter((node) => matches.has(node.id));
}

async function primaryOfSlot(members: readonly Member[], slot: number): Promise<RedisClusterNode> {
  const view = await currentView(members);
  const owner = view.find((line) => isPrimary(line) && line.slots.map(slotRange).some(({ first, last }) => slot >= first && slot <= last));
  const node = nodeWithId(members, owner?.id);
  if (!node) throw new Error(`No node of the Redis Cluster serves slot ${slot}`);
  return node;
}

async function waitForHealthy(members: readonly Member[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = await healthProblems(members);
    if (!problems.length) return;
    if (Date.now() > deadline) throw new Error(`The Redis Cluster was not healthy within ${timeoutMs / 1000} s:\n- ${problems.join('\n- ')}`);
    await delay(HEALTH_POLL_MS);
  }
}

/** What one running node says about itself and the cluster. */
interface NodeReport {
  name: string;
  clusterInfo: string;
  view: NodeLine[];
  replication: string;
}

async function reportOf(node: RedisClusterNode): Promise<NodeReport> {
  const ask = (...args: string[]): Promise<string> => redisCommand(node, args, HEALTH_PROBE_TIMEOUT_MS);
  const [clusterInfo, nodes, replication] = await Promise.all([ask('CLUSTER', 'INFO'), ask('CLUSTER', 'NODES'), ask('INFO', 'replication')]);
  return { name: hostPort(node), clusterInfo, view: parseClusterNodes(nodes), replication };
}

/** Which nodes are running, by id, and how to name any node in a message. */
interface Roster {
  running: ReadonlySet<string>;
  nameOf(id: string): string;
}

/** Why the cluster is not healthy yet; empty once it is. Killed nodes are left out, except as slot owners. */
async function healthProblems(members: readonly Member[]): Promise<string[]> {
  const running = runningMembers(members).map(({ node }) => node);
  if (!running.length) return ['no node is running'];
  const roster: Roster = {
    running: new Set(running.map(({ id }) => id)),
    nameOf: (id) => {
      const node = nodeWithId(members, id);
      return node ? hostPort(node) : id;
    },
  };
  const outcomes = await Promise.all(running.map((node) => reportOf(node).catch((error: Error) => error.message)));
  const reports = outcomes.filter((outcome): outcome is NodeReport => typeof outcome !== 'string');
  return [
    ...outcomes.filter((outcome): outcome is string => typeof outcome === 'string'),
    ...reports.flatMap((report) => nodeProblems(report, roster)),
    ...layoutProblems(reports, roster),
  ];
}

function nodeProblems({ name, clusterInfo, view, replication }: NodeReport, { running, nameOf }: Roster): string[] {
  const problems: string[] = [];
  const state = infoField(clusterInfo, 'cluster_state');
  if (state !== 'ok') problems.push(`${name}: cluster_state:${state}`);
  const link = infoField(replication, 'master_link_status');
  if (infoField(replication, 'role') === 'slave' && link !== 'up') problems.push(`${name}: master_link_status:${link}`);
  const failing = view.filter((line) => running.has(line.id) && isFailing(line)).map((line) => nameOf(line.id));
  if (failing.length) problems.push(`${name} sees ${failing.join(', ')} as failing`);
  return problems;
}

/** Every node must see the same roles, primaries and slots for the running nodes, and those must serve every slot. */
function layoutProblems(reports: readonly NodeReport[], roster: Roster): string[] {
  const layouts = new Map<string, string[]>();
  for (const { name, view } of reports) {
    const layout = view
      .filter((line) => roster.running.has(line.id))
      .map((line) => `${line.id} ${isPrimary(line) ? 'primary' : `replica of ${line.primaryId}`} ${line.slots.join(',')}`)
      .sort()
      .join('\n');
    layouts.set(layout, [...(layouts.get(layout) ?? []), name]);
  }
  if (layouts.size > 1) return [`the nodes disagree on roles and slots: ${[...layouts.values()].map((names) => names.join(', ')).join(' | ')}`];
  return coverageProblems(reports[0]?.view ?? [], roster);
}

/** A killed primary keeps its slots in every view until a replica takes them over. */
function coverageProblems(view: readonly NodeLine[], { running, nameOf }: Roster): string[] {
  const owners = view.filter((line) => isPrimary(line) && line.slots.length);
  const deadOwners = owners.filter((line) => !running.has(line.id)).map((line) => `${nameOf(line.id)} is not running but still serves slots`);
  const served = owners
    .filter((line) => running.has(line.id))
    .flatMap((line) => line.slots.map(slotRange))
    .reduce((sum, { first, last }) => sum + last - first + 1, 0);
  return served < TOTAL_SLOTS ? [...deadOwners, `running primaries serve ${served} of ${TOTAL_SLOTS} slots`] : deadOwners;
}
