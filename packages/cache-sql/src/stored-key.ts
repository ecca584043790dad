import { createHash } from 'node:crypto';

/** The `cache_key` column is varchar(255), as in Django's table. */
export const KEY_COLUMN_LENGTH = 255;
const DIGEST_LENGTH = 64;
const KEPT_LENGTH = KEY_COLUMN_LENGTH - DIGEST_LENGTH - 1;

/**
 * The `cache_key` a made key is stored under. Keys that fit the column are stored as they are;
 * longer ones keep their first 190 characters, then `~` and the SHA-256 of the whole key, so
 * any key length works on every database instead of failing on some and not others.
 */
export function storedKey(madeKey: string): string {
  // Most keys are short: checking UTF-16 length first avoids counting code points.
  if (madeKey.length <= KEY_COLUMN_LENGTH) return madeKey;
  const codePoints = Array.from(madeKey);
  if (codePoints.length <= KEY_COLUMN_LENGTH) return madeKey;
  return `${codePoints.slice(0, KEPT_LENGTH).join('')}~${createHash('sha256').update(madeKey).digest('hex')}`;
}
