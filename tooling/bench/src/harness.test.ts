import { describe, expect, it } from 'vitest';
import { median, runCase, type RunOptions } from './harness';
import { formatTable } from './report';

// Tiny rounds: these tests check what the harness reports, never how fast anything is.
const QUICK: RunOptions = { rounds: 3, roundMs: 2, warmupMs: 5 };

function busy(iterations: number): number {
  let total = 0;
  for (let index = 0; index < iterations; index++) total += Math.sqrt(index);
  return total;
}

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('runCase', () => {
  it('reports one rate per round for every candidate and ratios against the baseline', async () => {
    const result = await runCase(
      {
        name: 'work',
        baseline: 'light',
        target: { candidate: 'heavy', minRatio: 100 },
        candidates: [
          { name: 'light', run: () => busy(10) },
          { name: 'heavy', run: () => busy(1000) },
        ],
      },
      QUICK,
    );
    const [light, heavy] = result.results;
    expect(light!.roundOpsPerSecond).toHaveLength(QUICK.rounds);
    expect(heavy!.roundOpsPerSecond).toHaveLength(QUICK.rounds);
    expect(light!.ratio).toBe(1);
    expect(heavy!.ratio).toBeCloseTo(heavy!.medianOpsPerSecond / light!.medianOpsPerSecond);
    expect(result.target).toEqual({ candidate: 'heavy', minRatio: 100, met: false });
  });

  it('keeps no more than `concurrency` awaited operations in flight, and runs whole batches of them', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    let calls = 0;
    const slow = async () => {
      calls++;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    await runCase({ name: 'io', baseline: 'slow', concurrency: 4, candidates: [{ name: 'slow', run: slow }] }, QUICK);
    expect(mostInFlight).toBe(4);
    expect((calls - 1) % 4).toBe(0); // the first call probes whether run returns a Promise
  });

  it('awaits each call of a candidate that returns a Promise before the next one', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const run = async () => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await Promise.resolve();
      inFlight--;
    };
    await runCase({ name: 'sequential', baseline: 'one', candidates: [{ name: 'one', run }] }, QUICK);
    expect(mostInFlight).toBe(1);
  });

  it('gives measured candidates one warm-up and one call per round, taking turns with a rotating start', async () => {
    const calls: string[] = [];
    const measured = (name: string, rate: number) => ({
      name,
      measure: async (durationMs: number) => {
        calls.push(`${name}:${durationMs}`);
        return { opsPerSecond: rate, metrics: { 'p99 ms': rate / 1000 } };
      },
    });
    const result = await runCase(
      { name: 'http', baseline: 'b', target: { candidate: 'a', minRatio: 0.8 }, candidates: [measured('a', 3000), measured('b', 4000), measured('c', 1000)] },
      { rounds: 3, roundMs: 20, warmupMs: 10 },
    );
    expect(calls).toEqual(['a:10', 'b:10', 'c:10', 'a:20', 'b:20', 'c:20', 'b:20', 'c:20', 'a:20', 'c:20', 'a:20', 'b:20']);
    const [a, b] = result.results;
    expect(a!.roundOpsPerSecond).toEqual([3000, 3000, 3000]);
    expect(a!.ratio).toBe(0.75);
    expect(b!.metrics).toEqual({ 'p99 ms': 4 });
    expect(b!.roundMetrics).toHaveLength(3);
    expect(result.target).toEqual({ candidate: 'a', minRatio: 0.8, met: false });
  });

  it('takes the median of each metric over the rounds', async () => {
    const rates = [100, 300, 200];
    let call = 0;
    const candidate = { name: 'm', measure: async () => ({ opsPerSecond: 1, metrics: { 'p50 ms': rates[call++ % 3]! } }) };
    // The warm-up is call 0 (100); the rounds get 300, 200, 100.
    const result = await runCase({ name: 'metrics', baseline: 'm', candidates: [candidate] }, QUICK);
    expect(result.results[0]!.metrics).toEqual({ 'p50 ms': 200 });
  });

  it('reports NaN ratios when the baseline was left out of the run', async () => {
    const result = await runCase({ name: 'alone', baseline: 'absent', candidates: [{ name: 'only', run: () => busy(10) }] }, QUICK);
    expect(result.results[0]!.ratio).toBeNaN();
    const row = formatTable([result]).split('\n').find((line) => line.includes('only'));
    expect(row?.trimEnd().endsWith(' -')).toBe(true);
  });
});

describe('formatTable', () => {
  it('marks the baseline, prints ratios and whether the target was met', () => {
    const table = formatTable([
      {
        name: 'get',
        baseline: 'peer',
        target: { candidate: 'ours', minRatio: 0.5, met: true },
        results: [
          { candidate: 'ours', roundOpsPerSecond: [2e6, 2e6], medianOpsPerSecond: 2e6, ratio: 2 },
          { candidate: 'peer', roundOpsPerSecond: [1e6, 1e6], medianOpsPerSecond: 1e6, ratio: 1 },
        ],
      },
    ]);
    expect(table).toContain('2.00 M');
    expect(table).toContain('2.00×');
    expect(table).toContain('(baseline)');
    expect(table).toContain('target: ours ≥ 0.50× peer: met');
    expect(table.split('\n')[0]!.trimEnd().endsWith('vs baseline')).toBe(true);
  });

  it('adds a column per metric, with the medians of the candidates that reported it', () => {
    const table = formatTable([
      {
        name: 'http',
        baseline: 'constant',
        results: [
          { candidate: 'constant', roundOpsPerSecond: [3e4], medianOpsPerSecond: 3e4, ratio: 1, metrics: { 'p50 ms': 1.234, 'p99 ms': 12.34 } },
          { candidate: 'hit', roundOpsPerSecond: [2e4], medianOpsPerSecond: 2e4, ratio: 2 / 3, metrics: { 'p99 ms': 123.4 } },
        ],
      },
    ]);
    const [header, , constant, hit] = table.split('\n');
    expect(header).toMatch(/vs baseline\s+p50 ms\s+p99 ms$/);
    expect(constant).toMatch(/1\.23\s+12\.3$/);
    expect(hit).toMatch(/0\.67×\s+123$/);
  });
});
