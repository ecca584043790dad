import { assertExpect, type HookBody, type TestApi, type TestBody } from '@cachette/cache-conformance';

/** A limit for tests and hooks registered without one: generous, as real servers answer the suite. */
const DEFAULT_TIME_LIMIT_MS = 30_000;

interface Hook {
  body: HookBody;
  timeoutMs: number;
}

interface TestCase {
  kind: 'test';
  name: string;
  body: TestBody;
  timeoutMs: number;
  skipped: boolean;
}

interface Block {
  kind: 'block';
  name: string;
  children: Array<Block | TestCase>;
  beforeAll: Hook[];
  afterAll: Hook[];
  beforeEach: Hook[];
  afterEach: Hook[];
}

export interface TestResult {
  /** The describe names and the test's name, outermost first. */
  path: readonly string[];
  status: 'passed' | 'failed' | 'skipped';
  error?: unknown;
  durationMs: number;
}

export interface RunOptions {
  /** Runs only the tests whose full name contains one of these (case-insensitive); every test when empty. */
  only?: readonly string[];
  /** Called before each test starts, with how many tests are done and how many will run. */
  onTestStart?(path: readonly string[], done: number, total: number): void;
  onTestEnd?(result: TestResult): void;
}

function newBlock(name: string): Block {
  return { kind: 'block', name, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
}

/** Settles with the body's outcome, or rejects once `timeoutMs` has passed. */
async function withinTime(body: () => unknown, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(body), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The conformance suite's `TestApi` with a runner of its own, so `cachette conformance` needs no
 * test framework: `describe` blocks nest, hooks scope to their block (outer `beforeEach` first,
 * inner `afterEach` first), and a failing `beforeAll` fails every test of its block.
 */
export class ConformanceRunner {
  private readonly root = newBlock('');
  private current = this.root;

  readonly api: TestApi = {
    describe: (name, body) => {
      const block = newBlock(name);
      this.current.children.push(block);
      const parent = this.current;
      this.current = block;
      try {
        body();
      } finally {
        this.current = parent;
      }
    },
    it: Object.assign(
      (name: string, body: TestBody, timeoutMs = DEFAULT_TIME_LIMIT_MS) => {
        this.current.children.push({ kind: 'test', name, body, timeoutMs, skipped: false });
      },
      {
        skip: (name: string, body: TestBody) => {
          this.current.children.push({ kind: 'test', name, body, timeoutMs: 0, skipped: true });
        },
      },
    ),
    expect: assertExpect,
    beforeAll: (body, timeoutMs = DEFAULT_TIME_LIMIT_MS) => this.current.beforeAll.push({ body, timeoutMs }),
    afterAll: (body, timeoutMs = DEFAULT_TIME_LIMIT_MS) => this.current.afterAll.push({ body, timeoutMs }),
    beforeEach: (body, timeoutMs = DEFAULT_TIME_LIMIT_MS) => this.current.beforeEach.push({ body, timeoutMs }),
    afterEach: (body, timeoutMs = DEFAULT_TIME_LIMIT_MS) => this.current.afterEach.push({ body, timeoutMs }),
  };

  /** Runs what was registered, in registration order, one test at a time; never rejects. */
  async run(options: RunOptions = {}): Promise<TestResult[]> {
    const filters = (options.only ?? []).map((text) => text.toLowerCase());
    const selected = (path: readonly string[]): boolean => filters.length === 0 || filters.some((text) => path.join(' ').toLowerCase().includes(text));
    const run = new BlockRun(selected, options);
    run.total = countSelected(this.root, [], selected);
    await run.block(this.root, [], []);
    return run.results;
  }
}

function countSelected(block: Block, path: readonly string[], selected: (path: readonly string[]) => boolean): number {
  let count = 0;
  for (const child of block.children) {
    const childPath = [...path, child.name];
    count += child.kind === 'test' ? Number(selected(childPath)) : countSelected(child, childPath, selected);
  }
  return count;
}

/** One pass over the registered tree. */
class BlockRun {
  readonly results: TestResult[] = [];
  total = 0;

  constructor(
    private readonly selected: (path: readonly string[]) => boolean,
    private readonly options: RunOptions,
  ) {}

  /** `path` is this block's own path; `ancestors` are the blocks around it, outermost first. */
  async block(block: Block, path: readonly string[], ancestors: readonly Block[]): Promise<void> {
    if (countSelected(block, path, this.selected) === 0) return;
    const scope = [...ancestors, block];
    const setupError = await this.hooks(block.beforeAll, `beforeAll of '${path.join(' › ') || 'the suite'}'`);
    for (const child of block.children) {
      const childPath = [...path, child.name];
      if (child.kind === 'block') {
        if (setupError === undefined) await this.block(child, childPath, scope);
        else this.failAll(child, childPath, setupError);
      } else if (this.selected(childPath)) {
        if (setupError === undefined) await this.test(child, childPath, scope);
        else this.record({ path: childPath, status: 'failed', error: setupError, durationMs: 0 });
      }
    }
    const teardownError = await this.hooks(block.afterAll, `afterAll of '${path.join(' › ') || 'the suite'}'`);
    if (teardownError !== undefined) this.record({ path: [...path, '(afterAll)'], status: 'failed', error: teardownError, durationMs: 0 });
  }

  private async test(test: TestCase, path: readonly string[], scope: readonly Block[]): Promise<void> {
    if (test.skipped) {
      this.record({ path, status: 'skipped', durationMs: 0 });
      return;
    }
    this.options.onTestStart?.(path, this.results.length, this.total);
    const started = performance.now();
    let error = await this.hooks(scope.flatMap((block) => block.beforeEach), 'beforeEach');
    if (error === undefined) error = await this.attempt(test.body, test.timeoutMs, 'the test');
    const teardownError = await this.hooks([...scope].reverse().flatMap((block) => block.afterEach), 'afterEach');
    error ??= teardownError;
    this.record({ path, status: error === undefined ? 'passed' : 'failed', error, durationMs: performance.now() - started });
  }

  /** Runs every hook even after one fails; resolves to the first failure. */
  private async hooks(hooks: readonly Hook[], what: string): Promise<unknown> {
    let firstError: unknown;
    for (const hook of hooks) {
      const error = await this.attempt(hook.body, hook.timeoutMs, what);
      firstError ??= error;
    }
    return firstError;
  }

  private async attempt(body: () => unknown, timeoutMs: number, what: string): Promise<unknown> {
    try {
      await withinTime(body, timeoutMs, what);
      return undefined;
    } catch (error) {
      return error ?? new Error(`${what} rejected with ${String(error)}`);
    }
  }

  private failAll(block: Block, path: readonly string[], error: unknown): void {
    for (const child of block.children) {
      const childPath = [...path, child.name];
      if (child.kind === 'block') this.failAll(child, childPath, error);
      else if (this.selected(childPath)) this.record({ path: childPath, status: 'failed', error, durationMs: 0 });
    }
  }

  private record(result: TestResult): void {
    this.results.push(result);
    this.options.onTestEnd?.(result);
  }
}
