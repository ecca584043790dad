import { resolve } from 'node:path';
import fc from 'fast-check';
import { throwsOnly } from '@cachette/test-servers/fuzz';
import { describe, expect, it } from 'vitest';
import { InvalidCacheBackendError, commonParamsFromUrl, parseCacheUrl } from '@cachette/cache-core';
import { FileCache } from '../src/index';

const RUNS = 2000;

/** The directory a file cache URL names, as FileCache reads it (options aside: they have tests of their own). */
function directoryOf(url: string): string {
  const parsed = parseCacheUrl(url);
  const { location } = FileCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed));
  return new FileCache({ location }).directory;
}

/** Pieces of file URLs, relative paths and broken escapes included, in any order. */
const fileUrlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('file://', 'file:///', 'file:', '/', '.', '..', '~', '?', '#', '&', '=', 'max_entries=3'),
      fc.constantFrom('%', '%zz', '%E0', '%2F', '%00', '%20', 'C:', '\\'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

describe('fuzzing file cache URLs', () => {
  it('any string gives a directory or InvalidCacheBackendError (never a URIError or TypeError)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fileUrlSoup), (url) => throwsOnly(InvalidCacheBackendError, () => directoryOf(url))),
      { numRuns: RUNS },
    );
  });

  it('a written URL reads back its directory, whatever characters the path holds', () => {
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const url = `file://${segments.map((part) => `/${encodeURIComponent(part)}`).join('')}?max_entries=10`;
        expect(directoryOf(url)).toBe(resolve(`/${segments.join('/')}`));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(['file://relative/dir', 'file://', 'file:///tmp/%zz', 'file:cache'])('rejects %s with InvalidCacheBackendError', (url) => {
    expect(() => directoryOf(url)).toThrow(InvalidCacheBackendError);
  });
});
