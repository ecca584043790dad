import { describe, expect, it } from 'vitest';
import { ConformanceRunner } from '../src/conformance/runner';

function outline() {
  const runner = new ConformanceRunner();
  const calls: string[] = [];
  const { api } = runner;
  api.describe('outer', () => {
    api.beforeAll!(() => calls.push('outer beforeAll'));
    api.beforeEach(() => calls.push('outer beforeEach'));
    api.afterEach(() => calls.push('outer afterEach'));
    api.afterAll(() => calls.push('outer afterAll'));
    api.it('first', () => void calls.push('first'));
    api.describe('inner', () => {
      api.beforeEach(() => calls.push('inner beforeEach'));
      api.afterEach(() => calls.push('inner afterEach'));
      api.it('second', () => {
        calls.push('second');
        api.expect(1).toBe(2);
      });
      api.it.skip!('third (skipped: a reason)', () => void calls.push('third'));
    });
  });
  return { runner, calls };
}

describe('the conformance runner of the CLI', () => {
  it('runs hooks around each test in scope order and records passes, failures and skips', async () => {
    const { runner, calls } = outline();
    const results = await runner.run();
    expect(calls).toEqual([
      'outer beforeAll',
      'outer beforeEach',
      'first',
      'outer afterEach',
      'outer beforeEach',
      'inner beforeEach',
      'second',
      'inner afterEach',
      'outer afterEach',
      'outer afterAll',
    ]);
    expect(results.map(({ path, status }) => [path.join(' › '), status])).toEqual([
      ['outer › first', 'passed'],
      ['outer › inner › second', 'failed'],
      ['outer › inner › third (skipped: a reason)', 'skipped'],
    ]);
    expect((results[1]!.error as Error).name).toBe('AssertionError');
  });

  it('runs only the selected tests, and no hooks of blocks with none selected', async () => {
    const { runner, calls } = outline();
    const results = await runner.run({ only: ['FIRST'] });
    expect(results.map((result) => result.path.at(-1))).toEqual(['first']);
    expect(calls).toEqual(['outer beforeAll', 'outer beforeEach', 'first', 'outer afterEach', 'outer afterAll']);
  });

  it('fails every test of a block whose beforeAll fails, and reports a failing afterAll', async () => {
    const runner = new ConformanceRunner();
    const { api } = runner;
    api.describe('broken setup', () => {
      api.beforeAll!(() => Promise.reject(new Error('no server')));
      api.it('a', () => {});
      api.describe('nested', () => api.it('b', () => {}));
    });
    api.describe('broken teardown', () => {
      api.afterAll(() => {
        throw new Error('close failed');
      });
      api.it('c', () => {});
    });
    const results = await runner.run();
    expect(results.map(({ path, status, error }) => [path.join(' › '), status, (error as Error | undefined)?.message])).toEqual([
      ['broken setup › a', 'failed', 'no server'],
      ['broken setup › nested › b', 'failed', 'no server'],
      ['broken teardown › c', 'passed', undefined],
      ['broken teardown › (afterAll)', 'failed', 'close failed'],
    ]);
  });

  it('fails a test that outlives its time limit and goes on with the next', async () => {
    const runner = new ConformanceRunner();
    runner.api.it('hangs', () => new Promise(() => {}), 50);
    runner.api.it('next', () => {});
    const results = await runner.run();
    expect(results.map((result) => result.status)).toEqual(['failed', 'passed']);
    expect((results[0]!.error as Error).message).toBe('the test did not finish within 50 ms');
  });

  it('reports progress before each test that runs', async () => {
    const { runner } = outline();
    const progress: string[] = [];
    await runner.run({ onTestStart: (path, done, total) => progress.push(`${done}/${total} ${path.at(-1)}`) });
    expect(progress).toEqual(['0/3 first', '1/3 second']);
  });
});
