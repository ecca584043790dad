// `pnpm soak [--minutes 10] [--workers 3] [--backends redis,file]`: every backend at once, each
// with several worker processes running mixed operations, while its servers are killed and
// restarted (or, for the file and SQLite backends, its worker processes are killed and replaced).
// At the end every worker closes its cache and reports; this prints a markdown table and exits
// non-zero when any check failed. See README.md, "Soak".
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../seeded-random.js';
import { SourceWorker } from '../source-worker.js';
import { BACKENDS, killAndRestart, type SoakBackend, type StartedBackend } from './backends.js';
import type { SoakEvent, SoakWorkerSpec, WorkerReport } from './protocol.js';
import { markdownTable, summarize, type BackendOutcome } from './summary.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    workers: { type: 'string', default: '3' },
    backends: { type: 'string' },
  },
});

const RUN_MS = Number(args.minutes) * 60_000;
const WORKERS = Number(args.workers);
if (!(RUN_MS > 0) || !(WORKERS >= 1)) throw new Error(`--minutes and --workers take positive numbers, not ${args.minutes} and ${args.workers}`);
/** The heap each worker must come back to is measured this long after it starts. */
const WARMUP_MS = Math.max(15_000, RUN_MS * 0.1);
/** The last part of the run, with every server up again: no operation may fail in it. */
const CALM_MS = Math.max(20_000, RUN_MS * 0.15);
/** Time for clients to notice a server is back (reconnect back-off, memcached's retryTimeout). */
const RECOVERY_MS = 10_000;
const DISTURBANCES = Math.max(2, Math.round(RUN_MS / 120_000));
const started = Date.now();
const random = seededRandom(Number(process.env.SOAK_SEED ?? 16));

function log(backend: string, text: string): void {
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log(`[${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${backend}: ${text}`);
}

const untilRunTime = (ms: number): Promise<void> => sleep(Math.max(0, started + ms - Date.now()));

type SoakWorker = SourceWorker<SoakEvent> & { writer: string };

/** One backend's run: its workers, the highest counter each writer reserved, what went wrong. */
class BackendRun {
  private readonly workers: SoakWorker[] = [];
  private readonly reserved = new Map<string, number>();
  private readonly killed = new Set<SoakWorker>();
  private spawned = 0;
  readonly outcome: BackendOutcome;

  constructor(
    private readonly backend: SoakBackend,
    private readonly setup: StartedBackend,
  ) {
    this.outcome = { name: backend.name, seconds: 0, disturbances: [], reports: [], unreservedReads: 0, driverProblems: [] };
  }

  /** A new worker, ready and going; its writer name is new too, so its values are told apart. */
  async spawnWorker(): Promise<void> {
    const index = this.spawned++;
    const spec: SoakWorkerSpec = {
      cache: this.setup.spec,
      writer: `${this.backend.name.replace(/\W+/g, '-')}-w${index}`,
      seed: Math.floor(random() * 2 ** 32),
      loops: 3,
      pauseMs: 10,
      deadlineMs: 30_000,
      warmupMs: WARMUP_MS,
      sampleEveryMs: Math.max(15_000, RUN_MS / 10),
    };
    const worker = Object.assign(new SourceWorker<SoakEvent>(new URL('./soak-worker.ts', import.meta.url), [JSON.stringify(spec)], ['--expose-gc']), { writer: spec.writer });
    worker.onEvent((event) => {
      if (event.event === 'reserve') this.reserved.set(spec.writer, event.upTo);
    });
    this.workers.push(worker);
    // Thirty processes compiling under tsx on two cores take a while to be ready.
    await worker.next('ready', 180_000);
    worker.send('go');
  }

  async disturb(round: number): Promise<void> {
    const { disturbance } = this.setup;
    if (disturbance.kind === 'none') return;
    const what = disturbance.kind === 'servers' ? await killAndRestart(disturbance, round, 1000 + random() * 4000) : await this.replaceWorker();
    this.outcome.disturbances.push(what);
    log(this.backend.name, what);
  }

  /** Kills the longest-running worker (one that has written most) and starts another. */
  private async replaceWorker(): Promise<string> {
    const victim = this.workers.find((worker) => !worker.exited)!;
    this.killed.add(victim);
    await victim.kill();
    await this.spawnWorker();
    return `SIGKILLed worker ${victim.writer}, started a replacement`;
  }

  /** Every live worker: from now on nothing may fail. */
  calm(): void {
    for (const worker of this.workers) worker.send('calm');
  }

  /** Tells the live workers to finish, collects their reports and checks what they read. */
  async finish(): Promise<void> {
    for (const worker of this.workers.filter((worker) => worker.exited && !this.killed.has(worker))) {
      this.outcome.driverProblems.push(`${worker.writer} died by itself: ${worker.stderrTail.slice(-500)}`);
    }
    const live = this.workers.filter((worker) => !worker.exited);
    for (const worker of live) worker.send('finish');
    const reports = await Promise.all(live.map((worker) => this.reportOf(worker)));
    this.outcome.reports = reports.filter((report): report is WorkerReport => report !== undefined);
    this.outcome.unreservedReads = this.outcome.reports.reduce((total, report) => total + this.unreservedReads(report), 0);
  }

  private async reportOf(worker: SoakWorker): Promise<WorkerReport | undefined> {
    try {
      return ((await worker.next('report', 120_000)) as Extract<SoakEvent, { event: 'report' }>).report;
    } catch (error) {
      this.outcome.driverProblems.push(`${worker.writer} did not report: ${String(error).slice(0, 500)}`);
      await worker.kill();
      return undefined;
    }
  }

  /** Reads of a counter beyond what its writer had announced: values nobody wrote. */
  private unreservedReads(report: WorkerReport): number {
    let wrong = 0;
    for (const [writer, counter] of Object.entries(report.highestRead)) {
      if (counter > (this.reserved.get(writer) ?? 0)) {
        wrong++;
        this.outcome.driverProblems.push(`${report.writer} read counter ${counter} of ${writer}, which had reserved only ${this.reserved.get(writer) ?? 0}`);
      }
    }
    return wrong;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
  }
}

/** When the disturbances happen: spread over the run between warm-up and the calm end. */
function disturbanceTimes(): number[] {
  const from = WARMUP_MS + 5_000;
  const to = RUN_MS - CALM_MS - RECOVERY_MS - 10_000;
  const step = Math.max(0, to - from) / DISTURBANCES;
  return Array.from({ length: DISTURBANCES }, (_, index) => from + step * (index + random() * 0.5));
}

async function disturbOnSchedule(run: BackendRun, name: string): Promise<void> {
  for (const [round, at] of disturbanceTimes().entries()) {
    await untilRunTime(at);
    try {
      await run.disturb(round);
    } catch (error) {
      run.outcome.driverProblems.push(`disturbance ${round} failed: ${String(error).slice(0, 500)}`);
      log(name, `disturbance failed: ${String(error)}`);
    }
  }
}

async function soakBackend(backend: SoakBackend): Promise<BackendOutcome> {
  let started: StartedBackend;
  try {
    started = await backend.start();
  } catch (error) {
    log(backend.name, `could not start: ${String(error)}`);
    return { name: backend.name, skipped: String(error).split('\n')[0]!, seconds: 0, disturbances: [], reports: [], unreservedReads: 0, driverProblems: [] };
  }
  const run = new BackendRun(backend, started);
  const begun = Date.now();
  try {
    await Promise.all(Array.from({ length: WORKERS }, () => run.spawnWorker()));
    log(backend.name, `${WORKERS} workers going`);
    await disturbOnSchedule(run, backend.name);
    await sleep(RECOVERY_MS);
    await untilRunTime(RUN_MS - CALM_MS);
    run.calm();
    await untilRunTime(RUN_MS);
    await run.finish();
  } catch (error) {
    run.outcome.driverProblems.push(String(error).slice(0, 1000));
  } finally {
    await run.killAll();
    await started.stop();
  }
  run.outcome.seconds = (Date.now() - begun) / 1000;
  log(backend.name, summarize(run.outcome).failures.length ? 'FAIL' : 'pass');
  return run.outcome;
}

function selectedBackends(): SoakBackend[] {
  if (!args.backends) return BACKENDS;
  const wanted = args.backends.split(',').map((name) => name.trim());
  return BACKENDS.filter((backend) => wanted.some((name) => backend.name === name));
}

const backends = selectedBackends();
console.log(`soak: ${backends.map((backend) => backend.name).join(', ')}; ${args.minutes} min, ${WORKERS} workers each, ${DISTURBANCES} disturbances each`);
const outcomes = await Promise.all(backends.map(soakBackend));
console.log(`\n${markdownTable(outcomes)}\n`);
let failed = false;
for (const outcome of outcomes) {
  const summary = summarize(outcome);
  if (summary.failures.length) failed = true;
  for (const failure of summary.failures) console.log(`${outcome.name}: FAIL: ${failure}`);
  for (const problem of summary.problems) console.log(`${outcome.name}: ${problem}`);
  for (const trend of summary.heapTrends) console.log(`${outcome.name}: heap ${trend}`);
}
process.exit(failed ? 1 : 0);
