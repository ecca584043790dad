import type { CacheParams } from './base-cache';
import { InvalidCacheBackendError, UnknownCacheOptionError } from './errors';
import { redactUrlPassword, type ParsedCacheUrl } from './urls';

/**
 * How an option can be given: `'url'` when a URL's query can carry it too (text, numbers,
 * booleans), `'object'` when only a configuration object can (clients, functions, nested objects).
 */
export type OptionSource = 'url' | 'object';

/**
 * Every option of an options interface, and how it can be given. A record of the interface's
 * keys, so an option added to the interface but not declared is a type error, and so is a
 * declared name the interface lacks.
 */
export type OptionDeclaration<T> = { readonly [K in keyof Required<T>]: OptionSource };

/** The names a backend knows: its `options`, and the query parameters of its URLs. */
export interface KnownOptions {
  /** Option names, as configuration objects spell them (camelCase), sorted. */
  readonly options: readonly string[];
  /** The options a URL's query can carry, camelCase. */
  readonly urlOptions: readonly string[];
  /** What a URL of `scheme` may carry besides the common parameters, as URLs spell them (snake_case). */
  urlParameters(scheme: string): readonly string[];
}

const CACHE_PARAMS: { readonly [K in keyof Required<CacheParams>]: true } = {
  location: true,
  timeout: true,
  keyPrefix: true,
  version: true,
  keyFunction: true,
  options: true,
  stats: true,
};

/** The keys of `CacheParams`, every backend's top-level settings. */
export const CACHE_PARAM_NAMES: readonly string[] = Object.keys(CACHE_PARAMS);

/** The query parameters every cache URL may carry (read by `commonParamsFromUrl`). */
export const COMMON_URL_PARAMETERS: readonly string[] = ['timeout', 'key_prefix', 'version', 'stats'];

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * A backend's known names, from its options declaration; `moreUrlParameters` adds what its URLs
 * carry that is not an option (a database driver's own parameters, per scheme).
 */
export function declareOptions<T>(declaration: OptionDeclaration<T>, moreUrlParameters: (scheme: string) => readonly string[] = () => []): KnownOptions {
  const entries = Object.entries(declaration) as Array<[string, OptionSource]>;
  const urlOptions = entries.filter(([, source]) => source === 'url').map(([name]) => name);
  const optionParameters = urlOptions.map(snakeCase);
  return {
    options: entries.map(([name]) => name).sort(),
    urlOptions,
    urlParameters: (scheme) => [...new Set([...optionParameters, ...moreUrlParameters(scheme)])].sort(),
  };
}

/** Case and underscores do not make names different enough to count as a typo's distance. */
function comparable(name: string): string {
  return name.toLowerCase().replace(/_/g, '');
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const replace = rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, replace);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name nearest to `name`, when it is within about one edit in three characters (a likely typo). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let nearest: string | undefined;
  let nearestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(comparable(name), comparable(candidate));
    if (distance < nearestDistance) [nearest, nearestDistance] = [candidate, distance];
  }
  return nearest;
}

/** Throws `UnknownCacheOptionError` for the first of `names` that `isKnown` refuses. */
function refuseUnknown(names: Iterable<string>, known: readonly string[], where: { kind: string; place: string }, isKnown = (name: string) => known.includes(name)): void {
  for (const name of names) {
    if (!isKnown(name)) throw new UnknownCacheOptionError(name, known, nearestName(name, known), where);
  }
}

/** Refuses keys of a cache setting or of a backend's parameters that are not in `known`. */
export function checkSettingKeys(setting: object, known: readonly string[], place: string): void {
  refuseUnknown(Object.keys(setting), known, { kind: 'key', place });
}

/** Refuses `options` that are not an object, or that name an option the backend does not know. */
export function checkOptionNames(options: unknown, known: KnownOptions, backendName: string): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new InvalidCacheBackendError(`${backendName} options must be an object; got ${typeof options}`);
  refuseUnknown(Object.keys(options), known.options, { kind: 'option', place: `for ${backendName}` });
}

/**
 * Refuses query parameters of a cache URL that are neither common ones nor known to the backend.
 * A parameter may be spelled as the list has it (`key_prefix`) or camel-cased (`keyPrefix`).
 * `common` is what every URL takes besides; a backend's `location` URL, which the cache's own
 * parameters do not reach, passes `[]`.
 */
export function checkUrlParameters(url: Pick<ParsedCacheUrl, 'url' | 'scheme' | 'query'>, known: KnownOptions, common = COMMON_URL_PARAMETERS): void {
  const names = [...common, ...known.urlParameters(url.scheme)];
  const isKnown = (name: string): boolean => names.includes(name) || names.includes(snakeCase(name));
  refuseUnknown(url.query.keys(), names, { kind: 'query parameter', place: `in the cache URL '${redactUrlPassword(url.url)}'` }, isKnown);
}
