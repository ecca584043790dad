import { performance } from 'node:perf_hooks';

/** One contender in a case: a single operation, called with a running iteration number. */
export interface Candidate {
  readonly name: string;
  /**
   * One operation. When it returns a Promise (checked on the first call), every call is awaited
   * before the next one starts; otherwise calls run back to back, synchronously.
   */
  readonly run: (iteration: number) => unknown;
}

/** What a candidate that times itself reports for one round. */
export interface Measurement {
  readonly opsPerSecond: number;
  /** Other numbers of the round (`'p99 ms'`: 1.8), reported as their median over the rounds. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/**
 * A contender that does its own timing: a load generator against a server in another process,
 * where the harness cannot call one operation at a time. `measure` runs for about `durationMs`
 * and reports the round; it is called once with `--warmup-ms` (the result is dropped), then once
 * per round, taking turns with the case's other candidates as `run` candidates do.
 */
export interface MeasuredCandidate {
  readonly name: string;
  readonly measure: (durationMs: number) => Promise<Measurement>;
}

/** Candidates doing the same work, measured side by side and compared with `baseline`. */
export interface BenchCase {
  readonly name: string;
  /** The candidate every ratio is computed against. */
  readonly baseline: string;
  readonly candidates: ReadonlyArray<Candidate | MeasuredCandidate>;
  /** Operations in flight at once for awaited `run` candidates (network round trips); default 1. */
  readonly concurrency?: number;
  /** A goal to report: `candidate` should reach at least `minRatio` × the baseline. */
  readonly target?: { readonly candidate: string; readonly minRatio: number };
}

/** What a suite's `setup` hands the runner: the cases, and how to release what they use. */
export interface PreparedSuite {
  readonly cases: readonly BenchCase[];
  readonly teardown?: () => Promise<void> | void;
}

/**
 * A file in `src/suites/<name>.ts` exports one of these as its default export. `setup` starts
 * whatever the cases need (servers from `@cachette/test-servers`, clients, filled caches);
 * returning `{ skipped: reason }` prints the reason instead of running.
 */
export interface BenchSuite {
  readonly description: string;
  /** This suite's defaults for the options not given on the command line (a load-generator suite needs seconds per round). */
  readonly defaults?: Partial<RunOptions>;
  setup(): Promise<PreparedSuite | { readonly skipped: string }>;
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

export interface RunOptions {
  /** Timed rounds per candidate. */
  readonly rounds: number;
  /** The target duration of one round, in milliseconds. */
  readonly roundMs: number;
  /** Warm-up time per candidate before the first timed round, in milliseconds. */
  readonly warmupMs: number;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = { rounds: 10, roundMs: 100, warmupMs: 500 };

export interface CandidateResult {
  readonly candidate: string;
  /** Operations per second, one entry per round, in the order measured. */
  readonly roundOpsPerSecond: readonly number[];
  readonly medianOpsPerSecond: number;
  /** The median of this candidate divided by the baseline's median. */
  readonly ratio: number;
  /** A measured candidate's other numbers: each one's median over the rounds, and every round's. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly roundMetrics?: ReadonlyArray<Readonly<Record<string, number>>>;
}

export interface CaseResult {
  readonly name: string;
  readonly baseline: string;
  readonly results: readonly CandidateResult[];
  readonly target?: { readonly candidate: string; readonly minRatio: number; readonly met: boolean };
}

type Batch = (operations: number) => unknown;

// Each candidate gets its own freshly compiled loop, so the call site inside the loop sees one
// operation function only: a loop shared by all candidates would turn megamorphic and slow them
// all down by an amount that depends on the order they ran in.
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as FunctionConstructor;
const SYNC_LOOP = 'let result; for (let i = 0; i < n; i++) result = run(start + i); return result;';
const AWAITED_LOOP = 'let result; for (let i = 0; i < n; i++) result = await run(start + i); return result;';

function compileBatch(candidate: Candidate, awaited: boolean, concurrency: number): Batch {
  let iteration = 0;
  const loop = awaited
    ? (new AsyncFunction('run', 'start', 'n', AWAITED_LOOP) as (run: Candidate['run'], start: number, n: number) => Promise<unknown>)
    : (new Function('run', 'start', 'n', SYNC_LOOP) as (run: Candidate['run'], start: number, n: number) => unknown);
  if (!awaited || concurrency === 1) {
    return (operations) => {
      const start = iteration;
      iteration += operations;
      return loop(candidate.run, start, operations);
    };
  }
  return (operations) => {
    const perWorker = operations / concurrency;
    const workers: unknown[] = [];
    for (let worker = 0; worker < concurrency; worker++) {
      workers.push(loop(candidate.run, iteration, perWorker));
      iteration += perWorker;
    }
    return Promise.all(workers);
  };
}

/** Times one batch; returns its duration in milliseconds. */
async function timeBatch(batch: Batch, operations: number): Promise<number> {
  const started = performance.now();
  const pending = batch(operations);
  if (pending instanceof Promise) await pending;
  return performance.now() - started;
}

interface Contender {
  readonly candidate: Candidate | MeasuredCandidate;
  /** Runs one round; returns its operations per second (and a measured candidate's metrics). */
  readonly round: () => Promise<Measurement>;
  readonly rounds: number[];
  readonly roundMetrics: Array<Readonly<Record<string, number>>>;
}

function isMeasured(candidate: Candidate | MeasuredCandidate): candidate is MeasuredCandidate {
  return typeof (candidate as Partial<MeasuredCandidate>).measure === 'function';
}

async function prepareMeasured(candidate: MeasuredCandidate, options: RunOptions): Promise<Contender> {
  await candidate.measure(options.warmupMs);
  return { candidate, round: () => candidate.measure(options.roundMs), rounds: [], roundMetrics: [] };
}

async function prepare(candidate: Candidate | MeasuredCandidate, concurrency: number, options: RunOptions): Promise<Contender> {
  if (isMeasured(candidate)) return prepareMeasured(candidate, options);
  const first = candidate.run(0);
  const awaited = first instanceof Promise;
  if (awaited) await first;
  const batch = compileBatch(candidate, awaited, concurrency);
  let operations = 16 * concurrency;
  const warmupEnds = performance.now() + options.warmupMs;
  do {
    const elapsed = await timeBatch(batch, operations);
    // Aim each batch at one round's length, growing at most 10× per step to stay careful.
    const wanted = Math.min(operations * 10, (operations * options.roundMs) / Math.max(elapsed, 0.01));
    // Whole batches per worker, so every round runs exactly `operations` operations.
    operations = Math.max(1, Math.ceil(wanted / concurrency)) * concurrency;
  } while (performance.now() < warmupEnds);
  const round = async (): Promise<Measurement> => ({ opsPerSecond: (operations * 1000) / (await timeBatch(batch, operations)) });
  return { candidate, round, rounds: [], roundMetrics: [] };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Warms every candidate up, then measures them in alternating rounds (the starting candidate
 * rotates each round), so drift in the machine's speed (other processes, thermal limits, GC)
 * spreads over all candidates instead of favouring whichever ran first.
 */
export async function runCase(benchCase: BenchCase, options: RunOptions = DEFAULT_RUN_OPTIONS): Promise<CaseResult> {
  const concurrency = benchCase.concurrency ?? 1;
  const contenders: Contender[] = [];
  for (const candidate of benchCase.candidates) contenders.push(await prepare(candidate, concurrency, options));
  for (let round = 0; round < options.rounds; round++) {
    for (let turn = 0; turn < contenders.length; turn++) {
      const contender = contenders[(round + turn) % contenders.length]!;
      const measured = await contender.round();
      contender.rounds.push(measured.opsPerSecond);
      if (measured.metrics) contender.roundMetrics.push(measured.metrics);
    }
  }
  return summarize(benchCase, contenders);
}

/** The median of each metric over the rounds that reported it. */
function medianMetrics(rounds: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> {
  const names = [...new Set(rounds.flatMap((metrics) => Object.keys(metrics)))];
  return Object.fromEntries(names.map((name) => [name, median(rounds.flatMap((metrics) => (name in metrics ? [metrics[name]!] : [])))]));
}

function summarize(benchCase: BenchCase, contenders: readonly Contender[]): CaseResult {
  const medians = new Map(contenders.map((contender) => [contender.candidate.name, median(contender.rounds)]));
  // NaN ratios when the baseline was left out of the run (profiling one candidate alone).
  const baseline = medians.get(benchCase.baseline) ?? Number.NaN;
  const results = contenders.map((contender) => {
    const medianOpsPerSecond = medians.get(contender.candidate.name)!;
    const entry: CandidateResult = { candidate: contender.candidate.name, roundOpsPerSecond: contender.rounds, medianOpsPerSecond, ratio: medianOpsPerSecond / baseline };
    if (contender.roundMetrics.length === 0) return entry;
    return { ...entry, metrics: medianMetrics(contender.roundMetrics), roundMetrics: contender.roundMetrics };
  });
  const result: CaseResult = { name: benchCase.name, baseline: benchCase.baseline, results };
  if (!benchCase.target) return result;
  const { candidate, minRatio } = benchCase.target;
  const reached = results.find((entry) => entry.candidate === candidate)?.ratio ?? 0;
  return { ...result, target: { candidate, minRatio, met: reached >= minRatio } };
}
