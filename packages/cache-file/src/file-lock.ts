import { lstat, open } from 'node:fs/promises';
import { CacheTimeoutError } from '@cachette/cache-core';
import { errorCode, ignoreMissingFile, unlinkIfSameFile } from './file-system';

/** A lock older than this was left by a process that died holding it. */
const STALE_AFTER_MS = 10_000;
const GIVE_UP_AFTER_MS = 15_000;
const LONGEST_PAUSE_MS = 50;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the lock file exclusively; returns its inode. Rejects with ENOENT when its directory is missing. */
async function acquire(lockPath: string): Promise<number> {
  const deadline = Date.now() + GIVE_UP_AFTER_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      const { ino } = await handle.stat();
      await handle.close();
      return ino;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const holder = await ignoreMissingFile(lstat(lockPath), undefined);
    if (holder && Date.now() - holder.mtimeMs > STALE_AFTER_MS) {
      await unlinkIfSameFile(lockPath, holder.ino);
      continue;
    }
    if (Date.now() > deadline) throw new CacheTimeoutError(`Gave up waiting ${GIVE_UP_AFTER_MS / 1000} s for the cache lock ${lockPath}`);
    await pause(Math.min(2 ** attempt, LONGEST_PAUSE_MS));
  }
}

/**
 * Runs `operation` while holding `lockPath`, a file created exclusively, so that callers in any
 * process sharing the directory take turns. A lock left by a crashed process is broken after 10 s.
 */
export async function withLockFile<T>(lockPath: string, operation: () => Promise<T>): Promise<T> {
  const inode = await acquire(lockPath);
  try {
    return await operation();
  } finally {
    await unlinkIfSameFile(lockPath, inode);
  }
}
