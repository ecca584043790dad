/**
 * Regenerates docs/errors.md from what the bad-input tests observe: runs every backend's
 * bad-input tests (on real servers, which they start themselves) with CACHETTE_ERRORS_TABLE set,
 * then renders what they recorded. The runs are sequential: the machine's cores are shared.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderErrorsTable, type RecordedObservation } from '../src/bad-input/errors-table';
import { ERRORS_TABLE_ENV } from '../src/suites/bad-input';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every backend's conformance test file, relative to the repository. */
const CONFORMANCE_FILES = [
  'packages/cache-locmem/src/conformance.test.ts',
  'packages/cache-file/test/conformance.test.ts',
  'packages/cache-sql/test/conformance.test.ts',
  'packages/cache-memcached/test/conformance.test.ts',
  'packages/cache-redis/src/conformance.test.ts',
  'packages/cache-tiered/src/conformance.test.ts',
];

function observeEveryBackend(): RecordedObservation[] {
  const directory = mkdtempSync(join(tmpdir(), 'cachette-errors-table-'));
  const recording = join(directory, 'observations.jsonl');
  writeFileSync(recording, '');
  try {
    for (const file of CONFORMANCE_FILES) {
      const packageDirectory = join(root, file.split('/').slice(0, 2).join('/'));
      const testFile = file.split('/').slice(2).join('/');
      console.log(`[errors-table] ${file}`);
      const run = spawnSync('npx', ['vitest', 'run', testFile, '-t', 'bad input'], {
        cwd: packageDirectory,
        stdio: 'inherit',
        env: { ...process.env, [ERRORS_TABLE_ENV]: recording, CACHETTE_REQUIRE_SERVERS: '1' },
      });
      // A failing run would document a behaviour the suite rejects.
      if (run.status !== 0) throw new Error(`The bad-input tests of ${file} failed (exit status ${run.status}); fix them before regenerating the table`);
    }
    return readFileSync(recording, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as RecordedObservation);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const observations = observeEveryBackend();
writeFileSync(join(root, 'docs', 'errors.md'), renderErrorsTable(observations));
console.log(`[errors-table] wrote docs/errors.md (${observations.length} observations)`);
