import { expect } from 'vitest';
import type { HookBody, TestApi, TestBody } from '../src/index';

export type Outcome = { status: 'passed' | 'skipped' } | { status: 'failed'; error: unknown };

interface Block {
  beforeEach: HookBody[];
  afterAll: HookBody[];
  tests: Array<{ name: string; body: TestBody | undefined }>;
}

/**
 * A TestApi that records what the suite registers and runs it on demand, so a test can see
 * which conformance tests pass and fail for a given backend. One level of describe, as topics use;
 * each block's afterAll hooks are recorded as one more outcome.
 */
export function recordingApi(): { api: TestApi; run(): Promise<Map<string, Outcome>> } {
  const blocks: Block[] = [];
  let current: Block | undefined;
  const inBlock = (): Block => {
    if (!current) throw new Error('registered outside describe');
    return current;
  };
  const it = (name: string, body: TestBody): void => void inBlock().tests.push({ name, body });
  it.skip = (name: string): void => void inBlock().tests.push({ name, body: undefined });
  const api: TestApi = {
    describe: (_name, body) => {
      current = { beforeEach: [], afterAll: [], tests: [] };
      blocks.push(current);
      body();
      current = undefined;
    },
    it,
    expect,
    beforeEach: (body) => void inBlock().beforeEach.push(body),
    afterEach: () => {},
    afterAll: (body) => void inBlock().afterAll.push(body),
  };

  async function run(): Promise<Map<string, Outcome>> {
    const outcomes = new Map<string, Outcome>();
    for (const [index, block] of blocks.entries()) {
      for (const { name, body } of block.tests) outcomes.set(name, await runTest(block.beforeEach, body));
      outcomes.set(`afterAll of block ${index + 1}`, await runTest([], async () => {
        for (const hook of block.afterAll) await hook();
      }));
    }
    return outcomes;
  }

  return { api, run };
}

async function runTest(beforeEach: HookBody[], body: TestBody | undefined): Promise<Outcome> {
  if (!body) return { status: 'skipped' };
  try {
    for (const hook of beforeEach) await hook();
    await body();
    return { status: 'passed' };
  } catch (error) {
    return { status: 'failed', error };
  }
}
