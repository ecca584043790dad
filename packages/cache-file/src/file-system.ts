import { constants } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** `operation`'s result, or `fallback` when the file or directory it needs does not exist. */
export async function ignoreMissingFile<T>(operation: Promise<T>, fallback: T): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return fallback;
    throw error;
  }
}

/**
 * Removes `path` if it is still the file with this inode: not one another process has renamed
 * or created there since it was looked at. A symlink is compared, and removed, as itself.
 */
export async function unlinkIfSameFile(path: string, inode: number): Promise<void> {
  const current = await ignoreMissingFile(lstat(path), undefined);
  if (current?.ino === inode) await ignoreMissingFile(unlink(path), undefined);
}

/**
 * O_NOFOLLOW: a symlink planted where a cache file would be fails to open (ELOOP; EMLINK on
 * FreeBSD) instead of being read or written through. O_NONBLOCK: a FIFO planted there opens at
 * once instead of waiting for a writer. (Both are 0 where Node has no such flag, on Windows.)
 */
const NOT_THROUGH_LINKS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A link (ELOOP; EMLINK on FreeBSD) or a socket (ENXIO) where a cache file should be: not an entry. */
const FOREIGN_FILE_CODES = new Set(['ELOOP', 'EMLINK', 'ENXIO']);

/**
 * Opens an existing cache file (`access`: `O_RDONLY` or `O_RDWR`); `undefined` when there is none.
 * A symlink or socket in its place is not a cache file: it is removed (a link itself, never what
 * it points to). A FIFO opens; its readers tell it from a cache file.
 */
export async function openCacheFile(path: string, access: number): Promise<FileHandle | undefined> {
  try {
    return await open(path, access | NOT_THROUGH_LINKS);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    if (!FOREIGN_FILE_CODES.has(code!)) throw error;
    await ignoreMissingFile(unlink(path), undefined);
    return undefined;
  }
}
