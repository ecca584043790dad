import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { Assertion, TestApi } from './test-api';

type NodeTestModule = typeof import('node:test');

function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity });
}

function comparable(actual: unknown, matcher: string): number | bigint {
  if (typeof actual !== 'number' && typeof actual !== 'bigint') assert.fail(`expected a number for ${matcher}, got ${show(actual)}`);
  return actual;
}

/**
 * The suite's matchers on `node:assert/strict`, for runners without `expect` (node:test, mocha).
 * `toEqual` is `deepStrictEqual`, which also compares prototypes: stricter than Jest's, never looser.
 */
export function assertExpect(actual: unknown): Assertion {
  return {
    toBe: (expected) => assert.strictEqual(actual, expected),
    toEqual: (expected) => assert.deepStrictEqual(actual, expected),
    toBeInstanceOf: (expected) => assert.ok(actual instanceof expected, `expected ${show(actual)} to be an instance of ${expected.name}`),
    toBeGreaterThanOrEqual: (expected) =>
      assert.ok(comparable(actual, 'toBeGreaterThanOrEqual') >= expected, `expected ${show(actual)} >= ${expected}`),
    toBeLessThanOrEqual: (expected) =>
      assert.ok(comparable(actual, 'toBeLessThanOrEqual') <= expected, `expected ${show(actual)} <= ${expected}`),
    not: {
      toBe: (expected) => assert.notStrictEqual(actual, expected),
      toEqual: (expected) => assert.notDeepStrictEqual(actual, expected),
    },
  };
}

/**
 * A `TestApi` over node:test, which the caller imports and passes in:
 * `registerConformanceSuite(nodeTestApi(await import('node:test')), target)`.
 */
export function nodeTestApi(nodeTest: Pick<NodeTestModule, 'describe' | 'it' | 'before' | 'after' | 'beforeEach' | 'afterEach'>): TestApi {
  const it = (name: string, body: () => unknown, timeoutMs?: number): unknown =>
    nodeTest.it(name, { timeout: timeoutMs }, async () => {
      await body();
    });
  it.skip = (name: string): unknown => nodeTest.it(name, { skip: true });
  return {
    describe: (name, body) => nodeTest.describe(name, body),
    it,
    expect: assertExpect,
    beforeEach: (body, timeoutMs) => nodeTest.beforeEach(async () => void (await body()), { timeout: timeoutMs }),
    afterEach: (body, timeoutMs) => nodeTest.afterEach(async () => void (await body()), { timeout: timeoutMs }),
    beforeAll: (body, timeoutMs) => nodeTest.before(async () => void (await body()), { timeout: timeoutMs }),
    afterAll: (body, timeoutMs) => nodeTest.after(async () => void (await body()), { timeout: timeoutMs }),
  };
}
