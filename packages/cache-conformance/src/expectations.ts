import { resetCacheKeyWarnings } from '@cachette/cache-core';
import type { SuiteContext } from './suite-context';

type ErrorClass = abstract new (...args: never[]) => Error;

/** Checks a settled operation rejected with `errorClass`; `what` names the operation in the failure. */
export function expectSettledRejection(outcome: PromiseSettledResult<unknown> | undefined, errorClass: ErrorClass, what: string): Error {
  if (outcome?.status !== 'rejected') {
    throw new Error(`Expected ${what} to reject with ${errorClass.name}; it resolved with ${String(outcome?.value)}`);
  }
  if (!(outcome.reason instanceof errorClass)) {
    throw new Error(`Expected ${what} to reject with ${errorClass.name}; it rejected with ${String(outcome.reason)}`, { cause: outcome.reason });
  }
  return outcome.reason;
}

/** Awaits `operation` and checks it rejected with `errorClass` (and `message`, when given). */
export async function expectRejection(
  suite: SuiteContext,
  operation: Promise<unknown>,
  errorClass: ErrorClass,
  message?: string,
  what = 'the operation',
): Promise<Error> {
  const [outcome] = await Promise.allSettled([operation]);
  const error = expectSettledRejection(outcome, errorClass, what);
  if (message !== undefined) suite.expect(error.message).toBe(message);
  return error;
}

/**
 * The `CacheKeyWarning` messages `operation` emits. Core emits each distinct message once per
 * process, so the record of emitted messages is reset first. While it runs, key warnings are
 * captured instead of printed (Node's own listener prints warnings); others still reach every listener.
 */
export async function keyWarningsOf(operation: () => Promise<unknown>): Promise<string[]> {
  resetCacheKeyWarnings();
  const messages: string[] = [];
  const otherListeners = process.listeners('warning');
  const capture = (warning: Error): void => {
    if (warning.name === 'CacheKeyWarning') messages.push(warning.message);
    else for (const listener of otherListeners) listener.call(process, warning);
  };
  process.removeAllListeners('warning');
  process.on('warning', capture);
  try {
    await operation();
  } finally {
    // process.emitWarning delivers on the next tick; setImmediate runs after every pending tick.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', capture);
    for (const listener of otherListeners) process.on('warning', listener);
  }
  return messages;
}
