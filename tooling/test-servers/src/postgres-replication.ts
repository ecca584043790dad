import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { skipOrRequire } from './availability.js';
import { postgresBinaries, postgresUser, type PostgresBinaries } from './binaries.js';
import { postgresAnswers, postgresUrl, speedSettings } from './postgres.js';
import { makeTempDir, removeTempDir, startOnFreePorts, type ServerProcess } from './process.js';
import { localServer } from './server.js';
import { runCommand, runningAsRoot, type UserIds } from './system.js';
import type { ControllableServer } from './types.js';

export interface PostgresReplicationOptions {
  /**
   * Commits on the primary wait until the replica has applied them (`synchronous_commit =
   * remote_apply`), so a read on the replica right after a write sees it. While the replica is
   * down, such commits wait: stop it only with `synchronous: false` (the default).
   */
  synchronous?: boolean;
}

/** A PostgreSQL primary and one hot-standby replica streaming from it, on loopback ports. */
export interface PostgresReplication {
  primary: ControllableServer;
  /** Read-only; `stop()`/`kill()` it to test a replica that fails (the pair's `stop()` still cleans up). */
  replica: ControllableServer;
  /**
   * How many statements whose text contains `text` the server has run (`pg_stat_statements`,
   * counted by each server for itself), leaving out the statements that read the count.
   */
  statementCount(server: 'primary' | 'replica', text: string): Promise<number>;
  /** Waits until the replica has applied everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

type ReplicationBinaries = Required<PostgresBinaries>;

function replicationBinaries(): ReplicationBinaries | undefined {
  const binaries = postgresBinaries();
  return binaries?.basebackup && binaries.psql ? (binaries as ReplicationBinaries) : undefined;
}

/** Why no primary with a streaming replica can be started here, or undefined (a throw under CACHETTE_REQUIRE_SERVERS=1). */
export async function postgresReplicationSkipReason(): Promise<string | undefined> {
  if (!replicationBinaries()) return skipOrRequire('a PostgreSQL replica', 'initdb, postgres, pg_basebackup and psql not found in /usr/lib/postgresql/*/bin');
  if (runningAsRoot() && !postgresUser()) return skipOrRequire('a PostgreSQL replica', 'running as root and there is no `postgres` user to run PostgreSQL as');
  return undefined;
}

const ENV = { LC_ALL: 'C', LANG: 'C' };

interface Started {
  process: ServerProcess;
  port: number;
}

/**
 * The test settings, with `synchronous_commit` as asked: a command-line setting outranks
 * `ALTER SYSTEM`. `remote_apply` acts as `on` until `synchronous_standby_names` names a standby.
 */
function settings(synchronous: boolean): string[] {
  const speed = speedSettings().filter((setting) => !synchronous || !setting.startsWith('synchronous_commit='));
  return [
    ...speed,
    ...(synchronous ? ['synchronous_commit=remote_apply'] : []),
    ...['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'hot_standby=on'],
  ];
}

async function startCluster(binaries: ReplicationBinaries, dataDir: string, socketDir: string, user: UserIds | undefined, label: string, synchronous: boolean): Promise<Started> {
  const { process, ports } = await startOnFreePorts(1, ([port = 0]) => ({
    label,
    command: binaries.postgres,
    args: [
      ...['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
      ...settings(synchronous).flatMap((setting) => ['-c', setting]),
    ],
    env: ENV,
    user,
    stopSignal: 'SIGINT',
    isReady: () => postgresAnswers({ port }),
  }));
  return { process, port: ports[0] ?? 0 };
}

/**
 * Starts a primary and a replica made from it with `pg_basebackup -R` (which writes
 * `primary_conninfo` and `standby.signal`), both with `pg_stat_statements`, and waits until the
 * replica streams. Local binaries only: a container or an env URL cannot be made into a pair.
 */
export async function startPostgresReplication(options: PostgresReplicationOptions = {}): Promise<PostgresReplication> {
  const binaries = replicationBinaries();
  if (!binaries) throw new Error('PostgreSQL replication needs initdb, postgres, pg_basebackup and psql');
  const user = postgresUser();
  const dir = makeTempDir('postgres-replication', user);
  const started: Started[] = [];
  const psql = (port: number, sql: string): Promise<string> =>
    runCommand(binaries.psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: ENV });
  try {
    const primaryData = join(dir, 'primary');
    const replicaData = join(dir, 'replica');
    await runCommand(binaries.initdb, ['-D', primaryData, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { env: ENV, user });
    const synchronous = options.synchronous ?? false;
    const primary = await startCluster(binaries, primaryData, dir, user, 'postgres primary', synchronous);
    started.push(primary);
    await psql(primary.port, 'CREATE EXTENSION pg_stat_statements');
    // --checkpoint=fast: the default spread checkpoint made the backup wait about 5 s.
    await runCommand(binaries.basebackup, ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replicaData, '-R', '-X', 'stream', '--no-sync', '--checkpoint=fast'], { env: ENV, user });
    const replica = await startCluster(binaries, replicaData, dir, user, 'postgres replica', synchronous);
    started.push(replica);
    await untilTrue(async () => (await psql(primary.port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")).trim() === '1', 'the replica to stream');
    if (synchronous) {
      await psql(primary.port, "ALTER SYSTEM SET synchronous_standby_names = '*'");
      await psql(primary.port, 'SELECT pg_reload_conf()');
      await untilTrue(async () => (await psql(primary.port, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")).trim() === '1', 'the replica to be synchronous');
    }
    const server = ({ port, process }: Started): ControllableServer => {
      const endpoint = { host: '127.0.0.1', port };
      return localServer('postgres', { ...endpoint, url: postgresUrl(endpoint) }, process, async () => {});
    };
    const pair = { primary: server(primary), replica: server(replica) };
    return {
      ...pair,
      async statementCount(which, text) {
        const port = which === 'primary' ? primary.port : replica.port;
        const literal = `'%${text.replace(/'/g, "''")}%'`;
        const answer = await psql(port, `SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE ${literal} AND query NOT LIKE '%pg_stat_statements%'`);
        return Number(answer.trim());
      },
      async caughtUp() {
        // The insert position: with synchronous_commit off, a commit may not be written out yet.
        const written = (await psql(primary.port, 'SELECT pg_current_wal_insert_lsn()')).trim();
        await untilTrue(async () => (await psql(replica.port, `SELECT pg_last_wal_replay_lsn() >= '${written}'::pg_lsn`)).trim() === 't', 'the replica to catch up');
      },
      async stop() {
        await pair.replica.stop();
        await pair.primary.stop();
        await removeTempDir(dir);
      },
    };
  } catch (error) {
    for (const { process } of started.reverse()) await process.stop().catch(() => {});
    await removeTempDir(dir);
    throw error;
  }
}

async function untilTrue(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(50);
  }
}
