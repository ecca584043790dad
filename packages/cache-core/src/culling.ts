import type { OptionDeclaration } from './known-names';
import { describe } from './timeouts';

/** Options of the backends that cull (locmem, file, SQL): Django's MAX_ENTRIES and CULL_FREQUENCY. */
export interface CullingOptions {
  /** Entries the cache holds before it culls. Default 300. */
  maxEntries?: number;
  /** The fraction culled is 1/cullFrequency; 0 clears the whole cache. Default 3. */
  cullFrequency?: number;
}

/** The culling options, for a backend's `declareOptions` (`{ ...CULLING_OPTIONS, serializer: 'url' }`). */
export const CULLING_OPTIONS: OptionDeclaration<CullingOptions> = { maxEntries: 'url', cullFrequency: 'url' };

export const DEFAULT_MAX_ENTRIES = 300;
export const DEFAULT_CULL_FREQUENCY = 3;

function integerOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new TypeError(`Cache option ${name} must be an integer; got ${describe(value)}`);
  }
  return number;
}

export function readCullingOptions(options: CullingOptions | undefined): Required<CullingOptions> {
  const cullFrequency = integerOption('cullFrequency', options?.cullFrequency, DEFAULT_CULL_FREQUENCY);
  if (cullFrequency < 0) throw new RangeError(`Cache option cullFrequency must be 0 or more; got ${cullFrequency}`);
  return { maxEntries: integerOption('maxEntries', options?.maxEntries, DEFAULT_MAX_ENTRIES), cullFrequency };
}

/** How many of `entryCount` entries one cull removes: all of them when `cullFrequency` is 0. */
export function cullCount(entryCount: number, cullFrequency: number): number {
  return cullFrequency === 0 ? entryCount : Math.floor(entryCount / cullFrequency);
}
