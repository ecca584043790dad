import { createHash } from 'node:crypto';

/** The `cache_key` column is varchar(255), as in Django's table. */
export const KEY_COLUMN_LENGTH = 255;
const DIGEST_LENGTH = 64;
const KEPT_LENGTH = KEY_COLUMN_LENGTH - DIGEST_LENGTH - 1;
// PostgreSQL's text types cannot hold U+0000.
const NUL = '\0';

function needsDigest(madeKey: string): boolean {
  if (madeKey.includes(NUL)) return true;
  // Most keys are short: checking UTF-16 length first avoids counting code points.
  return madeKey.length > KEY_COLUMN_LENGTH && Array.from(madeKey).length > KEY_COLUMN_LENGTH;
}

/**
 * The `cache_key` a made key is stored under. Keys that fit the column are stored as they are;
 * longer ones, and ones holding NUL, keep their first 190 characters (NUL shown as U+FFFD), then
 * `~` and the SHA-256 of the whole key. So any key works on every database, instead of failing on
 * some and not on others.
 */
export function storedKey(madeKey: string): string {
  if (!needsDigest(madeKey)) return madeKey;
  const kept = Array.from(madeKey).slice(0, KEPT_LENGTH).join('').replaceAll(NUL, '\uFFFD');
  return `${kept}~${createHash('sha256').update(madeKey).digest('hex')}`;
}
