// One process of the soak (see soak.ts): builds the cache of argv[2] (a SoakWorkerSpec as JSON),
// runs mixed operations on it until told to finish, checks every value it reads, then closes the
// cache and reports what it saw and what was left behind. Run with --expose-gc.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapCodeStatistics, writeHeapSnapshot } from 'node:v8';
import { seededRandom } from '../seeded-random.js';
import type { SoakEvent, SoakWorkerSpec, WorkerReport } from './protocol.js';
import { COUNTER_SPACE, counterKey, KEY_SPACE, keyFor, parseValue, valueFor } from './values.js';

/** The part of a Cachette cache the soak uses (this package does not depend on cache-core). */
interface SoakCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, timeout?: number): Promise<void>;
  add(key: string, value: unknown, timeout?: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  touch(key: string, timeout?: number): Promise<boolean>;
  incr(key: string, delta?: number): Promise<number>;
  getMany(keys: string[]): Promise<Map<string, unknown>>;
  setMany(data: Map<string, unknown>, timeout?: number): Promise<string[]>;
  getOrSet(key: string, factory: () => string, timeout?: number): Promise<unknown>;
  close(): Promise<void>;
}

const spec = JSON.parse(process.argv[2]!) as SoakWorkerSpec;
const random = seededRandom(spec.seed);
const RESERVE_BLOCK = 1000;
const PROBLEM_SAMPLES = 10;

const report: WorkerReport = {
  writer: spec.writer,
  ops: 0,
  errors: {},
  calmErrors: {},
  problems: [],
  untypedErrors: 0,
  wrongValues: 0,
  hangs: 0,
  unhandledRejections: 0,
  uncaughtExceptions: 0,
  listenerWarnings: 0,
  heapWarm: 0,
  heapEnd: 0,
  heapSamples: [],
  codeWarm: 0,
  codeEnd: 0,
  leakedHandles: {},
  leakedListeners: {},
  highestRead: {},
};
let calm = false;

function say(event: SoakEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function noteProblem(text: string): void {
  if (report.problems.length < PROBLEM_SAMPLES) report.problems.push(text.slice(0, 300));
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  const { code } = reason as { code?: unknown };
  return `${reason.name}${code === undefined ? '' : ` [${String(code)}]`}: ${reason.message}`;
}

// ---- what must never happen ---------------------------------------------------------------------

process.on('unhandledRejection', (reason) => {
  report.unhandledRejections++;
  noteProblem(`unhandled rejection: ${describe(reason)}`);
});
process.on('uncaughtException', (error) => {
  report.uncaughtExceptions++;
  noteProblem(`uncaught exception: ${describe(error)}`);
});
process.on('warning', (warning) => {
  // Listeners added per operation or per reconnect and never removed show up as this.
  if (warning.name !== 'MaxListenersExceededWarning') return;
  report.listenerWarnings++;
  noteProblem(`warning: ${warning.message}`);
});

// ---- errors, values ---------------------------------------------------------------------------

/** A Cachette error's class name (CacheError records its class chain under this symbol). */
function cachetteErrorName(error: unknown): string | undefined {
  const kinds = (error as { [key: symbol]: unknown } | null)?.[Symbol.for('cachette.errorKinds')];
  return Array.isArray(kinds) ? (kinds[0] as string) : undefined;
}

function countError(operation: string, error: unknown): void {
  const name = cachetteErrorName(error);
  if (name === undefined) {
    report.untypedErrors++;
    noteProblem(`${operation} failed with an untyped error: ${describe(error)}`);
    return;
  }
  report.errors[name] = (report.errors[name] ?? 0) + 1;
  if (calm) {
    report.calmErrors[name] = (report.calmErrors[name] ?? 0) + 1;
    noteProblem(`${operation} failed after recovery: ${describe(error)}`);
  }
}

function checkValue(key: string, value: unknown): void {
  if (value === undefined) return;
  const written = parseValue(key, value);
  if (!written) {
    report.wrongValues++;
    noteProblem(`wrong value for ${key}: ${JSON.stringify(value)?.slice(0, 120)}`);
    return;
  }
  report.highestRead[written.writer] = Math.max(report.highestRead[written.writer] ?? 0, written.counter);
}

function checkCounter(key: string, value: unknown): void {
  // Counters are only ever added as 1 and incremented.
  if (value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1)) return;
  report.wrongValues++;
  noteProblem(`wrong counter ${key}: ${JSON.stringify(value)}`);
}

let counter = 0;
let reservedUpTo = 0;

/** The next counter of this writer; its range is announced before any of it is written. */
function nextCounter(): number {
  if (counter >= reservedUpTo) {
    reservedUpTo += RESERVE_BLOCK;
    say({ event: 'reserve', upTo: reservedUpTo });
  }
  return ++counter;
}

// ---- operations -------------------------------------------------------------------------------

const pick = (count: number): number => Math.floor(random() * count);
const anyKey = (): string => `k${pick(KEY_SPACE)}`;
const anyCounterKey = (): string => counterKey(pick(COUNTER_SPACE));
/** Whole seconds, long and short, so that entries expire during the run. */
const anyTimeout = (): number => 2 + pick(120);

function freshEntry(): [string, string] {
  const next = nextCounter();
  return [keyFor(spec.writer, next), valueFor(spec.writer, next)];
}

type Operation = (cache: SoakCache) => Promise<void>;

const OPERATIONS: Array<[weight: number, name: string, operation: Operation]> = [
  [25, 'get', async (cache) => {
    const key = anyKey();
    checkValue(key, await cache.get(key));
  }],
  [12, 'set', async (cache) => {
    const [key, value] = freshEntry();
    await cache.set(key, value, anyTimeout());
  }],
  [6, 'add', async (cache) => {
    const [key, value] = freshEntry();
    await cache.add(key, value, anyTimeout());
  }],
  [5, 'delete', async (cache) => void (await cache.delete(anyKey()))],
  [5, 'touch', async (cache) => void (await cache.touch(anyKey(), anyTimeout()))],
  [10, 'getMany', async (cache) => {
    const keys = Array.from({ length: 5 }, anyKey);
    for (const [key, value] of await cache.getMany(keys)) checkValue(key, value);
  }],
  [8, 'setMany', async (cache) => {
    await cache.setMany(new Map(Array.from({ length: 4 }, freshEntry)), anyTimeout());
  }],
  [10, 'getOrSet', async (cache) => {
    const [key, value] = freshEntry();
    checkValue(key, await cache.getOrSet(key, () => value, anyTimeout()));
  }],
  [12, 'incr', async (cache) => {
    const key = anyCounterKey();
    checkCounter(key, await incrementOrStart(cache, key));
  }],
  [7, 'get counter', async (cache) => {
    const key = anyCounterKey();
    checkCounter(key, await cache.get(key));
  }],
];
const TOTAL_WEIGHT = OPERATIONS.reduce((sum, [weight]) => sum + weight, 0);

/** incr, or add the counter at 1 when it is missing (another process may add it first). */
async function incrementOrStart(cache: SoakCache, key: string): Promise<number | undefined> {
  try {
    return await cache.incr(key);
  } catch (error) {
    if (cachetteErrorName(error) !== 'KeyNotFoundError') throw error;
    return (await cache.add(key, 1, anyTimeout())) ? 1 : undefined;
  }
}

function anyOperation(): [name: string, operation: Operation] {
  let left = pick(TOTAL_WEIGHT);
  for (const [weight, name, operation] of OPERATIONS) {
    if (left < weight) return [name, operation];
    left -= weight;
  }
  return [OPERATIONS[0]![1], OPERATIONS[0]![2]];
}

const HUNG = Symbol('hung');

/** Runs one operation within the deadline; a failure is counted, never thrown. */
async function runWithDeadline(cache: SoakCache, [name, operation]: [string, Operation]): Promise<void> {
  report.ops++;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof HUNG>((resolve) => (timer = setTimeout(resolve, spec.deadlineMs, HUNG)));
  try {
    if ((await Promise.race([operation(cache), deadline])) === HUNG) {
      report.hangs++;
      noteProblem(`${name} did not settle within ${spec.deadlineMs} ms`);
    }
  } catch (error) {
    countError(name, error);
  } finally {
    clearTimeout(timer);
  }
}

// ---- loops, phases ------------------------------------------------------------------------------

/** More callers at once than any backend's pool holds connections by default (mysql2 and pg: 10). */
const POOL_FILL_CALLERS = 12;

let running = false;
let loops: Array<Promise<void>> = [];

async function loop(cache: SoakCache): Promise<void> {
  while (running) {
    await runWithDeadline(cache, anyOperation());
    await sleep(spec.pauseMs);
  }
}

function startLoops(cache: SoakCache): void {
  running = true;
  loops = Array.from({ length: spec.loops }, () => loop(cache));
}

/** Lets the operations in flight finish (each is bounded by the deadline) and starts no more. */
async function stopLoops(): Promise<void> {
  running = false;
  await Promise.all(loops);
}

interface HeapMeasure {
  /** What the program keeps: the heap without `code`. */
  objects: number;
  /** Compiled code, bytecode and their metadata: grows as V8 optimizes more functions, long after warm-up. */
  code: number;
}

/** The heap once garbage is collected (more than once: the first run may leave finalizers' garbage). */
async function collectedHeap(): Promise<HeapMeasure> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('soak workers run with --expose-gc');
  for (let round = 0; round < 3; round++) {
    gc();
    await sleep(20);
  }
  const { code_and_metadata_size: compiled, bytecode_and_metadata_size: bytecode } = getHeapCodeStatistics();
  return { objects: process.memoryUsage().heapUsed - compiled - bytecode, code: compiled + bytecode };
}

// ---- what is left behind ------------------------------------------------------------------------

type Counts = Record<string, number>;

/** Live handles and requests by type (sockets, timers, …), as Node lists them. */
function countResources(): Counts {
  const counts: Counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  // Unreferenced handles do not keep the process alive, so the list above leaves them out.
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  for (const handle of handles) {
    const type = `handle ${handle.constructor.name}`;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function countListeners(): Counts {
  return Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]));
}

function excess(now: Counts, before: Counts): Counts {
  const extra = Object.entries(now).map(([type, count]) => [type, count - (before[type] ?? 0)] as const);
  return Object.fromEntries(extra.filter(([, count]) => count > 0));
}

/** What stays beyond `before` once the closed cache has had up to 5 s to let go of it. */
async function leftOver(before: Counts, count: () => Counts): Promise<Counts> {
  for (let waited = 0; ; waited += 100) {
    const extra = excess(count(), before);
    if (Object.keys(extra).length === 0 || waited >= 5000) return extra;
    await sleep(100);
  }
}

// ---- the run ------------------------------------------------------------------------------------

let lines = '';
process.stdin.on('data', (chunk: Buffer) => {
  lines += chunk.toString();
  for (let newline = lines.indexOf('\n'); newline >= 0; newline = lines.indexOf('\n')) {
    obey(lines.slice(0, newline).trim());
    lines = lines.slice(newline + 1);
  }
});
// The driver is gone: nobody will read the report.
process.stdin.on('end', () => process.exit(2));

const resourcesBefore = countResources();
const listenersBefore = countListeners();
const loaded = (await import(spec.cache.module)) as Record<string, new (params: object) => SoakCache>;
const cache = new loaded[spec.cache.className]!(spec.cache.params);
say({ event: 'ready' });

let sampleTimer: NodeJS.Timeout | undefined;
let finishing: Promise<void> | undefined;

/**
 * Operations from many callers at once, so that every pool holds its working set of connections
 * when the heap is measured. A pool grows only when callers overlap, which the loops do by
 * chance: a measure taken before one overlapped (each mysql2 connection keeps buffers and caches)
 * would read as a leak when compared with one taken after.
 */
async function fillPools(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: POOL_FILL_CALLERS }, () => runWithDeadline(cache, anyOperation())));
  }
}

/** The heap with no operation in flight (pools full): loops stop, the heap is measured, loops go on. */
async function heapBetweenOperations(): Promise<HeapMeasure> {
  await stopLoops();
  await fillPools();
  const heap = await collectedHeap();
  if (!finishing) startLoops(cache);
  return heap;
}

/** The warm-up heap after `warmupMs`, then a sample every `sampleEveryMs`, to tell a leak's slope from a step. */
function scheduleHeapSamples(): void {
  sampleTimer = setTimeout(
    async () => {
      const heap = await heapBetweenOperations();
      if (report.heapWarm === 0) recordWarm(heap);
      else report.heapSamples.push(heap.objects);
      if (!finishing) scheduleHeapSamples();
    },
    report.heapWarm === 0 ? spec.warmupMs : spec.sampleEveryMs,
  );
}

function recordWarm(heap: HeapMeasure): void {
  ({ objects: report.heapWarm, code: report.codeWarm } = heap);
  say({ event: 'warm', heap: heap.objects });
  snapshotHeap('warm');
}

/** With SOAK_HEAP_SNAPSHOTS=<directory>, heap snapshots at warm-up and at the end, to find what grew. */
function snapshotHeap(when: 'warm' | 'end'): void {
  const directory = process.env.SOAK_HEAP_SNAPSHOTS;
  if (directory) writeHeapSnapshot(join(directory, `${spec.writer}-${when}.heapsnapshot`));
}

async function finish(): Promise<void> {
  clearTimeout(sampleTimer);
  await stopLoops();
  await fillPools();
  // A worker started late (a replacement) may not have reached its warm-up measure.
  if (report.heapWarm === 0) recordWarm(await collectedHeap());
  ({ objects: report.heapEnd, code: report.codeEnd } = await collectedHeap());
  snapshotHeap('end');
  await cache.close();
  report.leakedHandles = await leftOver(resourcesBefore, countResources);
  report.leakedListeners = await leftOver(listenersBefore, countListeners);
  say({ event: 'report', report });
  process.exit(0);
}

function obey(command: string): void {
  if (command === 'go') {
    startLoops(cache);
    scheduleHeapSamples();
  } else if (command === 'calm') calm = true;
  else if (command === 'finish') finishing ??= finish();
}
