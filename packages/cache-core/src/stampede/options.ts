import { randomBytes } from 'node:crypto';

export interface LockOptions {
  /** Seconds the lock lives at most, so a holder that died frees it. Default 10. */
  ttl?: number;
  /** Seconds a caller waits for the holder's value before computing it itself. Default: `ttl`. */
  wait?: number;
}

export interface GetOrSetOptions {
  /**
   * After a miss, compute under a short lock taken with the backend's own atomic primitive, so
   * one caller computes while the others (in other processes too, where the backend's lock
   * reaches them) wait for its value.
   */
  lock?: boolean | LockOptions;
  /**
   * Seconds past the timeout during which the stored value is still served, while one caller
   * refreshes it in the background. The entry is kept `timeout + staleWhileRevalidate` seconds.
   */
  staleWhileRevalidate?: number;
  /** A fraction (0 ≤ jitter < 1): the timeout is shortened by a random part of it, so keys written together expire apart. */
  jitter?: number;
}

/** How long the lock lives and how long callers wait for it, in seconds. */
export interface LockPlan {
  readonly ttl: number;
  readonly wait: number;
}

export const DEFAULT_LOCK_TTL_SECONDS = 10;

function nonNegativeSeconds(name: string, value: unknown, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new TypeError(`getOrSet option ${name} must be a ${positive ? 'positive' : 'non-negative'} number of seconds; got ${String(value)}`);
  }
  return value;
}

export function lockPlan(option: GetOrSetOptions['lock']): LockPlan | null {
  if (option === undefined || option === false) return null;
  const { ttl = DEFAULT_LOCK_TTL_SECONDS, wait } = option === true ? {} : option;
  const lockTtl = nonNegativeSeconds('lock.ttl', ttl, true);
  return { ttl: lockTtl, wait: wait === undefined ? lockTtl : nonNegativeSeconds('lock.wait', wait) };
}

export function staleSeconds(option: unknown): number {
  return option === undefined ? 0 : nonNegativeSeconds('staleWhileRevalidate', option);
}

/** `seconds` shortened by a random part of `jitter` of it. */
export function jittered(seconds: number, jitter: unknown): number {
  if (jitter === undefined || jitter === 0) return seconds;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) throw new TypeError(`getOrSet option jitter must be a fraction from 0 to below 1; got ${String(jitter)}`);
  return seconds * (1 - jitter * Math.random());
}

/** A lock holder's identity: only it may release the lock. */
export function lockToken(): string {
  return randomBytes(16).toString('hex');
}

/** The next pause of a waiter: from 25 ms, half as long again each time, at most 250 ms. */
export function nextPause(previous: number): number {
  return Math.min(0.25, previous === 0 ? 0.025 : previous * 1.5);
}
