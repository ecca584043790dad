// `pnpm --filter @cachette/bench memory`: the heap a LocMemCache of 100 000 string entries of
// 100 B takes, against lru-cache holding the same, each measured after two full GCs
// (`--expose-gc`). The target (issue 15): at most 1.5× lru-cache's.
import { LRUCache } from 'lru-cache';
import { LocMemCache } from '@cachette/cache-locmem';

const ENTRIES = 100_000;
const TARGET_RATIO = 1.5;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('Run with node --expose-gc (the package script does)');

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const keyOf = (index: number): string => `key:${index}`;
const valueOf = (index: number): string => String(index).padStart(100, 'v');

async function measure(fill: () => Promise<unknown>): Promise<number> {
  const before = heapUsed();
  const held = await fill();
  const bytes = heapUsed() - before;
  // Keeps what was filled reachable until after the measurement.
  if (held === undefined) throw new Error('nothing was filled');
  return bytes;
}

const lruBytes = await measure(async () => {
  const lru = new LRUCache<string, string>({ max: ENTRIES * 2 });
  for (let index = 0; index < ENTRIES; index++) lru.set(keyOf(index), valueOf(index));
  return lru;
});
const locmemBytes = await measure(async () => {
  // The default timeout (300 s), as an application would use it.
  const cache = new LocMemCache({ location: 'bench-memory', options: { maxEntries: ENTRIES * 2 } });
  for (let index = 0; index < ENTRIES; index++) await cache.set(keyOf(index), valueOf(index));
  return cache;
});

const ratio = locmemBytes / lruBytes;
const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
console.log(`${ENTRIES} string entries of 100 B, heap after GC (Node ${process.version})`);
console.log(`lru-cache  ${megabytes(lruBytes)}`);
console.log(`locmem     ${megabytes(locmemBytes)}  (${ratio.toFixed(2)}× lru-cache; target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT MET'})`);
process.exitCode = ratio <= TARGET_RATIO ? 0 : 1;
