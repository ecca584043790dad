import { vi } from 'vitest';

/** Helpers the packages' fuzz tests share (`*.fuzz.test.ts`): cutting streams, watching allocations. */

/** `bytes` cut where `cuts` say (positions taken modulo its length plus one, so a cut may fall at either end). */
export function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...points, bytes.length].map((end, index) => bytes.subarray(index === 0 ? 0 : points[index - 1], end));
}

/** The whole of `bytes`, every cut into two chunks, and one byte at a time. */
export function splitsOf(bytes: Buffer): Buffer[][] {
  const result: Buffer[][] = [[bytes], [...bytes].map((byte) => Buffer.from([byte]))];
  for (let cut = 1; cut < bytes.length; cut++) result.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return result;
}

/** The size of the largest Buffer allocated while `run` runs (the Buffer factories are watched, not replaced). */
export function largestAllocation(run: () => void): number {
  const spies = [vi.spyOn(Buffer, 'alloc'), vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'allocUnsafeSlow')];
  try {
    run();
    return Math.max(0, ...spies.flatMap((spy) => spy.mock.calls.map(([size]) => size)));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** Runs `run`, letting an error of the `allowed` class pass: any other error fails the caller's property. */
export function throwsOnly(allowed: abstract new (...args: never[]) => Error, run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof allowed)) throw error;
  }
}

/** The promise `run` makes, letting a rejection of one of the `allowed` classes pass: any other fails the caller's property. */
export async function rejectsOnly(allowed: ReadonlyArray<abstract new (...args: never[]) => Error>, run: () => Promise<unknown>): Promise<void> {
  await run().catch((error: unknown) => {
    if (!allowed.some((type) => error instanceof type)) throw error;
  });
}
