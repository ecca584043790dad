const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = MONTHS.map((month) => month[0]!.toUpperCase() + month.slice(1));

// The three formats RFC 9110 §5.6.7 requires a recipient to accept, as Django matches them.
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^\\w{3}, (\\d{2}) (\\w{3}) (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^\\w{6,9}, (\\d{2})-(\\w{3})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^\\w{3} (\\w{3}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** An HTTP date (`Sun, 17 Jul 2016 10:00:02 GMT`) for epoch seconds, fractions dropped. Default: now. */
export function httpDate(epochSeconds: number = Date.now() / 1000): string {
  const date = new Date(Math.floor(epochSeconds) * 1000);
  return (
    `${DAYS[date.getUTCDay()]}, ${twoDigits(date.getUTCDate())} ${MONTH_NAMES[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())} GMT`
  );
}

/** RFC 850's two-digit years: more than 50 years ahead of this year means last century. */
function fullYear(twoDigitYear: number): number {
  const currentYear = new Date().getUTCFullYear();
  const century = currentYear - (currentYear % 100);
  return twoDigitYear - (currentYear % 100) > 50 ? century - 100 + twoDigitYear : century + twoDigitYear;
}

function epochSeconds(year: number, monthName: string, day: number, hour: number, minute: number, second: number): number | null {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month < 0 || hour > 23 || minute > 59 || second > 59) return null;
  const milliseconds = Date.UTC(year, month, day, hour, minute, second);
  // Date.UTC rolls 32 October over into November; an HTTP date must name a real day.
  if (new Date(milliseconds).getUTCDate() !== day) return null;
  return milliseconds / 1000;
}

/** Epoch seconds of an HTTP date in any of the three formats, or `null` when it is not one (Django's `parse_http_date_safe`). */
export function parseHttpDate(text: string): number | null {
  let match = IMF_FIXDATE.exec(text);
  if (match) return epochSeconds(Number(match[3]), match[2]!, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  match = RFC850_DATE.exec(text);
  if (match) return epochSeconds(fullYear(Number(match[3])), match[2]!, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  match = ASCTIME_DATE.exec(text);
  if (match) return epochSeconds(Number(match[6]), match[1]!, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]));
  return null;
}
