import { resetCacheKeyWarnings } from '@cachette/cache-core';
import type { SuiteContext } from './suite-context';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Awaits `operation` and checks it rejected with `errorClass` (and `message`, when given).
 * `what` names the operation in the failure when a test checks several.
 */
export async function expectRejection(
  suite: SuiteContext,
  operation: Promise<unknown>,
  errorClass: ErrorClass,
  message?: string,
  what = 'the operation',
): Promise<Error> {
  let outcome: { rejected: true; error: unknown } | { rejected: false; value: unknown };
  try {
    outcome = { rejected: false, value: await operation };
  } catch (error) {
    outcome = { rejected: true, error };
  }
  if (!outcome.rejected) {
    throw new Error(`Expected ${what} to reject with ${errorClass.name}; it resolved with ${String(outcome.value)}`);
  }
  if (!(outcome.error instanceof errorClass)) {
    throw new Error(`Expected ${what} to reject with ${errorClass.name}; it rejected with ${String(outcome.error)}`, { cause: outcome.error });
  }
  if (message !== undefined) suite.expect((outcome.error as Error).message).toBe(message);
  return outcome.error as Error;
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
    // process.emitWarning delivers on the next tick; setImmediate runs after every pending tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', capture);
    for (const listener of otherListeners) process.on('warning', listener);
  }
  return messages;
}
