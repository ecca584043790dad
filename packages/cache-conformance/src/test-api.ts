import type { BaseCache, CacheParams } from '@cachette/cache-core';
import type { Capabilities } from './capabilities';

/** A test body; the suite's are always async. */
export type TestBody = () => Promise<void> | void;
export type HookBody = () => Promise<unknown> | unknown;

/**
 * The few matchers the suite uses, so an adapter for a runner without `expect` (node:test with
 * node:assert) stays small. Vitest's and Jest's `expect` fit as they are.
 */
export interface Assertion {
  toBe(expected: unknown): unknown;
  /** Recursive equality (Map, Set, Date, Buffer, nested objects). */
  toEqual(expected: unknown): unknown;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): unknown;
}

export interface TestFunction {
  /** `timeoutMs` is passed to every test: time-based tests need more than Jest's default 5 s. */
  (name: string, body: TestBody, timeoutMs?: number): unknown;
  /** Registers a skipped test; without it, the suite registers a passing test that logs the reason. */
  skip?: (name: string, body: TestBody) => unknown;
}

/** The parts of the caller's test runner the suite uses: it never imports a runner itself. */
export interface TestApi {
  describe: (name: string, body: () => void) => unknown;
  it: TestFunction;
  expect: (actual: unknown) => Assertion;
  beforeEach: (body: HookBody, timeoutMs?: number) => unknown;
  afterEach: (body: HookBody, timeoutMs?: number) => unknown;
  beforeAll?: (body: HookBody, timeoutMs?: number) => unknown;
  afterAll: (body: HookBody, timeoutMs?: number) => unknown;
}

/** The backend under test. */
export interface ConformanceTarget {
  /** Shown in every describe block's title. */
  name: string;
  /**
   * Called several times per test with different params (keyPrefix, version, keyFunction,
   * timeout, options.maxEntries / options.cullFrequency). Every cache it returns must share one
   * store, as Django's test aliases share one LOCATION; the culling options must be honoured.
   * Merge the params into your own settings (location, connection options).
   */
  createCache(params: CacheParams): BaseCache | Promise<BaseCache>;
  /** Anything not declared takes its default (see `DEFAULT_CAPABILITIES`). */
  capabilities?: Partial<Capabilities>;
  /**
   * How many entries the store holds, read behind the cache's back (a raw client, a directory
   * listing, a SQL count). Optional: with it, the bad-input suite also checks in the store itself
   * that a refused call wrote nothing.
   */
  storedEntryCount?: () => Promise<number>;
}
