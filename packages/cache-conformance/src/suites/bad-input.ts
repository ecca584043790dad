import { appendFileSync } from 'node:fs';
import type { BaseCache } from '@cachette/cache-core';
import { collectionCells, keyCells, oversizedValueCells, timeoutCells, valueCells, type ExpectedCell } from '../bad-input/cells';
import { observeCell, type Observation, type StoreAccess } from '../bad-input/outcome';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

/** Set to a file path to have every observation appended to it (JSON Lines), for `docs/errors.md`. */
export const ERRORS_TABLE_ENV = 'CACHETTE_ERRORS_TABLE';

/** What each cell does on `cache`, in order. */
export async function observeCells(cache: BaseCache, cells: readonly ExpectedCell[], store: StoreAccess): Promise<Observation[]> {
  const observations: Observation[] = [];
  for (const cell of cells) observations.push(await observeCell(cache, cell, store));
  return observations;
}

function record(backend: string, observations: readonly Observation[]): void {
  const path = process.env[ERRORS_TABLE_ENV];
  if (!path) return;
  // One append per test: concurrent test files append whole lines, which do not interleave.
  appendFileSync(path, observations.map((observation) => `${JSON.stringify({ backend, ...observation })}\n`).join(''));
}

/** Observes `cells`, records them when asked, and checks each against what the suite requires. */
async function checkCells(suite: SuiteContext, cells: readonly ExpectedCell[]): Promise<void> {
  const observations = await observeCells(await suite.cache(), cells, { key: suite.key, storedEntryCount: suite.target.storedEntryCount });
  record(suite.target.name, observations);
  const describeCell = (cell: { method: string; input: string }, outcome: string) => `${cell.method} with ${cell.input}: ${outcome}`;
  suite.expect(observations.map((observation) => describeCell(observation, observation.outcome))).toEqual(
    cells.map((cell) => describeCell(cell, cell.expected(suite.capabilities))),
  );
}

/**
 * Every public method with keys, collections, timeouts and values it cannot take: each gets a
 * typed rejection or a `CacheKeyWarning`, and a refused call writes nothing, checked through the
 * cache and, when the target can count entries behind its back (`storedEntryCount`), in the store.
 */
export function registerBadInputTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'bad input', (suite) => {
    const { key } = suite;
    const { maxValueBytes } = suite.capabilities;

    suite.test('bad keys: non-strings reject with InvalidCacheKey, memcached-unsafe keys warn (or reject on strict backends)', () =>
      checkCells(suite, keyCells(key)),
    );

    suite.test('key collections that are not collections reject with TypeError and store nothing', () => checkCells(suite, collectionCells()));

    suite.test('odd timeouts: NaN and strings reject with TypeError; Infinity never expires; negative ones store nothing', () =>
      checkCells(suite, timeoutCells(key)),
    );

    suite.test(`values the ${suite.capabilities.values} serializer cannot store reject with SerializationError, with nothing written half-way`, () =>
      checkCells(suite, valueCells(key)),
    );

    suite.test(`a value over the item size limit (capabilities.maxValueBytes = ${maxValueBytes}) rejects with ValueTooLargeError, with nothing written half-way`, () =>
      checkCells(suite, oversizedValueCells(key, maxValueBytes!)),
    { skip: maxValueBytes === undefined ? 'capabilities.maxValueBytes is undefined: the backend has no item size limit of its own' : undefined });
  });
}
