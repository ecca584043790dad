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
 * Runs `operation` while capturing the process warnings `capture` selects instead of letting
 * Node print them; the others still reach every listener.
 */
async function capturingWarnings(operation: () => Promise<unknown>, capture: (warning: Error) => boolean): Promise<Error[]> {
  const captured: Error[] = [];
  const otherListeners = process.listeners('warning');
  const listener = (warning: Error): void => {
    if (capture(warning)) captured.push(warning);
    else for (const other of otherListeners) other.call(process, warning);
  };
  process.removeAllListeners('warning');
  process.on('warning', listener);
  try {
    await operation();
  } finally {
    // process.emitWarning delivers on the next tick; setImmediate runs after every pending tick.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);
    for (const other of otherListeners) process.on('warning', other);
  }
  return captured;
}

/**
 * The `CacheKeyWarning` messages `operation` emits. Core emits each distinct message once per
 * process, so the record of emitted messages is reset first.
 */
export async function keyWarningsOf(operation: () => Promise<unknown>): Promise<string[]> {
  resetCacheKeyWarnings();
  const warnings = await capturingWarnings(operation, (warning) => warning.name === 'CacheKeyWarning');
  return warnings.map((warning) => warning.message);
}

/** Every process warning `operation` emits, as `name: message`. */
export async function warningsOf(operation: () => Promise<unknown>): Promise<string[]> {
  const warnings = await capturingWarnings(operation, () => true);
  return warnings.map((warning) => `${warning.name}: ${warning.message}`);
}
