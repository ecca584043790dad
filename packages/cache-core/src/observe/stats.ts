import type { OperationContext, OperationName } from './channels';

/** Latency buckets: a quarter of an octave each, from 1 µs to about 134 s. */
const BUCKETS_PER_OCTAVE = 4;
const BUCKETS = 27 * BUCKETS_PER_OCTAVE;

function bucketOf(milliseconds: number): number {
  const micros = milliseconds * 1000;
  if (!(micros > 1)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log2(micros) * BUCKETS_PER_OCTAVE));
}

/** The middle of a bucket, in milliseconds. */
function bucketMilliseconds(bucket: number): number {
  return 2 ** ((bucket + 0.5) / BUCKETS_PER_OCTAVE) / 1000;
}

export interface OperationStats {
  readonly count: number;
  readonly errors: number;
  readonly hits: number;
  readonly misses: number;
  /** Milliseconds (within a quarter octave, about ±9 %); `null` before the first call. */
  readonly p50: number | null;
  readonly p99: number | null;
}

export interface CacheStatsSnapshot {
  /** Whether this cache counts (`stats: true` in its parameters). */
  readonly enabled: boolean;
  readonly hits: number;
  readonly misses: number;
  /** Entries written: `set`, an `add` that stored, a `getOrSet` that computed, `setMany` minus the failed keys. */
  readonly sets: number;
  /** Entries removed: a `delete` that found its key, the keys given to `deleteMany`. */
  readonly deletes: number;
  readonly errors: number;
  readonly operations: Readonly<Partial<Record<OperationName, OperationStats>>>;
}

/** One operation's counters and latency histogram: fixed-size, nothing allocated per call. */
class OperationCounter {
  count = 0;
  errors = 0;
  hits = 0;
  misses = 0;
  readonly histogram = new Uint32Array(BUCKETS);

  percentile(fraction: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.ceil(this.count * fraction);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.histogram[bucket]!;
      if (seen >= rank) return bucketMilliseconds(bucket);
    }
    return bucketMilliseconds(BUCKETS - 1);
  }

  snapshot(): OperationStats {
    return { count: this.count, errors: this.errors, hits: this.hits, misses: this.misses, p50: this.percentile(0.5), p99: this.percentile(0.99) };
  }
}

/** How many entries a settled call wrote and removed. */
function writesOf(context: OperationContext): { sets: number; deletes: number } {
  if (context.error !== undefined) return { sets: 0, deletes: 0 };
  switch (context.operation) {
    case 'set':
      return { sets: 1, deletes: 0 };
    case 'add':
      return { sets: context.result === true ? 1 : 0, deletes: 0 };
    case 'getOrSet':
      return { sets: context.misses ?? 0, deletes: 0 };
    case 'setMany':
      return { sets: context.keys - (context.result as readonly unknown[]).length, deletes: 0 };
    case 'delete':
      return { sets: 0, deletes: context.result === true ? 1 : 0 };
    case 'deleteMany':
      return { sets: 0, deletes: context.keys };
    default:
      return { sets: 0, deletes: 0 };
  }
}

/** A cache's statistics: counters per operation and their latency percentiles. */
export class CacheStats {
  private readonly operations = new Map<OperationName, OperationCounter>();
  private sets = 0;
  private deletes = 0;

  /** Counts a settled call. */
  record(context: OperationContext): void {
    let counter = this.operations.get(context.operation);
    if (counter === undefined) this.operations.set(context.operation, (counter = new OperationCounter()));
    counter.count++;
    counter.histogram[bucketOf(context.duration ?? 0)]!++;
    if (context.error !== undefined) counter.errors++;
    counter.hits += context.hits ?? 0;
    counter.misses += context.misses ?? 0;
    const { sets, deletes } = writesOf(context);
    this.sets += sets;
    this.deletes += deletes;
  }

  snapshot(enabled: boolean): CacheStatsSnapshot {
    let hits = 0;
    let misses = 0;
    let errors = 0;
    const operations: Partial<Record<OperationName, OperationStats>> = {};
    for (const [name, counter] of this.operations) {
      hits += counter.hits;
      misses += counter.misses;
      errors += counter.errors;
      operations[name] = counter.snapshot();
    }
    return { enabled, hits, misses, sets: this.sets, deletes: this.deletes, errors, operations };
  }

  reset(): void {
    this.operations.clear();
    this.sets = 0;
    this.deletes = 0;
  }
}
