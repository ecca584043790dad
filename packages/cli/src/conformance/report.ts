import { inspect } from 'node:util';
import type { TestResult } from './runner';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

export function tally(results: readonly TestResult[]): Tally {
  const counts: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}

function describeTally({ passed, failed, skipped }: Tally): string {
  return [`${passed} passed`, failed > 0 ? `${failed} failed` : '', skipped > 0 ? `${skipped} skipped` : ''].filter(Boolean).join(', ');
}

/** The message, and the first frames that are not Node's own, indented under the test's name. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return inspect(error, { depth: 4 });
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && !line.includes('node:internal'))
    .slice(0, 4)
    .map((line) => line.trim());
  return [`${error.name}: ${error.message}`, ...frames].join('\n');
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** Per topic (the outermost describe) a line with its counts, then each failure and each skip with its reason. */
export function formatReport(results: readonly TestResult[], elapsedMs: number): string {
  const topics = new Map<string, TestResult[]>();
  for (const result of results) {
    const topic = result.path[0] ?? '';
    topics.set(topic, [...(topics.get(topic) ?? []), result]);
  }
  const width = Math.max(0, ...[...topics.keys()].map((topic) => topic.length));
  const lines = [...topics].map(([topic, topicResults]) => {
    const counts = tally(topicResults);
    const mark = counts.failed > 0 ? '✗' : counts.passed > 0 ? '✓' : '○';
    return `  ${mark} ${topic.padEnd(width)}  ${describeTally(counts)}`;
  });
  const failures = results.filter((result) => result.status === 'failed');
  if (failures.length > 0) {
    lines.push('', 'Failures:');
    failures.forEach((result, index) => lines.push(`  ${index + 1}) ${result.path.join(' › ')}`, indent(describeError(result.error), '     ')));
  }
  const skips = results.filter((result) => result.status === 'skipped');
  if (skips.length > 0) {
    lines.push('', 'Skipped, for capabilities the backend does not declare:');
    for (const result of skips) lines.push(`  ○ ${result.path.join(' › ')}`);
  }
  lines.push('', `${describeTally(tally(results))} in ${(elapsedMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
