import { CacheKeyWarning } from './errors';
import { keyWarningChannel, type KeyWarningMessage } from './observe/channels';
import { pyRepr } from './python-text';

/** Builds the key a backend stores from the caller's key, the cache's prefix and a version. */
export type KeyFunction = (key: string, keyPrefix: string, version: number) => string;

/** Django's `default_key_func`: `prefix:version:key`. */
export const defaultKeyFunction: KeyFunction = (key, keyPrefix, version) => `${keyPrefix}:${version}:${key}`;

export const MEMCACHE_MAX_KEY_LENGTH = 250;

// Any character memcached's text protocol treats as a separator or control: below 33, or DEL.
const MEMCACHE_UNSAFE_CHARACTER = /[\x00-\x20\x7f]/;

const NO_WARNINGS: readonly string[] = Object.freeze([]);

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * Django's two memcached key rules, in Django's order and wording: longer than 250 characters
 * (code points), and any character below 33 or equal to 127. Returns the messages, empty when the
 * key is safe.
 */
export function memcacheKeyWarnings(key: string): readonly string[] {
  // Fast path, without allocation: every made key passes through here on every operation.
  if (key.length <= MEMCACHE_MAX_KEY_LENGTH && !MEMCACHE_UNSAFE_CHARACTER.test(key)) return NO_WARNINGS;
  const warnings: string[] = [];
  if (key.length > MEMCACHE_MAX_KEY_LENGTH && codePointLength(key) > MEMCACHE_MAX_KEY_LENGTH) {
    warnings.push(`Cache key will cause errors if used with memcached: ${pyRepr(key)} (longer than ${MEMCACHE_MAX_KEY_LENGTH})`);
  }
  if (MEMCACHE_UNSAFE_CHARACTER.test(key)) {
    warnings.push(`Cache key contains characters that will cause errors if used with memcached: ${pyRepr(key)}`);
  }
  return warnings;
}

// Shared through globalThis so the ESM and CJS copies of this package keep one registry.
const REGISTRY = Symbol.for('cachette.cacheKeyWarningsSeen');
const REGISTRY_LIMIT = 10_000;

function warningRegistry(): Set<string> {
  const holder = globalThis as { [REGISTRY]?: Set<string> };
  return (holder[REGISTRY] ??= new Set());
}

/**
 * Emits a `CacheKeyWarning` through `process.emitWarning`, once per distinct message per process:
 * the effect of Python's default warning filter, so one bad key on a hot path does not flood the log.
 * Every occurrence is published on `cachette:key-warning`.
 */
export function emitCacheKeyWarning(message: string): void {
  if (keyWarningChannel.hasSubscribers) keyWarningChannel.publish({ message } satisfies KeyWarningMessage);
  const seen = warningRegistry();
  if (seen.has(message)) return;
  if (seen.size >= REGISTRY_LIMIT) seen.clear();
  seen.add(message);
  process.emitWarning(new CacheKeyWarning(message));
}

/** Forgets which key warnings were emitted, so the next occurrence of each is emitted again (tests). */
export function resetCacheKeyWarnings(): void {
  warningRegistry().clear();
}
