import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BaseCache, CacheParams } from '@cachette/cache-core';
import { DEFAULT_CAPABILITIES, resolveCapabilities, type Capabilities, type ConformanceTarget } from '@cachette/cache-conformance';
import { UsageError } from '../cli-error';

type CacheClass = new (params: CacheParams) => BaseCache;
type CacheFactory = (params: CacheParams) => BaseCache | Promise<BaseCache>;

export interface TargetRequest {
  /** A path (`./my-cache.js`) or a package name (`my-cache`, `@cachette/cache-locmem`). */
  specifier: string;
  /** The export to test; by default the default export, else the module's only cache class or target. */
  exportName?: string | undefined;
  /** `--capability name=value` pairs, over what the module declares. */
  capabilityArguments: readonly string[];
  /** The location a cache class is given (a factory or target picks its own). */
  location: string;
  cwd: string;
}

function isCacheClass(value: unknown): value is CacheClass {
  return typeof value === 'function' && typeof (value as { prototype?: { makeAndValidateKey?: unknown } }).prototype?.makeAndValidateKey === 'function';
}

function isTarget(value: unknown): value is Partial<ConformanceTarget> & Pick<ConformanceTarget, 'createCache'> {
  return typeof value === 'object' && value !== null && typeof (value as { createCache?: unknown }).createCache === 'function';
}

function isTestable(value: unknown): boolean {
  return isCacheClass(value) || isTarget(value) || typeof value === 'function';
}

async function importModule(specifier: string, cwd: string): Promise<Record<string, unknown>> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  let file: string;
  try {
    file = isPath ? resolve(cwd, specifier) : createRequire(join(cwd, 'noop.js')).resolve(specifier);
  } catch (error) {
    throw new UsageError(`Cannot find module '${specifier}' from ${cwd}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(file)) throw new UsageError(`Cannot find module '${specifier}' (${file})`, { cause: error });
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') throw new UsageError(`Node cannot load '${file}' as it is: compile it first, or run cachette under a loader (node --import tsx …)`, { cause: error });
    throw error;
  }
}

/** The export under test: the named one, the default one, or the only testable export. */
function pickExport(module: Record<string, unknown>, request: TargetRequest): [string, unknown] {
  if (request.exportName !== undefined) {
    if (!isTestable(module[request.exportName])) throw new UsageError(`'${request.specifier}' exports no cache class, factory or target named '${request.exportName}'`);
    return [request.exportName, module[request.exportName]];
  }
  if (isTestable(module.default)) return ['default', module.default];
  const testable = Object.entries(module).filter(([name, value]) => name !== 'capabilities' && (isCacheClass(value) || isTarget(value)));
  const factory = module.createCache;
  if (testable.length === 0 && typeof factory === 'function') return ['createCache', factory];
  if (testable.length === 1) return testable[0]!;
  const names = testable.map(([name]) => name).join(', ') || 'none';
  throw new UsageError(`Name the export to test with --export (cache classes and targets exported by '${request.specifier}': ${names})`);
}

/** `name=value`: the value as JSON when it parses (`true`, `250`, `{"afterCull":29,…}`), else as text (`values=json`). */
export function parseCapabilityArguments(pairs: readonly string[]): Partial<Capabilities> {
  const declared: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const name = equals > 0 ? pair.slice(0, equals) : '';
    if (!(name in DEFAULT_CAPABILITIES)) {
      throw new UsageError(`--capability takes name=value with name one of ${Object.keys(DEFAULT_CAPABILITIES).join(', ')}; got '${pair}'`);
    }
    const text = pair.slice(equals + 1);
    try {
      declared[name] = JSON.parse(text) as unknown;
    } catch {
      declared[name] = text;
    }
  }
  return declared as Partial<Capabilities>;
}

function capabilitiesOf(declared: Partial<Capabilities>, overrides: Partial<Capabilities>): Capabilities {
  try {
    return resolveCapabilities({ ...declared, ...overrides });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/**
 * The conformance target a module describes: a `BaseCache` subclass (constructed with the suite's
 * params and `location`), a factory taking the suite's params, or a `{ name, createCache,
 * capabilities }` target. A named `capabilities` export applies to the first two forms.
 */
export async function loadTarget(request: TargetRequest): Promise<ConformanceTarget & { capabilities: Capabilities }> {
  const module = await importModule(request.specifier, request.cwd);
  const [exportName, value] = pickExport(module, request);
  const overrides = parseCapabilityArguments(request.capabilityArguments);
  const moduleCapabilities = (module.capabilities ?? {}) as Partial<Capabilities>;
  if (isTarget(value)) {
    return {
      name: value.name ?? request.specifier,
      createCache: value.createCache.bind(value),
      capabilities: capabilitiesOf(value.capabilities ?? moduleCapabilities, overrides),
      ...(value.storedEntryCount && { storedEntryCount: value.storedEntryCount.bind(value) }),
    };
  }
  const capabilities = capabilitiesOf(moduleCapabilities, overrides);
  if (isCacheClass(value)) {
    const location = request.location;
    return { name: value.name || request.specifier, createCache: (params) => new value({ location, ...params }), capabilities };
  }
  const factory = value as CacheFactory;
  return { name: exportName === 'default' ? request.specifier : exportName, createCache: (params) => factory(params), capabilities };
}
