import { CacheConnectionError, CacheTimeoutError, NotSupportedError, redactUrlPassword, type BaseCache } from '@cachette/cache-core';
import { CliError, ExitCode, UsageError } from '../cli-error';
import { flagOption, stringOption, type OptionSpec, type OptionValues } from '../command-options';
import type { CommandContext } from '../output';
import { defineCommand, type Command } from '../commands/command';
import { openCache } from './open-cache';
import { describeExpiry, parseDelta, parseTimeoutOption, parseValueArgument, presentValue } from './values';

/** What an operation found: a line for a person, an object for `--json`, and whether it is a failure. */
interface Outcome {
  text: string;
  json: Record<string, unknown>;
  /** A missing key, a refused confirmation: the text goes to stderr and the exit code is 1. */
  failed?: boolean;
}

interface Invocation {
  cache: BaseCache;
  url: string;
  /** The positionals after the URL. */
  args: string[];
  values: OptionValues;
  context: CommandContext;
}

interface StoreOperation {
  name: string;
  summary: string;
  /** The positionals after `<url>`, for the usage line. */
  argumentsUsage: string;
  /** How many positionals after the URL it takes. */
  arity: readonly [min: number, max: number];
  options?: readonly OptionSpec[];
  perform(invocation: Invocation): Promise<Outcome>;
}

const TIMEOUT_OPTION: OptionSpec = {
  name: 'timeout',
  config: { type: 'string' },
  synopsis: '--timeout <seconds|none>',
  help: "how long the value stays (default: the cache's timeout, 300 s unless the URL says ?timeout=)",
};

const JSON_OPTION: OptionSpec = { name: 'json', config: { type: 'boolean' }, synopsis: '--json', help: 'print the result as one JSON object' };

function timeoutOf(cache: BaseCache, values: OptionValues): number | null {
  const given = parseTimeoutOption(stringOption(values, 'timeout'));
  return given === undefined ? cache.defaultTimeout : given;
}

const missing = (key: string): Outcome => ({ text: `No value for '${key}'.`, json: { key, found: false }, failed: true });

/** `get`'s default: a value no backend can hold, so a stored `undefined` or `null` still reads as found. */
const MISSING_MARK = Symbol('missing');

const OPERATIONS: StoreOperation[] = [
  {
    name: 'get',
    summary: 'print the value of a key',
    argumentsUsage: '<key>',
    arity: [1, 1],
    async perform({ cache, args: [key] }) {
      const found = await cache.get<unknown>(key!, MISSING_MARK);
      if (found === MISSING_MARK) return missing(key!);
      const { text, json } = presentValue(found);
      return { text, json: { key, found: true, ...json } };
    },
  },
  {
    name: 'set',
    summary: 'store a value (JSON when it parses as JSON, else the text)',
    argumentsUsage: '<key> <value>',
    arity: [2, 2],
    options: [TIMEOUT_OPTION, { name: 'string', config: { type: 'boolean' }, synopsis: '--string', help: 'store <value> as text even when it parses as JSON' }],
    async perform({ cache, args: [key, text], values }) {
      const timeout = timeoutOf(cache, values);
      await cache.set(key!, parseValueArgument(text!, flagOption(values, 'string')), timeout);
      return { text: `Stored '${key}' (${describeExpiry(timeout)}).`, json: { key, stored: true, timeout } };
    },
  },
  {
    name: 'delete',
    summary: 'delete a key',
    argumentsUsage: '<key>',
    arity: [1, 1],
    async perform({ cache, args: [key] }) {
      const deleted = await cache.delete(key!);
      return deleted ? { text: `Deleted '${key}'.`, json: { key, deleted } } : { ...missing(key!), json: { key, deleted } };
    },
  },
  {
    name: 'touch',
    summary: 'give a key a new timeout',
    argumentsUsage: '<key>',
    arity: [1, 1],
    options: [TIMEOUT_OPTION],
    async perform({ cache, args: [key], values }) {
      const timeout = timeoutOf(cache, values);
      const touched = await cache.touch(key!, timeout);
      return touched ? { text: `Touched '${key}' (${describeExpiry(timeout)}).`, json: { key, touched, timeout } } : { ...missing(key!), json: { key, touched } };
    },
  },
  {
    name: 'ttl',
    summary: 'print how long a key has left',
    argumentsUsage: '<key>',
    arity: [1, 1],
    async perform({ cache, args: [key] }) {
      const ttl = await cache.ttl(key!);
      if (ttl === undefined) return missing(key!);
      const seconds = ttl === null ? null : Math.round(ttl * 1000) / 1000;
      return { text: `'${key}' ${describeExpiry(seconds)}.`, json: { key, found: true, ttl: seconds } };
    },
  },
  {
    name: 'incr',
    summary: 'add to an integer value (options first, then -- before a negative delta)',
    argumentsUsage: '<key> [delta]',
    arity: [1, 2],
    async perform({ cache, args: [key, delta] }) {
      const value = await cache.incr(key!, parseDelta(delta));
      return { text: String(value), json: { key, value } };
    },
  },
  {
    name: 'clear',
    summary: 'delete every key of the store, after asking',
    argumentsUsage: '',
    arity: [0, 0],
    options: [{ name: 'yes', config: { type: 'boolean', short: 'y' }, synopsis: '-y, --yes', help: 'clear without asking' }],
    async perform({ cache, url, values, context }) {
      const question = `Clear every key of ${redactUrlPassword(url)}? Other applications' keys in the same store go too. [y/N] `;
      if (!flagOption(values, 'yes') && !(await context.confirm(question))) {
        return { text: 'Nothing cleared.', json: { cleared: false }, failed: true };
      }
      await cache.clear();
      return { text: `Cleared ${redactUrlPassword(url)}.`, json: { cleared: true } };
    },
  },
  {
    name: 'stats',
    summary: "print the cache's settings and what its store reports",
    argumentsUsage: '',
    arity: [0, 0],
    async perform({ cache, url }) {
      const settings = { backend: cache.constructor.name, url: redactUrlPassword(url), keyPrefix: cache.keyPrefix, version: cache.version, timeout: cache.defaultTimeout };
      const store = await cache.storeStats().catch((error: unknown) => {
        if (error instanceof NotSupportedError) return undefined;
        throw error;
      });
      const storeText = store === undefined ? `${settings.backend} reports nothing about its store.` : `Store:\n${formatTable(store)}`;
      return { text: `${formatTable(settings)}\n\n${storeText}`, json: { ...settings, store: store ?? null } };
    },
  },
];

function formatTable(rows: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(rows).map((name) => name.length));
  return Object.entries(rows)
    .map(([name, value]) => `${name.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

function isUnreachable(error: unknown): boolean {
  return error instanceof CacheConnectionError || error instanceof CacheTimeoutError;
}

function checkArity(operation: StoreOperation, args: string[]): void {
  const [min, max] = operation.arity;
  if (args.length < min) throw new UsageError(`Missing ${operation.argumentsUsage.split(' ').slice(args.length).join(' ')}`);
  if (args.length > max) throw new UsageError(`Unexpected argument: ${args.slice(max).join(' ')}`);
}

async function runOperation(operation: StoreOperation, positionals: string[], values: OptionValues, context: CommandContext): Promise<ExitCode> {
  const [url, ...args] = positionals;
  if (url === undefined) throw new UsageError('Missing <url>');
  checkArity(operation, args);
  const cache = await openCache(url);
  try {
    const outcome = await operation.perform({ cache, url, args, values, context }).catch((error: unknown) => {
      throw isUnreachable(error) ? new CliError(`Cannot reach ${redactUrlPassword(url)}: ${(error as Error).message}`, ExitCode.unreachable, { cause: error }) : error;
    });
    if (flagOption(values, 'json')) context.output.out(JSON.stringify(outcome.json));
    else if (outcome.failed) context.output.error(outcome.text);
    else context.output.out(outcome.text);
    return outcome.failed ? ExitCode.failure : ExitCode.ok;
  } finally {
    // The result is out; a connection that fails to close cleanly changes nothing about it.
    await cache.close().catch(() => undefined);
  }
}

function storeCommand(operation: StoreOperation): Command {
  return defineCommand({
    name: operation.name,
    summary: operation.summary,
    usage: `cachette ${operation.name} <url> ${operation.argumentsUsage}`.trimEnd() + ' [options]',
    description: `${operation.summary[0]!.toUpperCase()}${operation.summary.slice(1)}. <url> is any cache URL: redis://, memcached://, sqlite://, postgres://, mysql://, file://, locmem://.`,
    options: [...(operation.options ?? []), JSON_OPTION],
    run: ({ positionals, values }, context) => runOperation(operation, positionals, values, context),
  });
}

export const storeCommands: Command[] = OPERATIONS.map(storeCommand);
