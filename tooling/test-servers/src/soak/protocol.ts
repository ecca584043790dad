// What the soak driver (soak.ts) and its worker processes (soak-worker.ts) say to each other.
// Driver → worker, one word a line on stdin: `go`, `calm` (every server is back: from now on no
// operation may fail), `finish`. Worker → driver: one SoakEvent a line on stdout.
import type { CacheSpec } from '../stampede/workers.js';

export interface SoakWorkerSpec {
  cache: CacheSpec;
  /** This process's name in the values it writes (no `#`). */
  writer: string;
  seed: number;
  /** Operations in flight at once (each loop runs one at a time). */
  loops: number;
  /** Pause after each operation of a loop, so that 30 processes share two cores. */
  pauseMs: number;
  /** An operation not settled by then is a hang. */
  deadlineMs: number;
  /** After this long the worker measures the heap it should come back to. */
  warmupMs: number;
  /** After warm-up, the heap is sampled this often (with gc, operations stopped). */
  sampleEveryMs: number;
}

export interface WorkerReport {
  writer: string;
  ops: number;
  /** Failed operations by error class (Cachette's own, typed errors), whole run. */
  errors: Record<string, number>;
  /** The same, counted only after `calm`. */
  calmErrors: Record<string, number>;
  /** Failures that were not a Cachette error, and other events that must not happen: samples. */
  problems: string[];
  untypedErrors: number;
  wrongValues: number;
  hangs: number;
  unhandledRejections: number;
  uncaughtExceptions: number;
  listenerWarnings: number;
  /** The heap after gc without compiled code and bytecode (see `codeWarm`), at warm-up, at the end, sampled between. */
  heapWarm: number;
  heapEnd: number;
  heapSamples: number[];
  /** Compiled code and bytecode: V8 keeps optimizing for minutes, which is no leak of the cache's. */
  codeWarm: number;
  codeEnd: number;
  /** Resources (sockets, timers, …) and process listeners beyond those before the cache was made. */
  leakedHandles: Record<string, number>;
  leakedListeners: Record<string, number>;
  /** The highest counter read from each writer, to check against what each had reserved. */
  highestRead: Record<string, number>;
}

export type SoakEvent =
  | { event: 'ready' }
  /** Counters up to `upTo` may be written from now on (said before they are). */
  | { event: 'reserve'; upTo: number }
  | { event: 'warm'; heap: number }
  | { event: 'report'; report: WorkerReport };
