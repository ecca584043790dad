import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './system.js';
import { postgresBinaries } from './binaries.js';
import { postgresReplicationSkipReason, startPostgresReplication, type PostgresReplication } from './postgres-replication.js';

const skip = await postgresReplicationSkipReason();

function sql(port: number, statement: string): Promise<string> {
  return runCommand(postgresBinaries()!.psql!, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-c', statement]).then((out) => out.trim());
}

describe.skipIf(skip)(`startPostgresReplication${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let pair: PostgresReplication;
  beforeAll(async () => {
    pair = await startPostgresReplication({ synchronous: true });
  });
  afterAll(() => pair?.stop());

  it('streams the primary to a read-only replica, which sees a synchronous commit at once', async () => {
    await sql(pair.primary.port, 'CREATE TABLE replicated_probe (n integer)');
    await sql(pair.primary.port, 'INSERT INTO replicated_probe VALUES (42)');
    expect(await sql(pair.replica.port, 'SELECT n FROM replicated_probe')).toBe('42');
    expect(await sql(pair.replica.port, 'SELECT pg_is_in_recovery()')).toBe('t');
    await expect(sql(pair.replica.port, 'INSERT INTO replicated_probe VALUES (1)')).rejects.toThrow(/read-only transaction/);
  });

  it("counts each server's own statements", async () => {
    const before = await pair.statementCount('replica', 'replicated_probe');
    await sql(pair.replica.port, 'SELECT n FROM replicated_probe');
    await sql(pair.replica.port, 'SELECT n FROM replicated_probe');
    expect(await pair.statementCount('replica', 'replicated_probe')).toBe(before + 2);
    const onPrimary = await pair.statementCount('primary', 'replicated_probe');
    await sql(pair.replica.port, 'SELECT n FROM replicated_probe');
    expect(await pair.statementCount('primary', 'replicated_probe')).toBe(onPrimary);
  });
});

describe.skipIf(skip)(`startPostgresReplication, asynchronous${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('keeps the primary writing while the replica is stopped, and caughtUp waits for the replica', async () => {
    const pair = await startPostgresReplication();
    try {
      await sql(pair.primary.port, 'CREATE TABLE lag_probe (n integer)');
      await pair.caughtUp();
      expect(await sql(pair.replica.port, 'SELECT count(*) FROM lag_probe')).toBe('0');
      await pair.replica.stop();
      await sql(pair.primary.port, 'INSERT INTO lag_probe VALUES (1)');
      expect(await sql(pair.primary.port, 'SELECT count(*) FROM lag_probe')).toBe('1');
    } finally {
      await pair.stop();
    }
  });
});
