import { types } from 'node:util';

/** Returned by `copyPlainTree` for a value it does not copy: the caller serializes it instead. */
export const NOT_PLAIN: unique symbol = Symbol('not a plain tree');

// Bounds on what is copied by hand: the walk is recursive, and a very large value gains little
// over serialization compared with the cost of checking it.
const MAX_DEPTH = 64;
const MAX_NODES = 10_000;

interface Walk {
  nodes: number;
  readonly seen: Set<object>;
}

/** Values that cannot be changed after `set`, so a cache may keep them as they are. */
export function isImmutable(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint' || value == null;
}

/**
 * A deep copy of `value` when it is a tree of plain objects, dense arrays and immutable values:
 * the case where a copy made by hand is exactly what a v8 serializer round trip returns, at a
 * fraction of the cost. `NOT_PLAIN` for anything else (class instances, Dates, Maps, Buffers,
 * functions, symbols, proxies, arrays with holes or extra properties, `__proto__` keys, objects
 * reachable twice, deep or very large values), which keep the serializer's exact semantics.
 */
export function copyPlainTree(value: object): object | typeof NOT_PLAIN {
  try {
    return checkedCopy(value, 0, { nodes: 0, seen: new Set() }) as object | typeof NOT_PLAIN;
  } catch {
    // A getter threw: the serializer meets the same error and reports it as a SerializationError.
    return NOT_PLAIN;
  }
}

function checkedCopy(value: unknown, depth: number, walk: Walk): unknown {
  if (typeof value !== 'object' || value === null) return isImmutable(value) ? value : NOT_PLAIN;
  if (depth > MAX_DEPTH || walk.seen.has(value) || types.isProxy(value)) return NOT_PLAIN;
  walk.seen.add(value);
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) return checkedArrayCopy(value as unknown[], depth, walk);
  if (prototype !== Object.prototype) return NOT_PLAIN;
  const keys = Object.keys(value);
  if ((walk.nodes += keys.length) > MAX_NODES) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    // Assigning `__proto__` would set the prototype instead of a property.
    if (key === '__proto__') return NOT_PLAIN;
    const item = checkedCopy((value as Record<string, unknown>)[key], depth + 1, walk);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}

function checkedArrayCopy(array: unknown[], depth: number, walk: Walk): unknown {
  if ((walk.nodes += array.length) > MAX_NODES) return NOT_PLAIN;
  // Holes and extra named properties both make the key count differ from the length.
  if (Object.keys(array).length !== array.length) return NOT_PLAIN;
  const copy: unknown[] = [];
  for (const element of array) {
    const item = checkedCopy(element, depth + 1, walk);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy.push(item);
  }
  return copy;
}

/** Copies a tree `copyPlainTree` made: already known to be plain, so nothing is checked. */
export function copyTree(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    for (const element of value) copy.push(copyTree(element));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyTree((value as Record<string, unknown>)[key]);
  return copy;
}
