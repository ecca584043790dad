// Adds up the workers' reports of one backend and checks them; renders the markdown table.
import type { WorkerReport } from './protocol.js';

/** How far the heap may grow from after warm-up to the end (after gc) before it is a leak. */
export const HEAP_GROWTH_LIMIT = 0.1;

export interface BackendOutcome {
  name: string;
  /** Why it did not run at all. */
  skipped?: string;
  seconds: number;
  disturbances: string[];
  reports: WorkerReport[];
  /** Counters read that no writer had reserved: values never written. */
  unreservedReads: number;
  /** Problems the driver saw itself (a worker that died or never reported, a restart that failed). */
  driverProblems: string[];
}

export interface BackendSummary {
  name: string;
  ops: number;
  opsPerSecond: number;
  disturbances: number;
  errors: Record<string, number>;
  calmErrors: number;
  wrongValues: number;
  hangs: number;
  unhandledRejections: number;
  leaks: string[];
  /** The largest growth among the workers, in percent, of the heap without compiled code. */
  heapGrowth: number;
  /** The largest growth of compiled code and bytecode among the workers, in MB (not checked). */
  codeGrowthMb: number;
  failures: string[];
  problems: string[];
  /** Per worker, the heap (MB, after gc) at warm-up, at each sample and at the end. */
  heapTrends: string[];
}

const sum = (reports: WorkerReport[], count: (report: WorkerReport) => number): number => reports.reduce((total, report) => total + count(report), 0);

function addCounts(reports: WorkerReport[], counts: (report: WorkerReport) => Record<string, number>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const report of reports) for (const [name, count] of Object.entries(counts(report))) total[name] = (total[name] ?? 0) + count;
  return total;
}

const growth = (report: WorkerReport): number => (report.heapEnd - report.heapWarm) / report.heapWarm;

const heapTrend = (report: WorkerReport): string =>
  `${report.writer}: ${[report.heapWarm, ...report.heapSamples, report.heapEnd].map((bytes) => (bytes / 2 ** 20).toFixed(1)).join(' → ')} MB`;

function leaksOf(report: WorkerReport): string[] {
  const listed = (counts: Record<string, number>, what: string) => Object.entries(counts).map(([name, count]) => `${report.writer}: ${count} ${what} ${name}`);
  return [...listed(report.leakedHandles, 'resource'), ...listed(report.leakedListeners, 'process listener')];
}

/** Each check that failed, in words (an empty list is a pass). */
function failuresOf(outcome: BackendOutcome, summary: Omit<BackendSummary, 'failures'>): string[] {
  const { reports } = outcome;
  const checks: Array<[failed: boolean, text: string]> = [
    [reports.length === 0, 'no worker reported'],
    [summary.wrongValues > 0, `${summary.wrongValues} wrong values read`],
    [summary.hangs > 0, `${summary.hangs} operations hung`],
    [summary.unhandledRejections > 0, `${summary.unhandledRejections} unhandled rejections`],
    [sum(reports, (report) => report.uncaughtExceptions) > 0, 'uncaught exceptions'],
    [sum(reports, (report) => report.untypedErrors) > 0, `${sum(reports, (report) => report.untypedErrors)} failures that were not Cachette errors`],
    [sum(reports, (report) => report.listenerWarnings) > 0, 'MaxListenersExceededWarning'],
    [summary.calmErrors > 0, `${summary.calmErrors} operations failed after every server was back`],
    [summary.leaks.length > 0, `left behind after close(): ${summary.leaks.join('; ')}`],
    [summary.heapGrowth > HEAP_GROWTH_LIMIT * 100, `heap grew ${summary.heapGrowth.toFixed(1)} % after warm-up`],
    [outcome.driverProblems.length > 0, outcome.driverProblems.join('; ')],
  ];
  return checks.filter(([failed]) => failed).map(([, text]) => text);
}

export function summarize(outcome: BackendOutcome): BackendSummary {
  const { reports } = outcome;
  const ops = sum(reports, (report) => report.ops);
  const summary = {
    name: outcome.name,
    ops,
    opsPerSecond: outcome.seconds > 0 ? ops / outcome.seconds : 0,
    disturbances: outcome.disturbances.length,
    errors: addCounts(reports, (report) => report.errors),
    calmErrors: sum(reports, (report) => Object.values(report.calmErrors).reduce((total, count) => total + count, 0)),
    wrongValues: sum(reports, (report) => report.wrongValues) + outcome.unreservedReads,
    hangs: sum(reports, (report) => report.hangs),
    unhandledRejections: sum(reports, (report) => report.unhandledRejections),
    leaks: reports.flatMap(leaksOf),
    heapGrowth: reports.length ? Math.max(...reports.map(growth)) * 100 : 0,
    codeGrowthMb: reports.length ? Math.max(...reports.map((report) => report.codeEnd - report.codeWarm)) / 2 ** 20 : 0,
    problems: reports.flatMap((report) => report.problems.map((problem) => `${report.writer}: ${problem}`)),
    heapTrends: reports.map(heapTrend),
  };
  return { ...summary, failures: outcome.skipped ? [] : failuresOf(outcome, summary) };
}

const formatErrors = (errors: Record<string, number>): string =>
  Object.entries(errors)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ') || '0';

const signed = (percent: number): string => `${percent >= 0 ? '+' : ''}${percent.toFixed(1)} %`;

function row(summary: BackendSummary, outcome: BackendOutcome): string[] {
  if (outcome.skipped) return [summary.name, ...Array<string>(HEADER.length - 2).fill('–'), `skipped: ${outcome.skipped}`];
  return [
    summary.name,
    String(summary.ops),
    summary.opsPerSecond.toFixed(0),
    String(summary.disturbances),
    formatErrors(summary.errors),
    String(summary.calmErrors),
    String(summary.wrongValues),
    String(summary.hangs),
    String(summary.unhandledRejections),
    String(summary.leaks.length),
    `${signed(summary.heapGrowth)} (code ${summary.codeGrowthMb >= 0 ? '+' : ''}${summary.codeGrowthMb.toFixed(1)} MB)`,
    summary.failures.length ? '**FAIL**' : 'pass',
  ];
}

const HEADER = ['backend', 'ops', 'ops/s', 'disturbances', 'failed ops by error (outages)', 'failed after recovery', 'wrong values', 'hangs', 'unhandled rejections', 'leaked handles/listeners', 'heap end vs warm-up, worst worker (compiled code apart)', 'verdict'];

export function markdownTable(outcomes: BackendOutcome[]): string {
  const lines = [HEADER, HEADER.map(() => '---'), ...outcomes.map((outcome) => row(summarize(outcome), outcome))];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
