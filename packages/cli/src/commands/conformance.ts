import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerConformanceSuite } from '@cachette/cache-conformance';
import { ExitCode, UsageError } from '../cli-error';
import { flagOption, stringListOption, stringOption, type OptionSpec, type OptionValues } from '../command-options';
import { loadTarget } from '../conformance/load-target';
import { describeError, formatReport, tally } from '../conformance/report';
import { ConformanceRunner, type TestResult } from '../conformance/runner';
import type { CommandContext } from '../output';
import { defineCommand } from './command';

const OPTIONS: OptionSpec[] = [
  { name: 'export', config: { type: 'string' }, synopsis: '--export <name>', help: 'the export to test (default: the default export, else the only cache class)' },
  {
    name: 'capability',
    config: { type: 'string', multiple: true },
    synopsis: '--capability <name=value>',
    help: 'declare a capability, over what the module exports as `capabilities` (repeatable)',
  },
  { name: 'only', config: { type: 'string', multiple: true }, synopsis: '--only <text>', help: 'run only the tests whose name contains the text (repeatable)' },
  {
    name: 'location',
    config: { type: 'string' },
    synopsis: '--location <location>',
    help: 'the location a cache class is given (default: a new temporary directory, removed afterwards)',
  },
  { name: 'json', config: { type: 'boolean' }, synopsis: '--json', help: 'print the results as one JSON object' },
];

function jsonResult(result: TestResult): Record<string, unknown> {
  const { path, status, durationMs } = result;
  return { name: path.join(' › '), status, durationMs: Math.round(durationMs), ...(status === 'failed' ? { error: describeError(result.error) } : {}) };
}

async function runSuite(context: CommandContext, specifier: string, values: OptionValues, location: string): Promise<ExitCode> {
  const target = await loadTarget({
    specifier,
    exportName: stringOption(values, 'export'),
    capabilityArguments: stringListOption(values, 'capability'),
    location,
    cwd: context.cwd,
  });
  const json = flagOption(values, 'json');
  const { output } = context;
  if (!json) output.out(`Conformance of ${target.name} (${specifier})`);
  const runner = new ConformanceRunner();
  registerConformanceSuite(runner.api, target);
  const started = performance.now();
  const results = await runner.run({
    only: stringListOption(values, 'only'),
    onTestStart: (path, done, total) => output.progress?.(`[${done + 1}/${total}] ${path.join(' › ')}`),
  });
  output.progress?.('');
  const counts = tally(results);
  if (results.length === 0) throw new UsageError(`No test matches --only ${stringListOption(values, 'only').join(', ')}`);
  if (json) output.out(JSON.stringify({ target: target.name, capabilities: target.capabilities, ...counts, results: results.map(jsonResult) }));
  else output.out(formatReport(results, performance.now() - started));
  return counts.failed > 0 ? ExitCode.failure : ExitCode.ok;
}

export const conformanceCommand = defineCommand({
  name: 'conformance',
  summary: 'run the conformance suite against your own backend',
  usage: 'cachette conformance <module> [options]',
  description: `Runs the conformance suite every Cachette backend passes against yours, with no test file.
<module> is a path or package exporting a BaseCache subclass, a factory (params) => cache, or a
{ name, createCache, capabilities } target. Exits with 1 when a test fails.`,
  options: OPTIONS,
  async run({ positionals, values }, context) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Name the module to test' : `Unexpected argument: ${positionals.slice(1).join(' ')}`);
    const given = stringOption(values, 'location');
    const location = given ?? (await mkdtemp(join(tmpdir(), 'cachette-conformance-')));
    try {
      return await runSuite(context, positionals[0]!, values, location);
    } finally {
      if (given === undefined) await rm(location, { recursive: true, force: true });
    }
  },
});
