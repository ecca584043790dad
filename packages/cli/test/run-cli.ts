import { runCli, type CliOptions } from '../src/index';

export interface CliRun {
  code: number;
  out: string[];
  error: string[];
  progress: string[];
}

/** Runs a command line in this process and captures what it writes. */
export async function run(argv: string[], options: CliOptions & { progress?: boolean } = {}): Promise<CliRun> {
  const captured: CliRun = { code: -1, out: [], error: [], progress: [] };
  const output = {
    out: (line: string) => captured.out.push(line),
    error: (line: string) => captured.error.push(line),
    ...(options.progress && { progress: (line: string) => captured.progress.push(line) }),
  };
  captured.code = await runCli(argv, output, options);
  return captured;
}

/** The single JSON line a `--json` command printed. */
export function jsonOf(result: CliRun): Record<string, unknown> {
  if (result.out.length !== 1) throw new Error(`expected one line of JSON; got ${JSON.stringify(result)}`);
  return JSON.parse(result.out[0]!) as Record<string, unknown>;
}
