import { SourceWorker } from '../source-worker.js';

/** A backend for the workers to build: `new (await import(module))[className](params)`. */
export interface CacheSpec {
  module: string;
  className: string;
  /** JSON-safe parameters (locations as URLs). */
  params: object;
}

/** What each process does: `callers` concurrent `getOrSet(key, factory, timeout, undefined, { lock })`. */
export interface StampedeRound {
  key: string;
  callers: number;
  timeout: number;
  /** `null`: no lock (each process computes on its own). */
  lock: { ttl: number; wait: number } | null;
  /**
   * Each factory waits, once started, until every process's factory has started (or 20 s have
   * passed): on a loaded machine a process can start later than another's factory takes, and
   * would then find the value stored, which is right but not what a round without a lock tests.
   */
  computeTogether?: boolean;
}

const COMPUTE_TOGETHER_LIMIT_MS = 20_000;

export interface WorkerSpec {
  cache: CacheSpec;
  round: StampedeRound;
  /** The factory never returns (a lock holder to be killed). */
  hang?: boolean;
}

interface StampedeEvent {
  event: 'ready' | 'computing' | 'done';
  runs?: number;
  values?: string[];
  elapsedMs?: number;
}

const WORKER = new URL('./worker.ts', import.meta.url);

/** A stampede worker, told to start its callers with `go`. */
class Worker extends SourceWorker<StampedeEvent> {
  constructor(spec: WorkerSpec) {
    super(WORKER, [JSON.stringify(spec)]);
  }

  go(): void {
    this.send('go');
  }

  release(): void {
    this.send('release');
  }
}

/**
 * Runs `round` in `processes` separate processes at the same moment (each reports ready, then all
 * are told to go) and adds up how often their factories ran: with a lock that holds across
 * processes, once. `values` are the distinct values the callers got; `slowestMs` the longest a
 * process took from `go` to its last answer.
 */
export async function stampedeAcrossProcesses(cache: CacheSpec, round: StampedeRound, processes: number): Promise<{ runs: number; values: string[]; slowestMs: number }> {
  const workers = Array.from({ length: processes }, () => new Worker({ cache, round }));
  try {
    await Promise.all(workers.map((worker) => worker.next('ready')));
    for (const worker of workers) worker.go();
    if (round.computeTogether) {
      // A process that never computes (it found the value) ends or stays silent: release anyway.
      await Promise.all(workers.map((worker) => worker.next('computing', COMPUTE_TOGETHER_LIMIT_MS).catch(() => undefined)));
      for (const worker of workers) worker.release();
    }
    const results = await Promise.all(workers.map((worker) => worker.next('done')));
    return {
      runs: results.reduce((sum, result) => sum + result.runs!, 0),
      values: [...new Set(results.flatMap((result) => result.values!))],
      slowestMs: Math.max(...results.map((result) => result.elapsedMs!)),
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
  }
}

/** A process that takes the round's lock and hangs in its factory; resolves once it computes, to be killed. */
export async function startHangingLockHolder(cache: CacheSpec, round: StampedeRound): Promise<{ kill(): Promise<void> }> {
  const worker = new Worker({ cache, round: { ...round, callers: 1 }, hang: true });
  try {
    await worker.next('ready');
    worker.go();
    await worker.next('computing');
  } catch (error) {
    await worker.kill();
    throw error;
  }
  return { kill: () => worker.kill() };
}
