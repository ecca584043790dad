import { InvalidCacheKey, type BaseCache } from '@cachette/cache-core';
import { keyWarningsOf } from '../expectations';

/** One cell of the bad-input matrix as observed: a public method given one kind of bad input. */
export interface Observation {
  method: string;
  input: string;
  /** What happened, in the words of `docs/errors.md`: `rejects InvalidCacheKey, nothing stored`. */
  outcome: string;
}

/** How a test reaches the store: the keys it uses, and optionally a count read behind the cache's back. */
export interface StoreAccess {
  /** The key a test uses for `name` (a unique one where `clear()` does not empty the store). */
  key: (name: string) => string;
  /** How many entries the store holds, read with a raw client, a directory listing or SQL. */
  storedEntryCount?: (() => Promise<number>) | undefined;
}

/** What one cell does: the call, and the caller keys whose presence afterwards tells what it wrote. */
export interface Cell {
  method: string;
  input: string;
  run: (cache: BaseCache) => Promise<unknown>;
  probes: readonly unknown[];
  /** Keys stored before the call (`touch` needs a key to act on). */
  seeds?: readonly string[];
}

const SYNC_THROW = Symbol('threw synchronously');

function describeValue(value: unknown): string {
  if (value instanceof Map) return `Map(${value.size})`;
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : `a non-Error ${typeof error}`;
}

/** Calls `run`, turning a synchronous throw (a bug in a method that returns a Promise) into its own outcome. */
function settle(run: () => Promise<unknown>): Promise<PromiseSettledResult<unknown>> {
  let pending: Promise<unknown>;
  try {
    pending = run();
  } catch (error) {
    return Promise.resolve({ status: 'rejected', reason: { [SYNC_THROW]: error } });
  }
  return Promise.allSettled([pending]).then(([result]) => result!);
}

function describeSettlement(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return `→ ${describeValue(result.value)}`;
  const reason = result.reason as { [SYNC_THROW]?: unknown };
  if (typeof reason === 'object' && reason !== null && SYNC_THROW in reason) return `throws ${errorName(reason[SYNC_THROW])} synchronously`;
  return `rejects ${errorName(result.reason)}`;
}

/** Whether `key` is stored, asked through the cache; a key it cannot even make was never stored. */
async function isStored(cache: BaseCache, key: unknown): Promise<boolean> {
  try {
    return await cache.hasKey(key as string);
  } catch (error) {
    if (error instanceof InvalidCacheKey) return false;
    throw error;
  }
}

function describeStored(present: number, probes: number): string {
  if (probes === 0) return '';
  if (present === 0) return ', nothing stored';
  return present === probes ? ', stored' : `, stored ${present} of ${probes}`;
}

async function removeQuietly(cache: BaseCache, keys: readonly unknown[]): Promise<void> {
  for (const key of keys) if (typeof key === 'string') await cache.delete(key).catch(() => undefined);
}

/**
 * Runs one cell and says what happened: the warning, the answer or error, what is stored
 * afterwards (through the cache), and, where the store can be read behind the cache's back, any
 * entry a rejected call left written. Cleans up what the cell stored.
 */
export async function observeCell(cache: BaseCache, cell: Cell, store: StoreAccess): Promise<Observation> {
  let outcome = '';
  await keyWarningsOf(async () => {
    for (const key of cell.seeds ?? []) await cache.set(key, 'seed');
    const before = await store.storedEntryCount?.();
    let result: PromiseSettledResult<unknown> | undefined;
    const warnings = await keyWarningsOf(async () => {
      result = await settle(() => cell.run(cache));
    });
    const after = await store.storedEntryCount?.();
    let present = 0;
    for (const key of cell.probes) if (await isStored(cache, key)) present++;
    const warned = warnings.length > 0 ? 'CacheKeyWarning, ' : '';
    outcome = `${warned}${describeSettlement(result!)}${describeStored(present, cell.probes.length)}`;
    if (result!.status === 'rejected' && before !== after) outcome += `, but the store's entry count went from ${before} to ${after} behind the cache's back`;
    await removeQuietly(cache, [...cell.probes, ...(cell.seeds ?? [])]);
  });
  return { method: cell.method, input: cell.input, outcome };
}
