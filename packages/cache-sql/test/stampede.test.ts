import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStampedeAcrossProcesses } from '@cachette/test-servers/stampede';
import { afterAll } from 'vitest';

// One SQLite file shared by every process: the lock is a row inserted only when absent.
const directory = mkdtempSync(join(tmpdir(), 'cachette-sql-stampede-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeStampedeAcrossProcesses('SqlCache on one SQLite file', () => ({
  module: '@cachette/cache-sql',
  className: 'SqlCache',
  params: { location: `sqlite://${join(directory, 'cache.db')}` },
}));
