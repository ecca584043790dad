import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { Assertion, TestApi } from './test-api';

type NodeTestModule = typeof import('node:test');

/**
 * The suite's matchers on `node:assert/strict`, for runners without `expect` (node:test, mocha).
 * `toEqual` is `deepStrictEqual`, which also compares prototypes: stricter than Jest's, never looser.
 */
export function assertExpect(actual: unknown): Assertion {
  return {
    toBe: (expected) => assert.strictEqual(actual, expected),
    toEqual: (expected) => assert.deepStrictEqual(actual, expected),
    toBeInstanceOf: (expected) =>
      assert.ok(actual instanceof expected, `expected ${inspect(actual, { depth: 4 })} to be an instance of ${expected.name}`),
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
