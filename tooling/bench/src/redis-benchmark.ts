import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MeasuredCandidate } from './harness';

const run = promisify(execFile);

/** Where redis-benchmark's keys live: `key:__rand_int__` over this many keys, filled by `fillRedisBenchmarkKeys`. */
const KEYSPACE = 1024;

interface Server {
  host: string;
  port: number;
}

/** Requests per second of each test in one redis-benchmark run (`--csv`: `"GET","123456.78",…`). */
async function redisBenchmark(server: Server, args: readonly string[]): Promise<Map<string, number>> {
  const { stdout } = await run('redis-benchmark', ['-h', server.host, '-p', String(server.port), '-r', String(KEYSPACE), '--csv', ...args], { timeout: 60_000 });
  const rates = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = /^"([^"]+)","([\d.]+)"/.exec(line);
    if (match) rates.set(match[1]!, Number(match[2]));
  }
  if (rates.size === 0) throw new Error(`redis-benchmark printed no rate: ${stdout.slice(0, 200)}`);
  return rates;
}

/** Writes every key redis-benchmark's GETs will read, with values of `size` bytes. */
export async function fillRedisBenchmarkKeys(server: Server, size: number): Promise<void> {
  await redisBenchmark(server, ['-t', 'set', '-n', String(KEYSPACE * 20), '-d', String(size), '-c', '1', '-P', '64']);
}

/**
 * redis-benchmark (the C load generator shipped with Redis) as a candidate: `args` choose the
 * tests and the load (`-t get -c 1`). Redis-benchmark has no duration option, so each round asks
 * for as many requests as the previous round's rate fits in `durationMs`. Several tests (`-t
 * set,get`) count as one operation per round of all of them (a SET and a GET: one pair).
 */
export function redisBenchmarkCandidate(name: string, server: Server, args: readonly string[]): MeasuredCandidate {
  let rate = 1000;
  return {
    name,
    async measure(durationMs) {
      const requests = Math.max(100, Math.round((rate * durationMs) / 1000));
      const rates = await redisBenchmark(server, ['-n', String(requests), ...args]);
      // Time per operation is the sum of each test's time per request.
      rate = 1 / [...rates.values()].reduce((seconds, perSecond) => seconds + 1 / perSecond, 0);
      return { opsPerSecond: rate };
    },
  };
}
