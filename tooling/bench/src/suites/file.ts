import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cacache from 'cacache';
import { FileCache } from '@cachette/cache-file';
import { defineSuite } from '../harness';
import { CULLING_MAX_ENTRIES, MANY_SIZE, benchKeys, cacheContender, localStoreCases, type Contender } from '../key-value-workload';

const smallValue = 'v'.repeat(100);

/** npm's cacache: a content-addressed directory with an index, each entry a file, as a user picks for a disk cache. */
function cacacheContender(directory: string): Contender<string> {
  return {
    name: 'cacache',
    get: async (key) => (await cacache.get(directory, key)).data.toString(),
    set: (key, value) => cacache.put(directory, key, value),
    // cacache has no multi-get: the gets issued together, as a user would.
    getMany: (batch) => Promise.all(batch.map(async (key) => (await cacache.get(directory, key)).data.toString())),
  };
}

export default defineSuite({
  description: `FileCache against cacache, each in its own temporary directory (values of 100 B, getMany of ${MANY_SIZE})`,
  async setup() {
    const root = mkdtempSync(join(tmpdir(), 'cachette-bench-file-'));
    const cache = new FileCache({ location: join(root, 'cachette'), options: { maxEntries: benchKeys.length * 4 } });
    const culling = new FileCache({ location: join(root, 'cachette-culling'), options: { maxEntries: CULLING_MAX_ENTRIES } });
    const peer = cacacheContender(join(root, 'cacache'));
    const cachette = cacheContender<string>('cachette', cache);
    for (const key of benchKeys) {
      await cache.set(key, smallValue, null);
      await peer.set(key, smallValue);
    }
    return {
      cases: localStoreCases(cachette, cacheContender<string>('cachette culling', culling), peer, smallValue),
      async teardown() {
        await Promise.all([cache.close(), culling.close()]);
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
