import { inspect, isDeepStrictEqual } from 'node:util';
import { UsageError } from '../cli-error';

/** `<value>` of `set`: JSON when it parses as JSON (`42`, `{"a":1}`, `"text"`), else the text itself. */
export function parseValueArgument(text: string, forceString: boolean): unknown {
  if (forceString) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Whether JSON gives the value back unchanged. A Node application's cache (the default v8
 * serializer) can hold what JSON cannot: Map, Set, Date, Buffer, BigInt, undefined, NaN, -0.
 */
function survivesJson(value: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(value)) as unknown, value);
  } catch {
    return false;
  }
}

/** A stored value for a person (text as it is, else JSON) and for `--json` (`value`, or `inspect` when JSON cannot hold it). */
export function presentValue(value: unknown): { text: string; json: { value: unknown } | { inspect: string } } {
  if (!survivesJson(value)) {
    const text = inspect(value, { depth: null });
    return { text, json: { inspect: text } };
  }
  return { text: typeof value === 'string' ? value : JSON.stringify(value, null, 2), json: { value } };
}

/** `--timeout`: seconds (fractions allowed, 0 or less expires at once) or `none` for never. */
export function parseTimeoutOption(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds)) throw new UsageError(`--timeout must be a number of seconds or 'none'; got '${text}'`);
  return seconds;
}

/** `<delta>` of `incr`: an integer, negative ones after `--` (`incr <url> <key> -- -5`). */
export function parseDelta(text: string | undefined): number {
  if (text === undefined) return 1;
  const delta = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(delta)) throw new UsageError(`<delta> must be an integer; got '${text}'`);
  return delta;
}

/** How long a value stays, in words: `expires in 60 s`, `never expires`. */
export function describeExpiry(timeout: number | null): string {
  if (timeout === null) return 'never expires';
  return timeout <= 0 ? 'expired at once' : `expires in ${timeout} s`;
}
