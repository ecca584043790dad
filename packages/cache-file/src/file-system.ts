import { stat, unlink } from 'node:fs/promises';

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
 * or created there since it was looked at.
 */
export async function unlinkIfSameFile(path: string, inode: number): Promise<void> {
  const current = await ignoreMissingFile(stat(path), undefined);
  if (current?.ino === inode) await ignoreMissingFile(unlink(path), undefined);
}
