/**
 * The compact state CPython's `datetime` types pickle themselves with: `datetime.date` is 4 bytes
 * (year high, year low, month, day); `datetime.datetime` is 10 (those, then hour, minute,
 * second and 3 big-endian bytes of microseconds). From protocol 4 the month byte's high bit is
 * the `fold` flag, which a fixed-offset or naive value does not need.
 */

export const DATE_STATE_SIZE = 4;
export const DATETIME_STATE_SIZE = 10;

export interface CivilTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Python's own range checks: year 1–9999, real calendar days, 24-hour clock, microseconds < 10^6. */
export function isValidCivilTime(t: CivilTime): boolean {
  const fields = [t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond];
  return (
    fields.every(Number.isInteger) &&
    t.year >= 1 && t.year <= 9999 &&
    t.month >= 1 && t.month <= 12 &&
    t.day >= 1 && t.day <= daysInMonth(t.year, t.month) &&
    t.hour >= 0 && t.hour < 24 &&
    t.minute >= 0 && t.minute < 60 &&
    t.second >= 0 && t.second < 60 &&
    t.microsecond >= 0 && t.microsecond < 1_000_000
  );
}

/** Decodes a `date` (4 bytes) or `datetime` (10 bytes) state; `undefined` if it is not a valid time. */
export function decodeCivilState(state: Uint8Array): CivilTime | undefined {
  if (state.length !== DATE_STATE_SIZE && state.length !== DATETIME_STATE_SIZE) return undefined;
  const long = state.length === DATETIME_STATE_SIZE;
  const time: CivilTime = {
    year: state[0]! * 256 + state[1]!,
    month: state[2]! & 0x7f,
    day: state[3]!,
    hour: long ? state[4]! : 0,
    minute: long ? state[5]! : 0,
    second: long ? state[6]! : 0,
    microsecond: long ? (state[7]! << 16) | (state[8]! << 8) | state[9]! : 0,
  };
  return isValidCivilTime(time) ? time : undefined;
}

/** The 10-byte `datetime` state of a UTC `Date` (fold 0); `undefined` outside years 1–9999. */
export function encodeDateTimeState(date: Date): Buffer | undefined {
  const year = date.getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) return undefined;
  const microsecond = date.getUTCMilliseconds() * 1000;
  return Buffer.from([
    year >> 8, year & 0xff, date.getUTCMonth() + 1, date.getUTCDate(),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(),
    microsecond >> 16, (microsecond >> 8) & 0xff, microsecond & 0xff,
  ]);
}

/**
 * The instant of a civil time read at a UTC offset, as a `Date`. Microseconds are truncated to
 * the millisecond (towards the past). `Date.UTC` would read years 0–99 as 1900–1999, so the
 * year is set separately.
 */
export function civilTimeToDate(t: CivilTime, offsetMicroseconds: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(t.year, t.month - 1, t.day);
  date.setUTCHours(t.hour, t.minute, t.second, 0);
  // Whole seconds plus a sub-second part kept small so the arithmetic stays exact.
  return new Date(date.getTime() + Math.floor((t.microsecond - offsetMicroseconds) / 1000));
}
