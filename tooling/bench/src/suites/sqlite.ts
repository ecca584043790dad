import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { SqlCache } from '@cachette/cache-sql';
import { defineSuite } from '../harness';
import { CULLING_MAX_ENTRIES, MANY_SIZE, benchKeys, cacheContender, localStoreCases, type Contender } from '../key-value-workload';

const smallValue = 'v'.repeat(100);

/** Keyv over @keyv/sqlite (the `sqlite3` driver), each in its own database file. */
function keyvContender(file: string): { contender: Contender<string>; close(): Promise<void> } {
  const store = new KeyvSqlite(`sqlite://${file}`);
  const keyv = new Keyv({ store });
  return {
    contender: { name: 'keyv sqlite', get: (key) => keyv.get(key), set: (key, value) => keyv.set(key, value), getMany: (batch) => keyv.get(batch) },
    close: () => keyv.disconnect(),
  };
}

export default defineSuite({
  description: `SqlCache on SQLite (better-sqlite3, WAL) against Keyv with @keyv/sqlite, each on its own database file (values of 100 B, getMany of ${MANY_SIZE})`,
  async setup() {
    const root = mkdtempSync(join(tmpdir(), 'cachette-bench-sqlite-'));
    const cache = new SqlCache({ location: `sqlite://${join(root, 'cachette.db')}`, options: { maxEntries: benchKeys.length * 4 } });
    const culling = new SqlCache({ location: `sqlite://${join(root, 'culling.db')}`, options: { maxEntries: CULLING_MAX_ENTRIES } });
    const keyv = keyvContender(join(root, 'keyv.db'));
    const cachette = cacheContender<string>('cachette', cache);
    for (const key of benchKeys) {
      await cache.set(key, smallValue, null);
      await keyv.contender.set(key, smallValue);
    }
    return {
      cases: localStoreCases(cachette, cacheContender<string>('cachette culling', culling), keyv.contender, smallValue),
      async teardown() {
        await Promise.all([cache.close(), culling.close(), keyv.close()]);
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
