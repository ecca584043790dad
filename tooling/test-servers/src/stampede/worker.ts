// One process of a stampede across processes (see workers.ts): makes the cache, says `ready`,
// waits for `go` on stdin, then runs its callers' getOrSet at once and reports how often its
// factory ran. argv[2]: a WorkerSpec as JSON. Output: one JSON event per line. Input: `go`,
// then `release` for a round whose factories compute together.
import { createInterface } from 'node:readline';
import type { WorkerSpec } from './workers';

/** The part of a Cachette cache the workers use (this package does not depend on cache-core). */
interface StampedeCache {
  getOrSet(key: string, factory: () => Promise<string>, timeout: number, version: undefined, options: { lock: object | undefined }): Promise<string>;
  close(): Promise<void>;
}

const spec = JSON.parse(process.argv[2]!) as WorkerSpec;

function say(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const loaded = (await import(spec.cache.module)) as Record<string, new (params: object) => StampedeCache>;
const cache = new loaded[spec.cache.className]!(spec.cache.params);
let runs = 0;
/** How long the factory takes: long enough for every caller of the process to be waiting on it. */
const FACTORY_DELAY_MS = 100;

const lines = createInterface({ input: process.stdin });
const said = (line: string) => new Promise<void>((resolve) => lines.on('line', (text) => text === line && resolve()));
const released = spec.round.computeTogether ? said('release') : Promise.resolve();

async function factory(): Promise<string> {
  runs++;
  say({ event: 'computing' });
  // A holder that hangs until it is killed: its lock must expire for the others.
  if (spec.hang) await new Promise(() => setInterval(() => {}, 1000));
  await released;
  await new Promise((resolve) => setTimeout(resolve, FACTORY_DELAY_MS));
  return `computed in ${process.pid}`;
}

say({ event: 'ready' });
void said('go').then(async () => {
  const { key, callers, timeout, lock } = spec.round;
  const started = Date.now();
  const values = await Promise.all(Array.from({ length: callers }, () => cache.getOrSet(key, factory, timeout, undefined, { lock: lock ?? undefined })));
  say({ event: 'done', runs, values: [...new Set(values)], elapsedMs: Date.now() - started });
  await cache.close();
  process.exit(0);
});
