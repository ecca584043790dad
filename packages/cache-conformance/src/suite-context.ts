import type { BaseCache, CacheParams } from '@cachette/cache-core';
import { resolveCapabilities, type Capabilities } from './capabilities';
import type { Assertion, ConformanceTarget, TestApi, TestBody } from './test-api';

/** Django's `custom_key_func`: `CUSTOM-<prefix>-<version>-<key>`. */
export function customKeyFunction(key: string, keyPrefix: string, version: number): string {
  return `CUSTOM-${keyPrefix}-${version}-${key}`;
}

/** Django's test aliases: caches over one store that differ only in how they make keys or cull. */
const ALIAS_PARAMS = {
  default: {},
  prefix: { keyPrefix: 'cacheprefix' },
  v2: { version: 2 },
  customKey: { keyFunction: customKeyFunction },
  // Django's second alias names the same function by dotted path; here it is a second instance.
  customKey2: { keyFunction: customKeyFunction },
  cull: { options: { maxEntries: 30 } },
  zeroCull: { options: { maxEntries: 30, cullFrequency: 0 } },
} satisfies Record<string, CacheParams>;

export type CacheAlias = keyof typeof ALIAS_PARAMS;

export interface TestOptions {
  /** Why this test cannot run on the target; the test is registered as skipped with this reason. */
  skip?: string | undefined;
  /** Sleeps the test makes, in units of `timeoutGranularity`: the runner's time limit grows by them. */
  sleepUnits?: number;
}

// Room for connecting, clearing and a few hundred round trips, before any sleeping.
const BASE_TEST_TIME_LIMIT_MS = 30_000;

/** A distinct tag per process and run, so unique keys never meet keys of an earlier run. */
const RUN_TAG = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** Tests started in this process, over every topic: topics share a store, so numbers must not repeat between them. */
let testsStarted = 0;

/**
 * What every topic's tests share: the caches of one describe block (created lazily, closed after
 * the block), the resolved capabilities, per-test isolation and time scaled to the backend's clock.
 */
export class SuiteContext {
  readonly capabilities: Capabilities;
  readonly expect: (actual: unknown) => Assertion;
  private readonly aliasCaches = new Map<CacheAlias, Promise<BaseCache>>();
  private readonly createdCaches: BaseCache[] = [];
  private testNumber = 0;

  constructor(
    private readonly api: TestApi,
    readonly target: ConformanceTarget,
  ) {
    this.capabilities = resolveCapabilities(target.capabilities);
    this.expect = api.expect;
  }

  /** One of Django's aliases, created on first use and shared by the tests of this block. */
  cache(alias: CacheAlias = 'default'): Promise<BaseCache> {
    let cache = this.aliasCaches.get(alias);
    if (!cache) {
      cache = this.createCache(ALIAS_PARAMS[alias]);
      this.aliasCaches.set(alias, cache);
    }
    return cache;
  }

  /** A cache with the given params over the target's store, closed after the block. */
  createCache(params: CacheParams): Promise<BaseCache> {
    return Promise.resolve()
      .then(() => this.target.createCache(params))
      .then((cache) => {
        this.createdCaches.push(cache);
        return cache;
      });
  }

  /**
   * The key a test uses for `name`. When `clear()` cannot empty the store between tests, each
   * test gets its own keys instead.
   */
  readonly key = (name: string): string => {
    return this.capabilities.clearIsGlobal ? name : `${name}~${RUN_TAG}.${this.testNumber}`;
  };

  /** `units` ticks of the backend's clock, in seconds: the timeouts time-based tests use. */
  seconds(units: number): number {
    return units * this.capabilities.timeoutGranularity;
  }

  sleep(units: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.seconds(units) * 1000));
  }

  /** Registers a test, or a skipped test whose name states why it cannot run here. */
  test(name: string, body: TestBody, options: TestOptions = {}): void {
    const { it } = this.api;
    if (options.skip !== undefined) {
      const title = `${name} (skipped: ${options.skip})`;
      if (it.skip) it.skip(title, () => {});
      else it(title, () => console.log(`[cache-conformance] ${this.target.name}: ${title}`));
      return;
    }
    it(name, body, BASE_TEST_TIME_LIMIT_MS + this.seconds(options.sleepUnits ?? 0) * 1000);
  }

  async beforeEach(): Promise<void> {
    this.testNumber = ++testsStarted;
    if (this.capabilities.clearIsGlobal) await (await this.cache()).clear();
  }

  async closeAll(): Promise<void> {
    // Close them all even when one fails, then report the first failure.
    const results = await Promise.allSettled(this.createdCaches.map((cache) => cache.close()));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }
}

/**
 * Registers one topic as its own describe block with its own caches: clearing the store before
 * each test and closing every cache it created afterwards.
 */
export function registerTopic(api: TestApi, target: ConformanceTarget, topic: string, body: (suite: SuiteContext) => void): void {
  api.describe(`${target.name}: ${topic}`, () => {
    const suite = new SuiteContext(api, target);
    api.beforeEach(() => suite.beforeEach(), BASE_TEST_TIME_LIMIT_MS);
    api.afterAll(() => suite.closeAll(), BASE_TEST_TIME_LIMIT_MS);
    body(suite);
  });
}
