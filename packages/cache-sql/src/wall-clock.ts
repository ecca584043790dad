/**
 * Epoch seconds as the wall-clock reading of one time zone, and back, both as epoch seconds (a
 * wall-clock reading taken as if it were UTC). Django with USE_TZ = False writes and compares
 * `expires` as naive local time in its TIME_ZONE; on SQLite and MySQL, whose columns hold no
 * zone, Cachette must do the same to share the table.
 */
export interface WallClock {
  toWall(epochSeconds: number): number;
  fromWall(wallSeconds: number): number;
}

const UTC_CLOCK: WallClock = { toWall: (seconds) => seconds, fromWall: (seconds) => seconds };

// Python's datetime holds years 1 to 9999; past them (timeout null is Infinity) no zone applies.
const LIMIT_SECONDS = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

export function wallClock(timeZone: unknown): WallClock {
  if (timeZone === undefined || timeZone === 'UTC') return UTC_CLOCK;
  let format: Intl.DateTimeFormat;
  try {
    if (typeof timeZone !== 'string') throw new RangeError('not a string');
    const numeric = 'numeric';
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: numeric, month: numeric, day: numeric, hour: numeric, minute: numeric, second: numeric });
  } catch {
    throw new TypeError(`Cache option timeZone must be an IANA time zone name such as 'Europe/Paris' (Django's TIME_ZONE); got ${String(timeZone)}`);
  }
  /** Seconds the zone's clock is ahead of UTC at an instant. */
  const offsetAt = (epochSeconds: number): number => {
    const parts = Object.fromEntries(format.formatToParts(new Date(Math.floor(epochSeconds) * 1000)).map(({ type, value }) => [type, Number(value)]));
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) / 1000 - Math.floor(epochSeconds);
  };
  const outside = (seconds: number): boolean => !(Math.abs(seconds) < LIMIT_SECONDS);
  return {
    toWall: (epochSeconds) => (outside(epochSeconds) ? epochSeconds : epochSeconds + offsetAt(epochSeconds)),
    // Twice, so that a reading just after a change of offset (daylight saving time) finds its own offset.
    fromWall: (wallSeconds) => (outside(wallSeconds) ? wallSeconds : wallSeconds - offsetAt(wallSeconds - offsetAt(wallSeconds))),
  };
}
