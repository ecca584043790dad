import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerNeeds } from './types.js';

const fixture = fileURLToPath(new URL('./fixtures/skip-reason.ts', import.meta.url));
const socketDir = mkdtempSync(join(tmpdir(), 'cachette-docker-test-'));
const NO_DOCKER = `unix://${join(socketDir, 'nothing-here.sock')}`;
const FAKE_DOCKER_SOCKET = join(socketDir, 'docker.sock');

/** serverSkipReason in a child process that sees only `env` (no PATH: no local binaries). */
function skipReasonWith(env: Record<string, string>, needs: ServerNeeds = {}): Promise<{ reason?: string | null; error?: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', fixture, 'redis', JSON.stringify(needs)], { env: { PATH: '', ...env } }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as { reason?: string | null; error?: string }),
    );
  });
}

// Stands in for a Docker engine's API (it answers only /_ping): no engine is installed here, and
// the container path itself is only reached when one is.
let fakeDocker: Server;
beforeAll(async () => {
  fakeDocker = createServer((request, response) => {
    response.writeHead(request.url === '/_ping' ? 200 : 404).end('OK');
  });
  await new Promise<void>((resolve) => fakeDocker.listen(FAKE_DOCKER_SOCKET, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => fakeDocker.close(resolve));
  rmSync(socketDir, { recursive: true, force: true });
});

describe('when no local binary exists', () => {
  it('names everything it looked for', async () => {
    expect(await skipReasonWith({ DOCKER_HOST: NO_DOCKER })).toEqual({
      reason: 'redis-server not found on PATH, no CACHETTE_REDIS_URL, no Docker engine',
    });
  });

  it('throws that reason under CACHETTE_REQUIRE_SERVERS=1', async () => {
    expect(await skipReasonWith({ DOCKER_HOST: NO_DOCKER, CACHETTE_REQUIRE_SERVERS: '1' })).toEqual({
      error: 'CACHETTE_REQUIRE_SERVERS is set but no redis test server can be had: redis-server not found on PATH, no CACHETTE_REDIS_URL, no Docker engine',
    });
  });

  it('falls back to a container when a Docker engine answers, for needs a container can meet', async () => {
    const DOCKER_HOST = `unix://${FAKE_DOCKER_SOCKET}`;
    expect(await skipReasonWith({ DOCKER_HOST })).toEqual({ reason: null });
    expect(await skipReasonWith({ DOCKER_HOST }, { control: true })).toEqual({
      reason: 'redis-server not found on PATH, and a container cannot offer kill/restart/pause/resume',
    });
  });
});
