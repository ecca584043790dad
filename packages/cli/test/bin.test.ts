import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'cachette-bin-'));
const url = `file://${directory}`;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The `cachette` bin as a user runs it, in its own process (from source, through tsx). */
function cachette(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: packageDir, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

describe('the cachette bin', () => {
  it('lists its commands and prints its version', async () => {
    const help = await cachette(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['createcachetable', 'conformance', 'get', 'set', 'delete', 'touch', 'ttl', 'incr', 'clear', 'stats']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(await cachette(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect(await cachette([])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Usage: cachette <command>') });
  });

  it('writes results to stdout and failures to stderr, with their exit codes', async () => {
    expect(await cachette(['set', url, 'k', '"v"'])).toMatchObject({ code: 0, stdout: "Stored 'k' (expires in 300 s).\n", stderr: '' });
    expect(await cachette(['get', url, 'k'])).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    expect(await cachette(['get', url, 'other'])).toEqual({ code: 1, stdout: '', stderr: "No value for 'other'.\n" });
    expect(await cachette(['get', 'redis://127.0.0.1:1/0', 'k'])).toMatchObject({ code: 3, stdout: '' });
    expect(await cachette(['get', 'nope://x', 'k'])).toMatchObject({ code: 2, stdout: '' });
  });

  it('reads the answer to clear from stdin, a pipe included; no answer keeps everything', async () => {
    expect(await cachette(['clear', url])).toMatchObject({ code: 1, stderr: expect.stringMatching(/\[y\/N\] Nothing cleared\.\n$/) });
    expect((await cachette(['get', url, 'k'])).stdout).toBe('v\n');
    expect(await cachette(['clear', url], 'no\n')).toMatchObject({ code: 1 });
    expect(await cachette(['clear', url], 'y\n')).toMatchObject({ code: 0, stdout: `Cleared ${url}.\n` });
    expect((await cachette(['get', url, 'k'])).code).toBe(1);
  });

  it('runs createcachetable from cache-sql', async () => {
    const result = await cachette(['createcachetable', '--url', `sqlite://${join(directory, 'db.sqlite')}`, '--table', 'page_cache']);
    expect(result).toMatchObject({ code: 0, stdout: "Cache table 'page_cache' created.\n" });
    expect(await cachette(['createcachetable', '--url', 'redis://localhost'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage:') });
  });

  it('prints no progress line when stderr is not a terminal', async () => {
    const result = await cachette(['conformance', '@cachette/cache-locmem', '--only', 'basics']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^Conformance of LocMemCache/);
  });
});
