import { performance } from 'node:perf_hooks';

/** How long a count of the directory stands in for a new one: the longest another process's files go unseen. */
const COUNT_LIFETIME_MS = 1000;

/**
 * What this process knows of a cache directory's file count: the last count, and the writes of
 * this process since, each taken as one more file (an overwrite is not, so the figure is an
 * upper bound as far as this process goes). Shared by every cache of the process on the
 * directory, so one instance's writes are seen by the others at once.
 */
export class DirectoryCount {
  private files = 0;
  private countedAt = Number.NEGATIVE_INFINITY;

  /**
   * Whether a write may skip counting: this process alone cannot have brought the directory to
   * `maxEntries` since a count less than a second old. Counts the write when it may.
   */
  mayWriteWithoutCounting(maxEntries: number): boolean {
    if (this.files >= maxEntries || performance.now() - this.countedAt > COUNT_LIFETIME_MS) return false;
    this.files++;
    return true;
  }

  /** A count was taken (`files` now there), before the write that asked for it. */
  counted(files: number): void {
    this.files = files + 1;
    this.countedAt = performance.now();
  }
}

const counts = new Map<string, DirectoryCount>();

export function directoryCount(directory: string): DirectoryCount {
  let count = counts.get(directory);
  if (count === undefined) counts.set(directory, (count = new DirectoryCount()));
  return count;
}
