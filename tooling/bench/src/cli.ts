import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_RUN_OPTIONS, runCase, type BenchSuite, type CaseResult, type RunOptions } from './harness';
import { environment, environmentLine, formatTable } from './report';

const USAGE = `Usage: pnpm bench <suite> [options]

Options:
  --rounds <n>      timed rounds per candidate (default ${DEFAULT_RUN_OPTIONS.rounds}, or the suite's)
  --round-ms <ms>   length of one round (default ${DEFAULT_RUN_OPTIONS.roundMs}, or the suite's)
  --warmup-ms <ms>  warm-up per candidate (default ${DEFAULT_RUN_OPTIONS.warmupMs}, or the suite's)
  --case <text>     run only the cases whose name contains <text>
  --only <name>     run only the candidate with this name (to profile it alone)
  --json <file>     also write the results as JSON
  --check           exit with status 1 when a case misses its target`;

const suitesDirectory = new URL('./suites/', import.meta.url);

/** A mistake in the command line: reported by its message alone, without a stack. */
class UsageError extends Error {}

function availableSuites(): string[] {
  return readdirSync(suitesDirectory)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -3))
    .sort();
}

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number; got '${text}'`);
  return value;
}

async function loadSuite(name: string): Promise<BenchSuite> {
  if (!availableSuites().includes(name)) {
    throw new UsageError(`No suite '${name}'. Suites: ${availableSuites().join(', ') || 'none'}`);
  }
  const module = (await import(new URL(`${name}.ts`, suitesDirectory).href)) as { default?: BenchSuite };
  if (typeof module.default?.setup !== 'function') throw new UsageError(`src/suites/${name}.ts must export default defineSuite({ ... })`);
  return module.default;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      'round-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      case: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const suiteName = positionals[0];
  if (values.help || !suiteName) {
    console.log(`${USAGE}\n\nSuites: ${availableSuites().join(', ')}`);
    return;
  }
  const suite = await loadSuite(suiteName);
  const defaults: RunOptions = { ...DEFAULT_RUN_OPTIONS, ...suite.defaults };
  const options: RunOptions = {
    rounds: Math.round(positiveNumber('rounds', values.rounds, defaults.rounds)),
    roundMs: positiveNumber('round-ms', values['round-ms'], defaults.roundMs),
    warmupMs: positiveNumber('warmup-ms', values['warmup-ms'], defaults.warmupMs),
  };
  console.log(`${suiteName}: ${suite.description}`);
  const prepared = await suite.setup();
  if ('skipped' in prepared) {
    console.log(`skipped: ${prepared.skipped}`);
    return;
  }
  const results: CaseResult[] = [];
  try {
    for (const benchCase of prepared.cases) {
      if (values.case !== undefined && !benchCase.name.includes(values.case)) continue;
      const candidates = benchCase.candidates.filter((candidate) => values.only === undefined || candidate.name === values.only);
      if (candidates.length === 0) continue;
      process.stderr.write(`running ${benchCase.name}…\n`);
      results.push(await runCase({ ...benchCase, candidates }, options));
    }
  } finally {
    await prepared.teardown?.();
  }
  const rounds = `${options.rounds} rounds of ${options.roundMs} ms per candidate after ${options.warmupMs} ms of warm-up`;
  console.log(`\n${environmentLine()}\n${rounds}\n${formatTable(results)}`);
  if (values.json) {
    const report = { suite: suiteName, date: new Date().toISOString(), environment: environment(), options, cases: results };
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${values.json}`);
  }
  if (values.check && results.some((result) => result.target && !result.target.met)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  const isUsage = error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
  console.error(isUsage ? `${(error as Error).message}\n\n${USAGE}` : error);
  process.exitCode = 1;
});
