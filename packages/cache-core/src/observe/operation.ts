import type { Awaitable, BaseCache } from '../base-cache';
import { operationChannel, type OperationContext, type OperationName } from './channels';
import type { CacheStats } from './stats';

/** Hits and misses of a settled call, from its result. */
export type Outcome<T> = (result: T) => readonly [hits: number, misses: number];

function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return value instanceof Promise;
}

/**
 * Runs one cache operation under observation: publishes it on `cachette:operation` when anybody
 * subscribes and counts it in `stats` when the cache keeps them. The caller checks first that one
 * of the two is wanted, so an unobserved call pays nothing here.
 */
export function observeOperation<T>(
  cache: BaseCache,
  stats: CacheStats | undefined,
  operation: OperationName,
  key: string | undefined,
  keys: number,
  run: () => Awaitable<T>,
  outcome?: Outcome<T>,
): Awaitable<T> {
  const context: OperationContext = { cache, alias: cache.alias, backend: cache.constructor.name, operation, key, keys };
  const traced = operationChannel.hasSubscribers;
  const started = performance.now();
  const settle = (failed: boolean, value: unknown): void => {
    context.duration = performance.now() - started;
    if (failed) context.error = value;
    else {
      context.result = value;
      if (outcome) [context.hits, context.misses] = outcome(value as T);
    }
    stats?.record(context);
  };
  if (traced) operationChannel.start.publish(context);
  let result: Awaitable<T>;
  try {
    result = run();
  } catch (error) {
    settle(true, error);
    if (traced) {
      operationChannel.error.publish(context);
      operationChannel.end.publish(context);
    }
    throw error;
  }
  if (!isPromise(result)) {
    settle(false, result);
    if (traced) operationChannel.end.publish(context);
    return result;
  }
  if (traced) operationChannel.end.publish(context);
  return result.then(
    (value) => {
      settle(false, value);
      if (traced) {
        operationChannel.asyncStart.publish(context);
        operationChannel.asyncEnd.publish(context);
      }
      return value;
    },
    (error: unknown) => {
      settle(true, error);
      if (traced) {
        operationChannel.error.publish(context);
        operationChannel.asyncStart.publish(context);
        operationChannel.asyncEnd.publish(context);
      }
      throw error;
    },
  );
}
