import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonOf, run } from './run-cli';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('cachette conformance', () => {
  it('passes a correct backend given as a package, with the capabilities from the command line', async () => {
    const result = await run(
      ['conformance', '@cachette/cache-locmem', '--capability', 'atomicIncr=true', '--capability', 'culling={"afterCull":29,"afterZeroCull":19}', '--capability', 'timeoutGranularity=0.5', '--only', 'basic', '--only', 'counters'],
      { progress: true },
    );
    const report = result.out.join('\n');
    expect(result.code).toBe(0);
    expect(report).toMatch(/^Conformance of LocMemCache \(@cachette\/cache-locmem\)/);
    expect(report).toMatch(/✓ LocMemCache: basics\s+\d+ passed/);
    expect(report).not.toMatch(/failed/);
    expect(result.progress[0]).toMatch(/^\[1\/\d+\] LocMemCache: /);
    expect(result.progress.at(-1)).toBe('');
  });

  it('reports each failure of a broken backend with the test, the assertion and exit status 1', async () => {
    const result = await run(['conformance', './forgetful-cache.mjs', '--only', 'basic', '--json'], { cwd: fixtures });
    expect(result.code).toBe(1);
    const report = jsonOf(result) as { target: string; failed: number; passed: number; results: Array<{ name: string; status: string; error?: string }> };
    expect(report.target).toBe('ForgetfulCache');
    expect(report.failed).toBeGreaterThan(0);
    expect(report.passed).toBeGreaterThan(0);
    const failure = report.results.find((test) => test.status === 'failed')!;
    expect(failure.name).toMatch(/^ForgetfulCache: basics › .*delete/i);
    expect(failure.error).toMatch(/AssertionError/);

    const text = await run(['conformance', './forgetful-cache.mjs', '--only', 'basic'], { cwd: fixtures });
    expect(text.code).toBe(1);
    expect(text.out.join('\n')).toMatch(/✗ ForgetfulCache: basics\s+\d+ passed, \d+ failed[\s\S]*Failures:\n {2}1\) ForgetfulCache: basics › /);
  });

  it("lists the tests a module's declared capabilities skip, with the reason", async () => {
    const result = await run(['conformance', './forgetful-cache.mjs', '--only', 'culling'], { cwd: fixtures });
    const report = result.out.join('\n');
    expect(result.code).toBe(0);
    expect(report).toMatch(/Skipped, for capabilities the backend does not declare:\n {2}○ ForgetfulCache: culling › .*\(skipped: /);
    expect(report).toMatch(/\d+ skipped in [\d.]+ s$/);
  });

  it('runs a { name, createCache, capabilities } target in full', async () => {
    const result = await run(['conformance', './target.mjs', '--json'], { cwd: fixtures });
    const report = jsonOf(result) as { failed: number; passed: number; results: Array<{ name: string; status: string; error?: string }> };
    expect(report.results.filter((test) => test.status === 'failed')).toEqual([]);
    expect(report.passed).toBeGreaterThan(100);
    expect(result.code).toBe(0);
  }, 240_000);

  it("consults a target's storedEntryCount: entries written behind the cache's back fail the bad-input tests", async () => {
    const result = await run(['conformance', './growing-store-target.mjs', '--only', 'bad input', '--json'], { cwd: fixtures });
    const report = jsonOf(result) as { results: Array<{ name: string; status: string; error?: string }> };
    const failed = report.results.filter((test) => test.status === 'failed');
    expect(failed.map((test) => test.name)).toContain('locmem with a growing store: bad input › bad keys: non-strings reject with InvalidCacheKey, memcached-unsafe keys warn (or reject on strict backends)');
    expect(failed[0]!.error).toMatch(/behind the cache's back/);
    expect(result.code).toBe(1);
  });

  it('exits with 2 for a module it cannot find or use, and for an unknown capability', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['conformance'], /Name the module to test/],
      [['conformance', './nowhere.mjs'], /Cannot find module '\.\/nowhere\.mjs'/],
      [['conformance', 'no-such-package'], /Cannot find module 'no-such-package'/],
      [['conformance', './forgetful-cache.mjs', '--export', 'Nope'], /exports no cache class, factory or target named 'Nope'/],
      [['conformance', './forgetful-cache.mjs', '--capability', 'speed=11'], /--capability takes name=value with name one of atomicIncr, /],
      [['conformance', './forgetful-cache.mjs', '--capability', 'timeoutGranularity=0'], /timeoutGranularity must be a positive number/],
      [['conformance', './forgetful-cache.mjs', '--only', 'no test is called this'], /No test matches --only/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(argv, { cwd: fixtures });
      expect([argv, result.code]).toEqual([argv, 2]);
      expect(result.error.join('\n')).toMatch(message);
    }
  });
});
