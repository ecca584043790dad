import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

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
  /** How long the factory takes. Default 100 ms. */
  factoryDelayMs?: number;
}

export interface WorkerSpec {
  cache: CacheSpec;
  round: StampedeRound;
  /** The factory never returns (a lock holder to be killed). */
  hang?: boolean;
}

interface WorkerEvent {
  event: 'ready' | 'computing' | 'done';
  runs?: number;
  values?: string[];
  elapsedMs?: number;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const WORKER_TSCONFIG = fileURLToPath(new URL('./tsconfig.worker.json', import.meta.url));
const TEST_SERVERS_DIRECTORY = fileURLToPath(new URL('../..', import.meta.url));

/** A running worker and the events it has said so far. */
class Worker {
  readonly process: ChildProcess;
  private readonly events: WorkerEvent[] = [];
  private readonly waiting: Array<() => void> = [];
  private stderr = '';

  constructor(spec: WorkerSpec) {
    this.process = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(spec)], {
      cwd: TEST_SERVERS_DIRECTORY,
      env: { ...process.env, TSX_TSCONFIG_PATH: WORKER_TSCONFIG },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.process.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        this.events.push(JSON.parse(buffered.slice(0, newline)) as WorkerEvent);
        buffered = buffered.slice(newline + 1);
        for (const wake of this.waiting.splice(0)) wake();
      }
    });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.on('exit', () => {
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  /** The first event named `name`, once said; rejects when the worker ends without it or `limitMs` passes. */
  async next(name: WorkerEvent['event'], limitMs = 60_000): Promise<WorkerEvent> {
    const giveUpAt = Date.now() + limitMs;
    for (;;) {
      const found = this.events.find((event) => event.event === name);
      if (found) return found;
      if (this.process.exitCode !== null || this.process.signalCode !== null || Date.now() > giveUpAt) {
        throw new Error(`stampede worker ${this.process.pid} ended or stalled before '${name}':\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  go(): void {
    this.process.stdin!.write('go\n');
  }

  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
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
