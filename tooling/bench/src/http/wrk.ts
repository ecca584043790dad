import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * wrk (https://github.com/wg/wrk, Debian's `wrk` package) as the HTTP load generator: one run
 * against one URL, its text report parsed. wrk takes whole seconds only.
 */

export interface WrkSocketErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
}

export interface WrkLatency {
  readonly p50Ms: number;
  readonly p75Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly bytesRead: number;
  readonly requestsPerSecond: number;
  /** Present when wrk ran with `--latency`. */
  readonly latency?: WrkLatency;
  /** All zero when wrk printed no `Socket errors` line (it prints one only when there are some). */
  readonly socketErrors: WrkSocketErrors;
  /** Responses with a status outside 200-399 (wrk's `Non-2xx or 3xx responses`). */
  readonly badResponses: number;
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
// wrk's format_binary: powers of 1024, with a B after the prefix.
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** A wrk duration (`812.00us`, `1.35ms`, `2.00s`) in milliseconds. */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk duration: '${text}'`);
  return Number(match[1]) * TIME_UNITS[match[2]!]!;
}

/** A wrk size (`64.46MB`, `512.00B`) in bytes. */
export function parseWrkSize(text: string): number {
  const match = /^([\d.]+)([KMGT]?B)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk size: '${text}'`);
  return Number(match[1]) * SIZE_UNITS[match[2]!]!;
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (!match) throw new Error(`wrk's output has no ${what}:\n${output}`);
  return match;
}

/** Reads wrk's text report; throws when a line every report has is missing. */
export function parseWrkOutput(output: string): WrkResult {
  const totals = required(output, /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read\s*$/m, "'… requests in …, … read' line");
  const rate = required(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, "'Requests/sec:' line");
  const errors = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$/m.exec(output);
  const bad = /^\s*Non-2xx or 3xx responses: (\d+)\s*$/m.exec(output);
  const distribution = new Map<string, number>();
  // The lines right after `Latency Distribution`: `     50%    1.35ms`.
  const section = /^\s*Latency Distribution[ \t]*\n((?:[ \t]*\d+%[ \t]+\S+[ \t]*(?:\n|$))+)/m.exec(output)?.[1];
  if (section) for (const [, at, time] of section.matchAll(/(\d+)%[ \t]+(\S+)/g)) distribution.set(at!, parseWrkTime(time!));
  const latency =
    distribution.size === 0
      ? undefined
      : {
          p50Ms: distribution.get('50') ?? Number.NaN,
          p75Ms: distribution.get('75') ?? Number.NaN,
          p90Ms: distribution.get('90') ?? Number.NaN,
          p99Ms: distribution.get('99') ?? Number.NaN,
        };
  return {
    requests: Number(totals[1]),
    seconds: parseWrkTime(totals[2]!) / 1000,
    bytesRead: parseWrkSize(totals[3]!),
    requestsPerSecond: Number(rate[1]),
    ...(latency ? { latency } : {}),
    socketErrors: errors
      ? { connect: Number(errors[1]), read: Number(errors[2]), write: Number(errors[3]), timeout: Number(errors[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    badResponses: bad ? Number(bad[1]) : 0,
  };
}

/** What every response of a run must look like: its size on the wire, headers included, within these bounds. */
export interface WrkExpectation {
  readonly minBytesPerResponse: number;
  readonly maxBytesPerResponse: number;
}

/**
 * Why a run cannot be trusted (empty when it can): socket errors, responses that were not
 * 2xx/3xx, no requests at all, or responses of the wrong size (a 400 page, an empty body).
 */
export function wrkProblems(result: WrkResult, expected: WrkExpectation): string[] {
  const problems: string[] = [];
  if (result.requests === 0) problems.push('no request completed');
  const { connect, read, write, timeout } = result.socketErrors;
  if (connect + read + write + timeout > 0) problems.push(`socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`);
  if (result.badResponses > 0) problems.push(`${result.badResponses} responses were not 2xx or 3xx`);
  if (result.requests > 0) {
    const perResponse = result.bytesRead / result.requests;
    if (perResponse < expected.minBytesPerResponse || perResponse > expected.maxBytesPerResponse) {
      problems.push(
        `${perResponse.toFixed(0)} bytes read per response, expected ${expected.minBytesPerResponse} to ${expected.maxBytesPerResponse}`,
      );
    }
  }
  return problems;
}

export interface WrkRun {
  readonly url: string;
  /** Whole seconds (wrk's `-d`); at least 1. */
  readonly seconds: number;
  readonly connections: number;
  readonly threads: number;
  /** Run wrk with `taskset -c <cpus>` (`'0'`): keeps it off the server's core. */
  readonly cpus?: string;
}

/** The wrk command for a run: the program and its arguments. */
export function wrkCommand(run: WrkRun): [string, string[]] {
  const seconds = Math.max(1, Math.round(run.seconds));
  const args = ['--latency', '-t', String(run.threads), '-c', String(run.connections), '-d', `${seconds}s`, run.url];
  return run.cpus === undefined ? ['wrk', args] : ['taskset', ['-c', run.cpus, 'wrk', ...args]];
}

/** Runs wrk and parses its report; throws with wrk's output when it fails or the run has problems. */
export async function runWrk(run: WrkRun, expected: WrkExpectation): Promise<WrkResult> {
  const [program, args] = wrkCommand(run);
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(program, args, { timeout: (run.seconds + 30) * 1000 }));
  } catch (error) {
    const { stdout: out = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${(error as Error).message}\n${out}${stderr}`);
  }
  const result = parseWrkOutput(stdout);
  const problems = wrkProblems(result, expected);
  if (problems.length > 0) throw new Error(`wrk against ${run.url}: ${problems.join('; ')}\n${stdout}`);
  return result;
}

/** wrk's version (`wrk debian/4.1.0-3+b2`), or `undefined` when wrk is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    // `wrk --version` prints the version and the usage, and exits with status 1.
    const { stdout } = await promisify(execFile)('wrk', ['--version']);
    return /^wrk \S+/.exec(stdout)?.[0] ?? 'wrk';
  } catch (error) {
    const { code, stdout } = error as { code?: unknown; stdout?: string };
    if (code === 'ENOENT') return undefined;
    return /^wrk \S+/.exec(stdout ?? '')?.[0] ?? 'wrk';
  }
}
