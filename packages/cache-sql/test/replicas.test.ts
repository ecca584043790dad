import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCacheBackendError, type SwallowedErrorMessage } from '@cachette/cache-core';
import { postgresReplicationSkipReason, startPostgresReplication, type PostgresReplication } from '@cachette/test-servers';
import { SqlCache, createCacheTable, createCacheTableCommand, type SqlCacheOptions } from '../src/index';

const skip = await postgresReplicationSkipReason();
const TABLE = 'routed_cache';

async function tableExists(url: string, table: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM information_schema.tables WHERE table_name = $1', [table]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/** What `cachette:swallowed-error` publishes while `run` runs. */
async function swallowedDuring(run: () => Promise<void>): Promise<SwallowedErrorMessage[]> {
  const messages: SwallowedErrorMessage[] = [];
  const listener = (message: unknown): void => void messages.push(message as SwallowedErrorMessage);
  subscribe('cachette:swallowed-error', listener);
  try {
    await run();
  } finally {
    unsubscribe('cachette:swallowed-error', listener);
  }
  return messages;
}

describe.skipIf(skip)(`SqlCache over a PostgreSQL primary and a streaming replica${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let pair: PostgresReplication;
  const opened: SqlCache[] = [];
  const cache = (options: SqlCacheOptions = {}, table = TABLE): SqlCache => {
    const made = new SqlCache({ location: pair.primary.url, options: { table, poolSize: 2, replicas: [pair.replica.url], ...options } });
    opened.push(made);
    return made;
  };
  /** Statements on the cache table run by each server during `run`. */
  const statementsDuring = async (run: () => Promise<unknown>, table = TABLE): Promise<{ primary: number; replica: number }> => {
    const before = await Promise.all([pair.statementCount('primary', table), pair.statementCount('replica', table)]);
    await run();
    const after = await Promise.all([pair.statementCount('primary', table), pair.statementCount('replica', table)]);
    return { primary: after[0] - before[0], replica: after[1] - before[1] };
  };

  beforeAll(async () => {
    // Synchronous (remote_apply): a commit returns once the replica shows it, so a read right after a write sees it.
    pair = await startPostgresReplication({ synchronous: true });
  });
  afterEach(async () => Promise.all(opened.splice(0).map((made) => made.close())));
  afterAll(() => pair?.stop());

  it('serves get, getMany, hasKey and ttl from the replica, and every write from the primary', async () => {
    const routed = cache();
    const keys = Array.from({ length: 10 }, (_, index) => `k${index}`);
    const writes = await statementsDuring(async () => {
      for (const key of keys) await routed.set(key, `value of ${key}`);
      await routed.add('added', 1);
      await routed.incr('added');
      await routed.touch('k0', 600);
      await routed.delete('k9');
    });
    expect(writes.replica).toBe(0);
    expect(writes.primary).toBeGreaterThanOrEqual(keys.length + 4);

    const reads = await statementsDuring(async () => {
      for (const key of keys.slice(0, 9)) expect(await routed.get(key)).toBe(`value of ${key}`);
      expect(await routed.get('k9')).toBeUndefined();
      expect([...(await routed.getMany(keys)).keys()].sort()).toEqual(keys.slice(0, 9));
      expect(await routed.hasKey('added')).toBe(true);
      expect(await routed.ttl('k0')).toBeGreaterThan(590);
    });
    // 10 gets, 1 getMany, 1 hasKey, 1 ttl: one SELECT each, all on the replica.
    expect(reads).toEqual({ primary: 0, replica: 13 });
  });

  it('takes the replicas in turn, one per read', async () => {
    // The primary listed as a second "replica" makes the turns visible in the counts.
    const routed = cache({ replicas: [pair.replica.url, pair.primary.url] });
    await routed.set('turn', 1);
    const reads = await statementsDuring(async () => {
      for (let read = 0; read < 6; read++) expect(await routed.get('turn')).toBe(1);
    });
    expect(reads).toEqual({ primary: 3, replica: 3 });
  });

  it('createCacheTable creates the table on the primary only and says it skipped the replica; the replica then has it by replication', async () => {
    const log: string[] = [];
    const params = { location: pair.primary.url, options: { table: 'made_on_primary', replicas: [pair.replica.url] } };
    const results = await createCacheTable(params, { log: (line) => log.push(line) });
    expect(results.map(({ database, outcome }) => [database, outcome])).toEqual([
      ['default', 'created'],
      ['replica1', 'skipped'],
    ]);
    expect(log).toEqual([
      "Cache table 'made_on_primary' created on database 'default'.",
      "Cache table 'made_on_primary' skipped on database 'replica1': the router does not allow it there.",
    ]);
    expect(await tableExists(pair.replica.url, 'made_on_primary')).toBe(true);
    expect((await createCacheTable(params, { database: 'replica1' })).map(({ outcome }) => outcome)).toEqual(['skipped']);
    await expect(createCacheTable(params, { database: 'nowhere' })).rejects.toThrow(/has no database 'nowhere' \(databases: default, replica1\)/);
  });

  it('cachette createcachetable --database picks one database of each cache; without it, every one the router allows', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cachette-replicas-'));
    try {
      const config = join(directory, 'caches.json');
      const settings = { backend: '@cachette/cache-sql', location: pair.primary.url, options: { table: 'made_by_cli', replicas: [pair.replica.url] } };
      await writeFile(config, JSON.stringify({ default: settings }));
      const run = async (...argv: string[]): Promise<[number, string[]]> => {
        const lines: string[] = [];
        const code = await createCacheTableCommand(['--config', config, ...argv], { out: (line) => lines.push(line), error: (line) => lines.push(line) }, directory);
        return [code, lines];
      };
      expect(await run('--database', 'replica1')).toEqual([0, ["Cache table 'made_by_cli' skipped on database 'replica1': the router does not allow it there."]]);
      expect(await tableExists(pair.primary.url, 'made_by_cli')).toBe(false);
      expect(await run()).toEqual([
        0,
        ["Cache table 'made_by_cli' created on database 'default'.", "Cache table 'made_by_cli' skipped on database 'replica1': the router does not allow it there."],
      ]);
      const [code, lines] = await run('--database', 'elsewhere');
      expect(code).toBe(2);
      expect(lines[0]).toMatch(/^No SQL cache selected has a database 'elsewhere'\./);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  describe('with a router over two separate databases', () => {
    let otherUrl: string;
    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: pair.primary.url });
      await admin.connect();
      await admin.query('CREATE DATABASE routed_other');
      await admin.end();
      otherUrl = pair.primary.url.replace(/\/postgres$/, '/routed_other');
    });

    it("asks dbForRead and dbForWrite with the operation's name, and creates the table only where allowMigrate allows", async () => {
      const asked: string[] = [];
      const options: SqlCacheOptions = {
        table: 'routed_by_router',
        databases: { other: otherUrl },
        router: {
          dbForRead: (operation) => (asked.push(`read ${operation}`), 'other'),
          dbForWrite: (operation) => (asked.push(`write ${operation}`), 'other'),
          allowMigrate: (database) => database === 'other',
        },
      };
      const routed = new SqlCache({ location: pair.primary.url, options });
      opened.push(routed);
      await routed.set('r', 1);
      expect(await routed.get('r')).toBe(1);
      await routed.incr('r');
      expect(await routed.hasKey('r')).toBe(true);
      expect(asked).toEqual(['write set', 'read get', 'write get', 'write incr', 'read hasKey', 'write hasKey']);
      expect(await tableExists(otherUrl, 'routed_by_router')).toBe(true);
      expect(await tableExists(pair.primary.url, 'routed_by_router')).toBe(false);

      const log: string[] = [];
      await createCacheTable({ location: pair.primary.url, options }, { log: (line) => log.push(line) });
      expect(log).toEqual([
        "Cache table 'routed_by_router' skipped on database 'default': the router does not allow it there.",
        "Cache table 'routed_by_router' already exists on database 'other'.",
      ]);
    });

    it('refuses a router answer that names no configured database', async () => {
      const routed = new SqlCache({ location: pair.primary.url, options: { databases: { other: otherUrl }, router: { dbForRead: () => 'typo' } } });
      opened.push(routed);
      await expect(routed.get('k')).rejects.toThrow(InvalidCacheBackendError);
      await expect(routed.get('k')).rejects.toThrow(/chose database 'typo', which is not configured \(databases: default, other\)/);
    });
  });

  it('refuses settings that cannot route', () => {
    const primary = 'postgres://nobody@127.0.0.1:1/db';
    expect(() => new SqlCache({ location: primary, options: { replicas: [primary], router: {} } })).toThrow(InvalidCacheBackendError);
    expect(() => new SqlCache({ location: primary, options: { replicas: primary as unknown as string[] } })).toThrow(/must be an array/);
    expect(() => new SqlCache({ location: primary, options: { replicas: ['sqlite://:memory:'] } })).toThrow(/is SQLite, the primary PostgreSQL/);
    expect(() => new SqlCache({ location: primary, options: { databases: { default: primary } } })).toThrow(/is the primary's name/);
    expect(() => new SqlCache({ location: primary, options: { replicas: [42] } })).toThrow(/must be a database URL or a client/);
    expect(() => new SqlCache({ location: primary, options: { replicas: [primary], replicaCooldown: -1 } })).toThrow(/replicaCooldown/);
  });
});

describe.skipIf(skip)(`SqlCache with a replica that stops${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('answers reads from the primary, publishes the failure once per cooldown, and never writes to the replica', async () => {
    // Asynchronous replication: the primary keeps committing while its replica is down.
    const pair = await startPostgresReplication();
    const routed = new SqlCache({ location: pair.primary.url, options: { table: TABLE, poolSize: 2, replicas: [pair.replica.url], replicaCooldown: 60 } });
    const everyRead = new SqlCache({ location: pair.primary.url, options: { table: TABLE, poolSize: 2, replicas: [pair.replica.url], replicaCooldown: 0 } });
    try {
      await routed.set('k', 'before the stop');
      await pair.caughtUp();
      expect(await pair.statementCount('replica', TABLE)).toBe(0);
      expect(await routed.get('k')).toBe('before the stop');
      expect(await pair.statementCount('replica', TABLE)).toBe(1);

      await pair.replica.stop();
      const swallowed = await swallowedDuring(async () => {
        await routed.set('k', 'after the stop');
        for (let read = 0; read < 5; read++) expect(await routed.get('k')).toBe('after the stop');
        expect(await routed.getMany(['k', 'absent'])).toEqual(new Map([['k', 'after the stop']]));
      });
      expect(swallowed.map(({ reason, cache }) => [reason, cache === routed])).toEqual([['replicaFallback', true]]);

      const eachTime = await swallowedDuring(async () => {
        for (let read = 0; read < 3; read++) expect(await everyRead.get('k')).toBe('after the stop');
      });
      expect(eachTime.map(({ reason }) => reason)).toEqual(['replicaFallback', 'replicaFallback', 'replicaFallback']);
    } finally {
      await Promise.all([routed.close(), everyRead.close()]);
      await pair.stop();
    }
  });
});
