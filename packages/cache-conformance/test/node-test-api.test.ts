import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertExpect } from '../src/index';

const directory = fileURLToPath(new URL('./node-test/', import.meta.url));

interface Run {
  exitCode: number;
  output: string;
}

/** Runs map-cache.node-test.ts under `node --test`, with the suite's sources loaded by tsx. */
function runUnderNodeTest(env: Record<string, string> = {}): Promise<Run> {
  const args = ['--import', 'tsx', '--test', '--test-reporter=tap', 'map-cache.node-test.ts'];
  const options = { cwd: directory, env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.json', ...env }, maxBuffer: 16 * 1024 * 1024 };
  return new Promise((resolve) => {
    execFile(process.execPath, args, options, (error, stdout, stderr) => {
      resolve({ exitCode: error ? Number(error.code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

function tapCount(output: string, field: 'pass' | 'fail' | 'skip'): number {
  return Number(new RegExp(`^# ${field} (\\d+)$`, 'm').exec(output)?.[1] ?? Number.NaN);
}

describe('nodeTestApi: the suite under node:test', () => {
  it('passes a correct backend, reporting skipped tests with their reason', async () => {
    const run = await runUnderNodeTest();
    expect({ exitCode: run.exitCode, fail: tapCount(run.output, 'fail') }).toEqual({ exitCode: 0, fail: 0 });
    expect(tapCount(run.output, 'pass')).toBeGreaterThan(50);
    expect(run.output).toContain('concurrent incr from 4 caches loses no update (skipped: capabilities.atomicIncr is false');
  });

  it('fails a backend that keeps references, naming the tests that caught it', async () => {
    const run = await runUnderNodeTest({ CONFORMANCE_BROKEN_BACKEND: '1' });
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toMatch(/not ok \d+ - the cache keeps a copy: mutating a value after set does not change it/);
    expect(run.output).toMatch(/not ok \d+ - the cache hands out copies: mutating a value read does not change it/);
  });
});

describe('assertExpect', () => {
  it('toBe compares with Object.is', () => {
    expect(() => assertExpect(Number.NaN).toBe(Number.NaN)).not.toThrow();
    expect(() => assertExpect(-0).toBe(0)).toThrow(/strictly equal/);
  });

  it('toEqual compares deeply, Maps and Buffers included', () => {
    expect(() => assertExpect(new Map([['a', Buffer.from('x')]])).toEqual(new Map([['a', Buffer.from('x')]]))).not.toThrow();
    expect(() => assertExpect(new Map([['a', 1]])).toEqual(new Map([['a', 2]]))).toThrow(/deep-equal/);
  });

  it('toBeInstanceOf names the class it expected', () => {
    expect(() => assertExpect(new TypeError('x')).toBeInstanceOf(Error)).not.toThrow();
    expect(() => assertExpect({}).toBeInstanceOf(Map)).toThrow('expected {} to be an instance of Map');
  });
});
