import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serverSkipReason } from './index.js';
import { processesWith } from './test-helpers.js';

const skip = await serverSkipReason('redis', { unixSocket: true });
const fixture = fileURLToPath(new URL('./fixtures/abandon-server.ts', import.meta.url));

/** Runs the fixture, lets it end as `ending` says, and reports what it had started. */
function abandonServer(ending: 'exit' | NodeJS.Signals): Promise<{ port: number; dir: string; exit: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ending], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let started: { port: number; dir: string } | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (started || !output.includes('\n')) return;
      started = JSON.parse(output) as { port: number; dir: string };
      if (ending !== 'exit') child.kill(ending);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!started) reject(new Error(`fixture ended (${signal ?? code}) before starting its server: ${output}`));
      else resolve({ ...started, exit: signal ?? `code ${code}` });
    });
  });
}

describe.skipIf(skip)(`servers do not outlive the test process${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it.each([
    ['exits', 'exit', 'code 0'],
    ['is terminated', 'SIGTERM', 'SIGTERM'],
    ['is interrupted', 'SIGINT', 'SIGINT'],
    // No handler runs on SIGKILL: the watchdog process does the work when our pipe to it closes.
    ['is killed', 'SIGKILL', 'SIGKILL'],
  ] as const)('when the process %s without stopping them', async (_, ending, expectedExit) => {
    const { port, dir, exit } = await abandonServer(ending);
    // Dying of the same signal tells the parent shell the truth about how the process ended.
    expect(exit).toBe(expectedExit);
    // The process list, not the port, is the proof: parallel tests may reuse a freed port at once.
    await expect.poll(() => processesWith('redis-server', `127.0.0.1:${port}`), { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => existsSync(dir), { timeout: 5_000 }).toBe(false);
  });
});
