import { expiryClockMs } from './clock';

/**
 * A timeout at the API, in seconds: `undefined` means the cache's default, `null` never expires,
 * `0` or less expires at once (nothing is stored), fractions are allowed.
 */
export type Timeout = number | null | undefined;

export const DEFAULT_TIMEOUT_SECONDS = 300;

/**
 * Checks a timeout given at the API and returns it in canonical form (`Infinity` is read as
 * "never expires"). Anything that is not a number, `null` or `undefined` is a caller's mistake.
 */
export function checkTimeout(timeout: unknown): number | null | undefined {
  if (timeout === undefined || timeout === null) return timeout;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new TypeError(
      `A cache timeout is a number of seconds, null (never expires) or undefined (the cache's default); got ${describe(timeout)}`,
    );
  }
  return timeout === Infinity ? null : timeout;
}

/** Reads a timeout from configuration, where a numeric string (from a URL) is accepted too. */
export function timeoutFromConfig(value: unknown): number | null {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return checkTimeout(value) ?? null;
}

/**
 * Seconds since the epoch, as a float: the unit of absolute expiry times. Read through the
 * expiry clock (`clock.ts`): one reading serves the checks of one macrotask.
 */
export function nowInSeconds(): number {
  return expiryClockMs() / 1000;
}

/** Seconds from now until an absolute expiry (what `getBackendTimeout` gives by default); `null` stays "never". */
export function secondsUntil(expiry: number | null): number | null {
  return expiry === null ? null : expiry - nowInSeconds();
}

export function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : `${String(value)} (${typeof value})`;
}
