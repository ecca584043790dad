import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStampedeAcrossProcesses } from '@cachette/test-servers/stampede';
import { afterAll } from 'vitest';

// One directory shared by every process: the lock is an exclusively created file.
const directory = mkdtempSync(join(tmpdir(), 'cachette-file-stampede-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeStampedeAcrossProcesses('FileCache on one directory', () => ({ module: '@cachette/cache-file', className: 'FileCache', params: { location: directory } }));
