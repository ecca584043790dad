// A tour of Cachette on embedded backends, configured the way a Django site configures CACHES.
// Run it with `pnpm example` from the repository root; every step prints what it did.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cache, caches, closeCaches, configureCaches, KeyNotFoundError, makeTemplateFragmentKey } from '@cachette/cache-core';

const quiet = process.argv.includes('--quiet');
const say = (...parts) => quiet || console.log(...parts);
const check = (condition, message) => {
  if (!condition) throw new Error(`example went wrong: ${message}`);
};

const fileCacheDir = mkdtempSync(join(tmpdir(), 'cachette-example-'));

configureCaches({
  default: { backend: '@cachette/cache-locmem', location: 'example', timeout: 60, options: { maxEntries: 1000 } },
  fragments: 'locmem://fragments?timeout=none&key_prefix=frag',
  reports: `file://${fileCacheDir}?max_entries=500&timeout=3600`,
  off: 'dummy://',
});

async function expensiveQuery(id) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { id, name: `Product ${id}`, price: 9.99 };
}

say('1. set and get on the default cache (locmem, 60 s default timeout)');
await cache.set('greeting', { text: 'hello', at: new Date(0) });
const greeting = await cache.get('greeting');
say('   get("greeting") ->', greeting);
check(greeting.at instanceof Date, 'values keep their types');

say('2. getOrSet computes once, even for concurrent callers');
let computed = 0;
const load = () => {
  computed++;
  return expensiveQuery(7);
};
const [first, second] = await Promise.all([cache.getOrSet('product:7', load), cache.getOrSet('product:7', load)]);
say(`   two concurrent calls, factory ran ${computed} time(s):`, first);
check(computed === 1 && first.name === second.name, 'getOrSet coalesces');

say('3. counters keep their expiry; a missing counter is an error');
await cache.set('hits', 0, 30);
await cache.incr('hits');
say('   incr("hits") twice ->', await cache.incr('hits'));
try {
  await cache.incr('no-such-counter');
} catch (error) {
  say(`   incr("no-such-counter") -> ${error.name}: ${error.message}`);
  check(error instanceof KeyNotFoundError, 'missing counters reject');
}

say('4. versions: bump a key to invalidate readers of the old version');
await cache.set('menu', ['soup'], undefined, 1);
const newVersion = await cache.incrVersion('menu');
say(`   menu moved to version ${newVersion}:`, await cache.get('menu', null, newVersion), '| old version:', await cache.get('menu', null, 1));

say('5. add only stores when absent; timeout 0 stores nothing');
say('   add("lock", ...) ->', await cache.add('lock', 'me'), '| again ->', await cache.add('lock', 'you'));
await cache.set('gone', 'x', 0);
say('   set("gone", x, 0) then hasKey ->', await cache.hasKey('gone'));

say('6. aliases: a Django-compatible template fragment key, and a dummy cache');
const fragmentKey = makeTemplateFragmentKey('sidebar', ['user-42', 'en']);
await caches.get('fragments').set(fragmentKey, '<aside>…</aside>');
say(`   ${fragmentKey} stored in "fragments" as "${caches.get('fragments').makeKey(fragmentKey)}"`);
await caches.get('off').set('anything', 1);
say('   the dummy cache remembers nothing:', await caches.get('off').get('anything', 'miss'));

say('7. a file cache: values survive the process, one file per key named by a hash');
const reports = caches.get('reports');
await reports.set('report:../../etc/passwd', { rows: [1, 2, 3] });
const files = readdirSync(fileCacheDir);
say(`   stored as ${files.join(', ')} in ${fileCacheDir}:`, await reports.get('report:../../etc/passwd'));
check(files.length === 1 && /^[0-9a-f]{32}\./.test(files[0]), 'file names come from hashes, not keys');

say('8. getMany / setMany / deleteMany, then clear');
await cache.setMany({ a: 1, b: 2, c: 3 });
say('   getMany(a, b, z) ->', await cache.getMany(['a', 'b', 'z']));
await cache.deleteMany(['a', 'b']);
await cache.clear();
say('   after clear, get("c") ->', await cache.get('c'));

await closeCaches();
rmSync(fileCacheDir, { recursive: true, force: true });
say('done: every cache closed');
