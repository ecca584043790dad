import { serverSkipReason, startMariaDb, startPostgres, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCache } from '../src/index';

/**
 * Concurrent multi-row writes over a small key space make InnoDB (and PostgreSQL, less often)
 * deadlock: the database rolls one statement back to break the cycle. The cache writes rows in
 * one order and sends a rolled-back statement again, so no caller ever sees the deadlock.
 */

const WRITERS = 8;
const ROUNDS = 150;
const KEY_SPACE = 40;

function randomKeys(count: number): string[] {
  return Array.from({ length: count }, () => `k${Math.floor(Math.random() * KEY_SPACE)}`);
}

async function writer(cache: SqlCache, id: number): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const keys = randomKeys(6);
    const writes = [cache.setMany(Object.fromEntries(keys.map((key) => [key, `${id}:${round}`]))), cache.add(keys[0]!, id), cache.deleteMany(keys.slice(3))];
    for (const outcome of await Promise.allSettled(writes)) if (outcome.status === 'rejected') failures.push(outcome.reason);
  }
  return failures;
}

const SERVERS = [
  { name: 'MariaDB', start: startMariaDb, skip: await serverSkipReason('mariadb') },
  { name: 'PostgreSQL', start: startPostgres, skip: await serverSkipReason('postgres') },
];

for (const { name, start, skip } of SERVERS) {
  describe.skipIf(skip)(`concurrent writers on ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let server: TestServer;
    let cache: SqlCache;
    beforeAll(async () => {
      server = await start();
      cache = new SqlCache({ location: server.url, options: { table: 'write_conflicts', maxEntries: 10_000 } });
    });
    afterAll(async () => {
      await cache?.close();
      await server?.stop();
    });

    it('never fail for lock conflicts between them', async () => {
      const failures = (await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(cache, id)))).flat();
      expect(failures).toEqual([]);
      // Every key written by the last round of someone is readable.
      expect((await cache.getMany(Array.from({ length: KEY_SPACE }, (_, index) => `k${index}`))).size).toBeGreaterThan(0);
    });
  });
}
