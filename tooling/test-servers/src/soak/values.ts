// The values the soak writes, made so that a reader can tell exactly whether a value it got is
// one that was written for that key: writer `w`'s `c`-th value always goes to key keyFor(w, c)
// and is valueFor(w, c). A reader checks the value is that, for the key it asked; the driver
// checks the counters read were ones the writer had reached (see `reserve` in the worker).

/** Keys of values (strings); `KEY_SPACE` of them, more than locmem's default 300 entries, so it culls. */
export const KEY_SPACE = 400;
/** Keys of counters (integers, for incr), apart so that incr never meets a string. */
export const COUNTER_SPACE = 20;

/** FNV-1a: cheap and stable, to spread writes over the keys and vary value sizes. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

export function keyFor(writer: string, counter: number): string {
  return `k${hash(`${writer}:${counter}`) % KEY_SPACE}`;
}

export function counterKey(index: number): string {
  return `n${index}`;
}

/** Sizes from a few bytes to ~3 KB, so compression thresholds and multi-chunk replies are crossed. */
function paddingFor(writer: string, counter: number): string {
  return '.'.repeat(hash(`pad:${writer}:${counter}`) % 3000);
}

export function valueFor(writer: string, counter: number): string {
  return `${keyFor(writer, counter)}#${writer}#${counter}#${paddingFor(writer, counter)}`;
}

/** The writer and counter of a well-formed value for `key`, or undefined when it is not one. */
export function parseValue(key: string, value: unknown): { writer: string; counter: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const [valueKey, writer, counterText] = value.split('#', 3);
  const counter = Number(counterText);
  if (valueKey !== key || writer === undefined || !Number.isSafeInteger(counter)) return undefined;
  return value === valueFor(writer, counter) ? { writer, counter } : undefined;
}
