/**
 * The byte-level codecs pickle relies on, written from their definitions in CPython's docs:
 * UTF-8 with the `surrogatepass` error handler (how pickle stores `str`), `raw-unicode-escape`
 * (protocol 0 `UNICODE`), Python string-literal escapes (protocol 0 `STRING`) and little-endian
 * two's-complement integers (`LONG1`/`LONG4`). Decoders return `undefined` on malformed input;
 * the reader turns that into a `SerializationError` with context.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDFFF]/;

/** UTF-8, but a lone surrogate (legal in a Python `str` and a JS string) is encoded like any other code point. */
export function encodeUtf8(text: string): Buffer {
  if (!LONE_SURROGATE.test(text)) return Buffer.from(text, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
  }
  return Buffer.from(bytes);
}

/** The inverse of `encodeUtf8`: strict UTF-8 that also accepts encoded surrogates (`surrogatepass`). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeUtf8SurrogatePass(bytes);
  }
}

function decodeUtf8SurrogatePass(bytes: Uint8Array): string | undefined {
  const units: number[] = [];
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    let code: number;
    let size: number;
    if (lead < 0x80) [code, size] = [lead, 1];
    else if (lead >= 0xc2 && lead < 0xe0) [code, size] = [lead & 0x1f, 2];
    else if (lead >= 0xe0 && lead < 0xf0) [code, size] = [lead & 0x0f, 3];
    else if (lead >= 0xf0 && lead < 0xf5) [code, size] = [lead & 0x07, 4];
    else return undefined;
    if (i + size > bytes.length) return undefined;
    for (let k = 1; k < size; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return undefined;
      code = (code << 6) | (next & 0x3f);
    }
    const shortest = size === 1 || code >= [0, 0, 0x80, 0x800, 0x10000][size]!;
    if (!shortest || code > 0x10ffff) return undefined;
    if (code >= 0x10000) units.push(0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff));
    else units.push(code);
    i += size;
    if (units.length >= 4096) text += String.fromCharCode(...units.splice(0));
  }
  return text + String.fromCharCode(...units);
}

const HEX_DIGITS = { u: /^[0-9a-fA-F]{4}$/, U: /^[0-9a-fA-F]{8}$/ };

/** `raw-unicode-escape`: bytes are Latin-1 code points, except `\uXXXX` and `\UXXXXXXXX` after an odd run of backslashes. */
export function decodeRawUnicodeEscape(bytes: Uint8Array): string | undefined {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!latin1.includes('\\')) return latin1;
  let out = '';
  let i = 0;
  while (i < latin1.length) {
    const slash = latin1.indexOf('\\', i);
    if (slash < 0) return out + latin1.slice(i);
    let run = slash;
    while (run < latin1.length && latin1[run] === '\\') run++;
    const marker = latin1[run];
    if ((run - slash) % 2 === 0 || (marker !== 'u' && marker !== 'U')) {
      out += latin1.slice(i, run);
      i = run;
      continue;
    }
    const digits = marker === 'u' ? 4 : 8;
    const hex = latin1.slice(run + 1, run + 1 + digits);
    if (!HEX_DIGITS[marker].test(hex)) return undefined;
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) return undefined;
    out += latin1.slice(i, run - 1) + String.fromCodePoint(code);
    i = run + 1 + digits;
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = { '\\': 0x5c, "'": 0x27, '"': 0x22, a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/** Python's `codecs.escape_decode` (the body of a protocol 0 `STRING`, without its quotes), as bytes. */
export function decodeEscapes(text: string): Buffer | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char !== 0x5c) {
      out.push(char & 0xff);
      continue;
    }
    const next = text[++i];
    if (next === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) out.push(simple);
    else if (next === '\n') continue;
    else if (next === 'x') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (next >= '0' && next <= '7') {
      const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3))![0];
      out.push(Number.parseInt(octal, 8) & 0xff);
      i += octal.length - 1;
    } else out.push(0x5c, next.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

/** A little-endian two's-complement integer (LONG1/LONG4 payload); empty means 0. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  const hex = Buffer.from(bytes).reverse().toString('hex');
  let value = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return toPythonInt(value);
}

/** The shortest little-endian two's-complement bytes of `value`, as CPython's `encode_long`. */
export function encodeLong(value: bigint): Buffer {
  if (value === 0n) return Buffer.alloc(0);
  const negative = value < 0n;
  // For a negative x, the bytes of ~x = -x - 1 (non-negative) with every bit flipped.
  let hex = (negative ? -value - 1n : value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
  const bytes = Buffer.from(hex, 'hex').reverse();
  if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]! & 0xff;
  return bytes;
}

/** Python `int` → JS: a number when it is a safe integer, else a BigInt. */
export function toPythonInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
