import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CacheParams } from '@cachette/cache-core';
import { badInputCells, observeCells, parseErrorsTable, registerConformanceSuite, renderErrorsTable, type Capabilities, type ConformanceTarget } from '@cachette/cache-conformance';
import { LocMemCache } from './index';

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

const capabilities: Partial<Capabilities> = {
  // Single-threaded: an increment reads and writes in one synchronous step that nothing interleaves.
  atomicIncr: true,
  culling: { afterCull: 29, afterZeroCull: 19 },
  timeoutGranularity: 0.5,
};

/** A locmem target under one serializer, over its own store. */
function locmemTarget(name: string, serializer: Capabilities['values']): ConformanceTarget {
  return {
    name,
    // With another serializer every value goes through it, immutable ones included.
    createCache: (params: CacheParams) =>
      new LocMemCache({ location: `conformance-${serializer}`, ...params, options: { serializer, ...params.options } }),
    capabilities: { ...capabilities, values: serializer },
  };
}

const TARGETS = [
  locmemTarget('locmem', 'v8'),
  locmemTarget('locmem with the json serializer', 'json'),
  // Django's LocMemCache pickles every value: the same values, copied the same way.
  locmemTarget('locmem with the pickle serializer', 'pickle'),
];

for (const target of TARGETS) registerConformanceSuite(api, target);

describe('docs/errors.md', () => {
  // Read by each test, so a missing file fails the tests instead of the collection of this file.
  const page = (): string => readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  for (const target of TARGETS) {
    it(`shows what the bad-input tests observe on ${target.name} (regenerate it with pnpm errors-table)`, async () => {
      const cache = await target.createCache({ location: `errors-table-${target.name}` });
      const identity = (name: string): string => name;
      const observed = await observeCells(cache, badInputCells(identity), { key: identity });
      const shown = parseErrorsTable(page())
        .filter((observation) => observation.backend === target.name)
        .map(({ backend: _, ...observation }) => observation);
      expect(observed).toEqual(shown);
    });
  }

  it('is exactly what pnpm errors-table renders from the outcomes it shows (not edited by hand)', () => {
    expect(page()).toBe(renderErrorsTable(parseErrorsTable(page())));
  });
});
