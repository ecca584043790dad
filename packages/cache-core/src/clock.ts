/**
 * The wall clock of expiry checks, read once for many checks.
 *
 * A locmem hit costs about as much as one `Date.now()`, so checking every hit's expiry against a
 * fresh reading halves the hit rate. A reading is therefore reused until the current macrotask
 * ends (a `setImmediate` forgets it) or `CLOCK_REUSES` checks have used it, whichever comes
 * first: an entry may be seen live for that long after it expired, a bound of one macrotask and
 * never more than a few thousand operations.
 *
 * Unlike a clock cached on a timer (lru-cache's), this one never hides a moved clock from tests:
 * while `Date.now` is not the engine's own function (vitest's or sinon's fake timers,
 * `vi.setSystemTime`, a spy), every check reads it.
 */
const CLOCK_REUSES = 1024;

let reading = 0;
let usesLeft = 0;
let forgetScheduled = false;
let checkedNow: (() => number) | undefined;
let nowIsNative = false;

function forget(): void {
  usesLeft = 0;
  forgetScheduled = false;
}

function isEngineFunction(fn: () => number): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** `Date.now()` in milliseconds, reused within a macrotask when `Date.now` is the engine's. */
export function expiryClockMs(): number {
  const now = Date.now;
  if (now !== checkedNow) {
    checkedNow = now;
    nowIsNative = isEngineFunction(now);
    usesLeft = 0;
  }
  if (!nowIsNative) return now();
  if (usesLeft > 0) {
    usesLeft--;
    return reading;
  }
  reading = now();
  usesLeft = CLOCK_REUSES;
  if (!forgetScheduled) {
    forgetScheduled = true;
    setImmediate(forget).unref();
  }
  return reading;
}
