import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { BaseCache } from '../base-cache';

/** The operations observers see; `get` also stands for `getAwaitable`. */
export type OperationName =
  | 'add'
  | 'get'
  | 'set'
  | 'touch'
  | 'ttl'
  | 'delete'
  | 'getMany'
  | 'setMany'
  | 'deleteMany'
  | 'getOrSet'
  | 'hasKey'
  | 'incr'
  | 'incrVersion'
  | 'clear';

/**
 * What `cachette:operation` publishes for one call. The same object goes to every event of the
 * call: `start` when it begins; `end` when its synchronous part returns; for a Promise, `asyncStart`
 * and `asyncEnd` when it settles; `error` when it fails. `duration`, `hits`, `misses` and `result`
 * or `error` are filled in once the call has settled (on `end` for a synchronous answer, else on
 * `asyncStart`/`asyncEnd`).
 */
export interface OperationContext {
  readonly cache: BaseCache;
  /** The registry alias, when the cache came from `caches`. */
  readonly alias: string | undefined;
  /** The backend class's name (`RedisCache`). */
  readonly backend: string;
  readonly operation: OperationName;
  /** The caller's key, for single-key operations. */
  readonly key: string | undefined;
  /** How many keys the call names. */
  readonly keys: number;
  /** Milliseconds, once settled. */
  duration?: number;
  hits?: number;
  misses?: number;
  /** What the call resolved to (`getOrSet`: `{ value, hit }`). */
  result?: unknown;
  error?: unknown;
}

/** Every cache operation, as a `TracingChannel` (`tracing:cachette:operation:start`, …). */
export const operationChannel = tracingChannel<unknown, OperationContext>('cachette:operation');

/** What `cachette:key-warning` publishes: every key warning, also those `process.emitWarning` shows only once. */
export interface KeyWarningMessage {
  readonly message: string;
}

export const keyWarningChannel = channel('cachette:key-warning');

/** Why a cache swallowed an error instead of raising it. */
export type SwallowReason =
  /** The backend's `ignoreExceptions` turned a server that is down or slow into a miss or a failed write. */
  | 'ignoreExceptions'
  /** A background refresh of a stale value (`staleWhileRevalidate`) failed; the stale value stays. */
  | 'refresh'
  /** A `getOrSet` lock could not be freed; it expires on its own. */
  | 'releaseLock'
  /** A read on a replica failed, and the primary answered it (the SQL cache's `replicas` or `router`). */
  | 'replicaFallback';

/** What `cachette:swallowed-error` publishes, on every occurrence. */
export interface SwallowedErrorMessage {
  readonly cache: BaseCache;
  readonly alias: string | undefined;
  readonly backend: string;
  readonly reason: SwallowReason;
  readonly error: unknown;
}

export const swallowedErrorChannel = channel('cachette:swallowed-error');

/** Publishes an error a cache chose not to raise. */
export function publishSwallowedError(cache: BaseCache, reason: SwallowReason, error: unknown): void {
  if (!swallowedErrorChannel.hasSubscribers) return;
  const message: SwallowedErrorMessage = { cache, alias: cache.alias, backend: cache.constructor.name, reason, error };
  swallowedErrorChannel.publish(message);
}
