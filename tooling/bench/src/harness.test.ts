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
  });
});
