import { cpus, loadavg } from 'node:os';
import type { CaseResult } from './harness';

function formatRate(opsPerSecond: number): string {
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)} M`;
  if (opsPerSecond >= 1e3) return `${(opsPerSecond / 1e3).toFixed(1)} k`;
  return opsPerSecond.toFixed(0);
}

/** The spread of the rounds around the median, as ± half the interquartile range in percent. */
function spreadPercent(rounds: readonly number[], median: number): string {
  const sorted = [...rounds].sort((a, b) => a - b);
  const quartile = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
  return `±${(((quartile(0.75) - quartile(0.25)) / 2 / median) * 100).toFixed(1)}%`;
}

function targetLine(result: CaseResult): string | undefined {
  if (!result.target) return undefined;
  const { candidate, minRatio, met } = result.target;
  return `  target: ${candidate} ≥ ${minRatio.toFixed(2)}× ${result.baseline}: ${met ? 'met' : 'NOT MET'}`;
}

/** A metric's median: three significant digits at most, no exponent. */
function formatMetric(value: number | undefined): string {
  if (value === undefined) return '';
  const magnitude = Math.abs(value);
  return value.toFixed(magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2);
}

/**
 * A plain-text table per case: candidate, median ops/s, spread, ratio against the baseline, then
 * one column per metric that measured candidates reported (their medians).
 */
export function formatTable(results: readonly CaseResult[]): string {
  const metricNames = [...new Set(results.flatMap((result) => result.results.flatMap((entry) => Object.keys(entry.metrics ?? {}))))];
  const header = ['case', 'candidate', 'median ops/s', 'spread', 'vs baseline', ...metricNames];
  const rows: string[][] = [];
  const notes = new Map<number, string>();
  for (const result of results) {
    result.results.forEach((entry, index) => {
      const isBaseline = entry.candidate === result.baseline;
      rows.push([
        index === 0 ? result.name : '',
        entry.candidate,
        formatRate(entry.medianOpsPerSecond),
        spreadPercent(entry.roundOpsPerSecond, entry.medianOpsPerSecond),
        isBaseline ? '(baseline)' : Number.isNaN(entry.ratio) ? '-' : `${entry.ratio.toFixed(2)}×`,
        ...metricNames.map((name) => formatMetric(entry.metrics?.[name])),
      ]);
    });
    const line = targetLine(result);
    if (line) notes.set(rows.length, line);
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: readonly string[]) => row.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ');
  const lines = [format(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  rows.forEach((row, index) => {
    lines.push(format(row));
    const note = notes.get(index + 1);
    if (note) lines.push(note);
  });
  return lines.join('\n');
}

/** The machine, the runtime and the load now, on one line, printed above the table. */
export function environmentLine(): string {
  const { node, v8, platform, cpu, cores } = environment();
  const load = loadavg().map((value) => value.toFixed(2)).join(' ');
  return `Node ${node}, V8 ${v8}, ${platform}, ${cores} × ${cpu}, load average ${load}`;
}

/** The machine and runtime, recorded with every JSON result so numbers can be compared fairly. */
export function environment(): Record<string, string | number> {
  const cpu = cpus()[0];
  return { node: process.version, v8: process.versions.v8, platform: `${process.platform}-${process.arch}`, cpu: cpu?.model ?? 'unknown', cores: cpus().length };
}
