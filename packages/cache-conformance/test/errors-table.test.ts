import { describe, expect, it } from 'vitest';
import { parseErrorsTable, renderErrorsTable, type RecordedObservation } from '../src/index';

const observation = (backend: string, method: string, input: string, outcome: string): RecordedObservation => ({ backend, method, input, outcome });

// Three families, names with commas, a row where backends differ, and a size row only two backends run.
const OBSERVATIONS: RecordedObservation[] = [
  ...['locmem', 'memcached text, 1 server', 'memcached binary, 1 server', 'redis single server, RESP2'].flatMap((backend) => [
    observation(backend, 'get', 'key: a number', 'rejects InvalidCacheKey'),
    observation(backend, 'ttl', "key: '' (empty)", backend === 'memcached binary, 1 server' ? 'rejects NotSupportedError' : '→ undefined'),
    observation(backend, 'get', 'key: with spaces', backend.startsWith('memcached') ? 'rejects InvalidCacheKey' : 'CacheKeyWarning, → undefined'),
    observation(backend, 'set', 'timeout: NaN', 'rejects TypeError, nothing stored'),
  ]),
  observation('memcached text, 1 server', 'set', 'value: over the item size limit', 'rejects ValueTooLargeError, nothing stored'),
  observation('memcached binary, 1 server', 'set', 'value: over the item size limit', 'rejects ValueTooLargeError, nothing stored'),
];

describe('the errors table', () => {
  const page = renderErrorsTable(OBSERVATIONS);

  it('names a whole family of backends briefly and the others by name, and the rest as elsewhere', () => {
    expect(page).toContain('| key: with spaces | `get` | every memcached: rejects InvalidCacheKey<br>elsewhere: CacheKeyWarning, → undefined |');
    expect(page).toContain("| key: '' (empty) | `ttl` | memcached binary, 1 server: rejects NotSupportedError<br>elsewhere: → undefined |");
    expect(page).toContain('| key: a number | `get` | rejects InvalidCacheKey |');
    expect(page).toContain('Not run (no item size limit declared to the suite): every locmem; every redis.');
  });

  it('reads back every observation it shows, so a test can compare a backend with the page', () => {
    const sortKey = (o: RecordedObservation) => `${o.backend}|${o.method}|${o.input}`;
    const sorted = (list: RecordedObservation[]) => [...list].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    expect(sorted(parseErrorsTable(page))).toEqual(sorted(OBSERVATIONS));
  });
});
