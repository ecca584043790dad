import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BaseCache, CacheParams } from './base-cache';
import { InvalidCacheBackendError } from './errors';
import type { KnownOptions } from './known-names';
import type { ParsedCacheUrl } from './urls';

/** A backend class: constructed with the cache's parameters, optionally able to read its own URLs. */
export interface CacheBackendClass {
  new (params: CacheParams): BaseCache;
  /** Refines the parameters read from a URL (location, options). */
  paramsFromUrl?(parsed: ParsedCacheUrl, common: CacheParams): CacheParams;
  /** The options and URL query parameters the backend knows (see `declareOptions`); others are refused. */
  readonly knownOptions?: KnownOptions;
  /** The backend accepts `options.tracking` (a `ChangeTracking`): its store announces changed keys. */
  readonly supportsChangeTracking?: boolean;
}

/**
 * A backend class, or a module specifier resolved from the application: `'@cachette/cache-redis'`
 * (the module's default export, or its only exported cache class), `'./my-cache.js#MyCache'`.
 */
export type BackendReference = string | CacheBackendClass;

function isBackendClass(value: unknown): value is CacheBackendClass {
  return typeof value === 'function' && typeof (value as { prototype?: { makeAndValidateKey?: unknown } }).prototype?.makeAndValidateKey === 'function';
}

function pickBackend(module: Record<string, unknown>, reference: string, exportName: string | undefined): CacheBackendClass {
  if (exportName !== undefined) {
    const named = module[exportName];
    if (isBackendClass(named)) return named;
    throw new InvalidCacheBackendError(`Could not find backend '${reference}': the module has no cache class exported as '${exportName}'`);
  }
  if (isBackendClass(module.default)) return module.default;
  const classes = Object.entries(module).filter(([, value]) => isBackendClass(value));
  if (classes.length === 1) return classes[0]![1] as CacheBackendClass;
  const names = classes.map(([name]) => name).join(', ') || 'none';
  throw new InvalidCacheBackendError(
    `Could not find backend '${reference}': name the class as '${reference}#ClassName' (cache classes exported: ${names})`,
  );
}

function splitReference(reference: string): [string, string | undefined] {
  const hash = reference.lastIndexOf('#');
  return hash > 0 ? [reference.slice(0, hash), reference.slice(hash + 1)] : [reference, undefined];
}

/**
 * Loads a backend synchronously. Module specifiers resolve from `resolveFrom` (the application's
 * directory, by default the working directory), never from this package's folder: under pnpm,
 * cache-core cannot see the application's dependencies.
 */
export function loadBackend(reference: BackendReference, resolveFrom: string = process.cwd()): CacheBackendClass {
  if (typeof reference !== 'string') {
    if (isBackendClass(reference)) return reference;
    throw new InvalidCacheBackendError('A cache backend is a class extending BaseCache or a module specifier string');
  }
  const [specifier, exportName] = splitReference(reference);
  let module: Record<string, unknown>;
  try {
    module = createRequire(join(resolveFrom, 'noop.js'))(specifier) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidCacheBackendError(`Could not find backend '${reference}': ${(error as Error).message}`, { cause: error });
  }
  return pickBackend(module, reference, exportName);
}

/** Like `loadBackend`, but also loads ES-module-only backends on Node versions whose `require` cannot. */
export async function importBackend(reference: BackendReference, resolveFrom: string = process.cwd()): Promise<CacheBackendClass> {
  try {
    return loadBackend(reference, resolveFrom);
  } catch (error) {
    const code = ((error as Error).cause as { code?: string } | undefined)?.code;
    if (typeof reference !== 'string' || code !== 'ERR_REQUIRE_ESM') throw error;
    const [specifier, exportName] = splitReference(reference);
    const resolved = createRequire(join(resolveFrom, 'noop.js')).resolve(specifier);
    const module = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    return pickBackend(module, reference, exportName);
  }
}
