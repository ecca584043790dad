import { InvalidCacheKey } from '@cachette/cache-core';

/** memcached's limit, in bytes of the key as sent (UTF-8). */
export const MAX_KEY_BYTES = 250;

// Bytes the text protocol reads as separators or line ends: anything up to space, and DEL.
const UNSAFE_KEY_CHARACTER = /[\x00-\x20\x7f]/;

/**
 * Checks a key before anything is written, so a key can never end a command line early or smuggle
 * in a second command. The same rule applies to both protocols: a key stored through the binary
 * protocol stays readable through the text protocol and by other clients.
 */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidCacheKey(`Memcached keys are non-empty strings; got ${typeof key === 'string' ? 'an empty string' : typeof key}`);
  }
  if (UNSAFE_KEY_CHARACTER.test(key)) {
    throw new InvalidCacheKey(`Memcached key ${JSON.stringify(key)} contains whitespace or control characters`);
  }
  // key.length counts UTF-16 units: at most 3 UTF-8 bytes each, so short keys need no count.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new InvalidCacheKey(`Memcached key ${JSON.stringify(key.slice(0, 40))}… is longer than ${MAX_KEY_BYTES} bytes`);
  }
}
