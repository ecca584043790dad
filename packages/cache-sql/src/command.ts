import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { commonParamsFromUrl, parseCacheUrl, type CacheParams } from '@cachette/cache-core';
import { createCacheTable } from './create-cache-table';
import { SqlCache, cacheTableOf, type SqlCacheParams } from './sql-cache';

export const USAGE = `Usage:
  cachette createcachetable --url <database-url> [--table <name>] [--dry-run]
  cachette createcachetable --config <file> [--table <name>] [--database <name>] [--dry-run]

Creates the cache tables that are missing, with their index; existing tables are left alone.
  --url       a sqlite://, postgres:// or mysql:// URL (cache options may ride in its query: ?table=t)
  --config    a JSON file or a JS module exporting cache settings by alias (or { caches: … }):
              URLs, or objects whose backend is '@cachette/cache-sql' or whose location is a database URL
  --table     the table to create (default cachette_cache); with --config, only that table
  --database  only that database of each cache ('default' is its location; others are named by
              options.databases or options.replicas); without it, every database whose router
              allows the table (allowMigrate), saying which it skipped
  --dry-run   print the SQL instead of running it`;

export interface CommandOutput {
  out: (line: string) => void;
  error: (line: string) => void;
}

/** A usage mistake: reported with the usage text and exit code 2. */
class UsageError extends Error {}

const SQL_SCHEMES = new Set(['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb']);

function isSqlUrl(value: unknown): value is string {
  return typeof value === 'string' && SQL_SCHEMES.has(/^([a-z0-9+.-]+):/i.exec(value)?.[1]?.toLowerCase() ?? '');
}

function paramsFromUrl(url: string): SqlCacheParams {
  const parsed = parseCacheUrl(url);
  return SqlCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed));
}

/** The SQL caches among a config's settings: URLs with a database scheme, and objects naming this backend or a database URL. */
function sqlCacheSettings(settings: Record<string, unknown>): SqlCacheParams[] {
  const found: SqlCacheParams[] = [];
  for (const setting of Object.values(settings)) {
    if (isSqlUrl(setting)) found.push(paramsFromUrl(setting));
    else if (typeof setting === 'object' && setting !== null) {
      const { backend, ...params } = setting as CacheParams & { backend?: unknown };
      const isSqlBackend = backend === '@cachette/cache-sql' || backend === SqlCache || (typeof backend === 'function' && backend.name === 'SqlCache');
      if (isSqlBackend || (backend === undefined && isSqlUrl(params.location))) found.push(params);
    }
  }
  return found;
}

async function importSettings(path: string): Promise<unknown> {
  if (path.endsWith('.json')) return JSON.parse(await readFile(path, 'utf8'));
  const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  return module.default ?? module;
}

async function loadConfig(file: string, cwd: string): Promise<Record<string, unknown>> {
  const loaded = await importSettings(resolve(cwd, file));
  const settings = (loaded as { caches?: unknown } | null)?.caches ?? loaded;
  if (typeof settings !== 'object' || settings === null) throw new UsageError(`${file} exports no cache settings`);
  return settings as Record<string, unknown>;
}

async function settingsToCreate(values: { url?: string; config?: string; table?: string }, cwd: string): Promise<SqlCacheParams[]> {
  if ((values.url === undefined) === (values.config === undefined)) throw new UsageError('Give either --url or --config.');
  if (values.url !== undefined) {
    if (!isSqlUrl(values.url)) throw new UsageError(`--url must be a sqlite://, postgres:// or mysql:// URL; got '${values.url}'`);
    const params = paramsFromUrl(values.url);
    return [values.table === undefined ? params : { ...params, options: { ...params.options, table: values.table } }];
  }
  const found = sqlCacheSettings(await loadConfig(values.config!, cwd));
  const selected = values.table === undefined ? found : found.filter((params) => (params.options?.table ?? 'cachette_cache') === values.table);
  if (selected.length === 0) throw new UsageError(`${values.config} configures no SQL cache${values.table ? ` with table '${values.table}'` : ''}.`);
  return selected;
}

/** The caches that have the `--database` asked for (all of them without it). */
function withDatabase(selected: SqlCacheParams[], database: string | undefined): SqlCacheParams[] {
  if (database === undefined) return selected;
  const having = selected.filter((params) => cacheTableOf(params).routes.names.includes(database));
  if (having.length === 0) throw new UsageError(`No SQL cache selected has a database '${database}'.`);
  return having;
}

/**
 * `cachette createcachetable …`, given the arguments after the command name; returns the exit
 * code. `@cachette/cli` runs it; its output goes through `output` so callers can capture it.
 */
export async function createCacheTableCommand(argv: readonly string[], output: CommandOutput, cwd = process.cwd()): Promise<number> {
  try {
    const { positionals, values } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        config: { type: 'string' },
        table: { type: 'string' },
        database: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      output.out(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals.join(' ')}`);
    for (const params of withDatabase(await settingsToCreate(values, cwd), values.database)) {
      await createCacheTable(params, { dryRun: values['dry-run'], database: values.database, log: output.out });
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.error(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    output.error((error as Error).message);
    return 1;
  }
}

