/**
 * Python's text conventions, where Django's behaviour depends on them: warning messages show keys
 * with `repr()`, and template fragment keys hash `str(arg)`.
 */

// Python's str.isprintable() is false for these categories (the space character excepted).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hexEscape(codePoint: number): string {
  if (codePoint <= 0xff) return `\\x${codePoint.toString(16).padStart(2, '0')}`;
  if (codePoint <= 0xffff) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return `\\U${codePoint.toString(16).padStart(8, '0')}`;
}

/** Python's `repr()` of a `str`. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const named = NAMED_ESCAPES[char];
    if (named !== undefined) out += named;
    else if (char === quote) out += `\\${quote}`;
    else if (char !== ' ' && NON_PRINTABLE.test(char)) out += hexEscape(char.codePointAt(0)!);
    else out += char;
  }
  return out + quote;
}

/** Python's `repr()` of a float, from JavaScript's shortest round-trip digits. */
function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  // Python switches to scientific notation below 1e-4 and from 1e16; JavaScript at 1e-7 and 1e21.
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

/**
 * Python's `str()` of the value a JavaScript caller most likely means: integer-valued numbers are
 * Python ints, other numbers floats, `null`/`undefined` are `None`, booleans `True`/`False`, arrays
 * lists and plain objects dicts.
 */
export function pyStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'undefined':
      return 'None';
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isInteger(value) ? BigInt(value).toString() : pyFloatRepr(value);
    default:
      if (value === null) return 'None';
      if (Array.isArray(value)) return `[${value.map(pyReprOfValue).join(', ')}]`;
      if (Object.getPrototypeOf(value) === Object.prototype) {
        const items = Object.entries(value as object).map(([k, v]) => `${pyRepr(k)}: ${pyReprOfValue(v)}`);
        return `{${items.join(', ')}}`;
      }
      return String(value);
  }
}

function pyReprOfValue(value: unknown): string {
  return typeof value === 'string' ? pyRepr(value) : pyStr(value);
}
