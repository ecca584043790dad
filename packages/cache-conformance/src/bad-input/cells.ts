import type { BaseCache } from '@cachette/cache-core';
import type { Capabilities } from '../capabilities';
import type { Cell } from './outcome';

/** A cell, and what the suite requires of it on a backend with `capabilities`. */
export interface ExpectedCell extends Cell {
  expected: (capabilities: Capabilities) => string;
}

const VALUE = 'value';
const NOT_FOUND = 'rejects KeyNotFoundError';

// ---- keys ------------------------------------------------------------------------------------

interface BadKey {
  input: string;
  key: unknown;
  /**
   * `'invalid'`: refused everywhere; `'memcached'`: Django's memcached rules (a warning, or refused
   * by a strict backend); `'bytes'`: fine for Django, refused by a strict backend counting UTF-8
   * bytes as memcached does; `'fine'`: stored.
   */
  kind: 'invalid' | 'memcached' | 'bytes' | 'fine';
}

const BAD_KEYS: BadKey[] = [
  { input: 'key: a number', key: 42, kind: 'invalid' },
  { input: 'key: undefined', key: undefined, kind: 'invalid' },
  { input: 'key: null', key: null, kind: 'invalid' },
  { input: 'key: an object', key: { id: 1 }, kind: 'invalid' },
  { input: 'key: a Symbol', key: Symbol('key'), kind: 'invalid' },
  { input: "key: '' (empty)", key: '', kind: 'fine' },
  { input: 'key: over 250 characters', key: 'k'.repeat(251), kind: 'memcached' },
  { input: 'key: over 250 bytes in UTF-8, under 250 characters', key: 'é'.repeat(126), kind: 'bytes' },
  { input: 'key: with spaces', key: 'key with spaces', kind: 'memcached' },
  { input: 'key: a control character', key: 'key\u0001control', kind: 'memcached' },
  { input: 'key: CR LF', key: 'key\r\nflush_all', kind: 'memcached' },
];

type KeyedCall = (cache: BaseCache, key: string, other: string) => Promise<unknown>;

/** Each method on a key nobody stored: the call, whether the key is written, and the answer. */
const KEYED_METHODS: Array<{ method: string; call: KeyedCall; writes: boolean; answer: (capabilities: Capabilities) => string }> = [
  { method: 'get', call: (cache, key) => cache.get(key), writes: false, answer: () => '→ undefined' },
  { method: 'set', call: (cache, key) => cache.set(key, VALUE), writes: true, answer: () => '→ undefined' },
  { method: 'add', call: (cache, key) => cache.add(key, VALUE), writes: true, answer: () => '→ true' },
  { method: 'touch', call: (cache, key) => cache.touch(key), writes: false, answer: () => '→ false' },
  { method: 'delete', call: (cache, key) => cache.delete(key), writes: false, answer: () => '→ false' },
  { method: 'hasKey', call: (cache, key) => cache.hasKey(key), writes: false, answer: () => '→ false' },
  { method: 'getMany', call: (cache, key, other) => cache.getMany([other, key]), writes: false, answer: () => '→ Map(0)' },
  { method: 'setMany', call: (cache, key, other) => cache.setMany(new Map([[other, VALUE], [key, VALUE]])), writes: true, answer: () => '→ []' },
  { method: 'deleteMany', call: (cache, key, other) => cache.deleteMany([other, key]), writes: false, answer: () => '→ undefined' },
  { method: 'incr', call: (cache, key) => cache.incr(key), writes: false, answer: () => NOT_FOUND },
  { method: 'decr', call: (cache, key) => cache.decr(key), writes: false, answer: () => NOT_FOUND },
  { method: 'incrVersion', call: (cache, key) => cache.incrVersion(key), writes: false, answer: () => NOT_FOUND },
  { method: 'decrVersion', call: (cache, key) => cache.decrVersion(key), writes: false, answer: () => NOT_FOUND },
  { method: 'getOrSet', call: (cache, key) => cache.getOrSet(key, VALUE), writes: true, answer: () => '→ "value"' },
  { method: 'ttl', call: (cache, key) => cache.ttl(key), writes: false, answer: (capabilities) => (capabilities.ttl ? '→ undefined' : 'rejects NotSupportedError') },
];

function expectedForKey(kind: BadKey['kind'], writes: boolean, answer: string, capabilities: Capabilities): string {
  const stored = writes ? ', stored' : '';
  const refused = `rejects InvalidCacheKey${writes ? ', nothing stored' : ''}`;
  if (kind === 'invalid') return refused;
  if (capabilities.validatesKeysStrictly && kind !== 'fine') return refused;
  if (kind === 'memcached') return `CacheKeyWarning, ${answer}${stored}`;
  return `${answer}${stored}`;
}

/** Every method with every kind of bad key; the many-key methods get it beside a good key. */
export function keyCells(key: (name: string) => string): ExpectedCell[] {
  return BAD_KEYS.flatMap((bad) =>
    KEYED_METHODS.map(({ method, call, writes, answer }) => {
      const other = key('good-neighbour');
      const badKey = typeof bad.key === 'string' ? key(bad.key) : bad.key;
      const probes = !writes ? [] : method === 'setMany' ? [other, badKey] : [badKey];
      return {
        method,
        input: bad.input,
        run: (cache: BaseCache) => call(cache, badKey as string, other),
        probes,
        expected: (capabilities: Capabilities) => expectedForKey(bad.kind, writes, answer(capabilities), capabilities),
      };
    }),
  );
}

/** Collections of keys that are not collections: a `TypeError` rejection, never a synchronous throw. */
export function collectionCells(): ExpectedCell[] {
  const typeError = () => 'rejects TypeError';
  return [
    { method: 'getMany', input: 'keys: not iterable (null)', run: (cache) => cache.getMany(null as never), probes: [], expected: typeError },
    { method: 'deleteMany', input: 'keys: not iterable (null)', run: (cache) => cache.deleteMany(null as never), probes: [], expected: typeError },
    // A string is iterable, by character: taken as keys, 'ab' would read the keys 'a' and 'b'.
    { method: 'getMany', input: "keys: a string ('ab')", run: (cache) => cache.getMany('ab'), probes: [], expected: typeError },
    { method: 'deleteMany', input: "keys: a string ('ab')", run: (cache) => cache.deleteMany('ab'), probes: [], expected: typeError },
    { method: 'setMany', input: 'entries: null', run: (cache) => cache.setMany(null as never), probes: [], expected: typeError },
    { method: 'setMany', input: "entries: a string ('ab')", run: (cache) => cache.setMany('ab' as never), probes: ['0', '1'], expected: () => 'rejects TypeError, nothing stored' },
    {
      method: 'setMany',
      input: 'entries: an array of pairs',
      run: (cache) => cache.setMany([['pair', VALUE]] as never),
      probes: ['0', 'pair'],
      expected: () => 'rejects TypeError, nothing stored',
    },
  ];
}

// ---- timeouts --------------------------------------------------------------------------------

const BAD_TIMEOUTS: Array<{ input: string; timeout: unknown; effect: 'refused' | 'stored' | 'expired' }> = [
  { input: 'timeout: NaN', timeout: Number.NaN, effect: 'refused' },
  { input: "timeout: a string ('5')", timeout: '5', effect: 'refused' },
  { input: 'timeout: Infinity', timeout: Infinity, effect: 'stored' },
  { input: 'timeout: -Infinity', timeout: -Infinity, effect: 'expired' },
  { input: 'timeout: negative (-1)', timeout: -1, effect: 'expired' },
  // Long enough for memcached, which keeps whole seconds (30.5 → 30): an entry of 1 s can expire
  // at the server clock's next tick, before the probe reads it.
  { input: 'timeout: not an integer (30.5)', timeout: 30.5, effect: 'stored' },
];

type TimedCall = (cache: BaseCache, key: string, timeout: number) => Promise<unknown>;

const TIMED_METHODS: Array<{ method: string; call: TimedCall; seeded: boolean; answer: string }> = [
  { method: 'set', call: (cache, key, timeout) => cache.set(key, VALUE, timeout), seeded: false, answer: '→ undefined' },
  { method: 'add', call: (cache, key, timeout) => cache.add(key, VALUE, timeout), seeded: false, answer: '→ true' },
  { method: 'touch', call: (cache, key, timeout) => cache.touch(key, timeout), seeded: true, answer: '→ true' },
  { method: 'setMany', call: (cache, key, timeout) => cache.setMany({ [key]: VALUE }, timeout), seeded: false, answer: '→ []' },
  { method: 'getOrSet', call: (cache, key, timeout) => cache.getOrSet(key, VALUE, timeout), seeded: false, answer: '→ "value"' },
];

/** The methods that take a timeout, with each kind of odd timeout. `touch` acts on a stored key. */
export function timeoutCells(key: (name: string) => string): ExpectedCell[] {
  return BAD_TIMEOUTS.flatMap(({ input, timeout, effect }) =>
    TIMED_METHODS.map(({ method, call, seeded, answer }) => {
      const target = key('timed');
      // A refused call leaves a seeded key as it was; a timeout already past removes it.
      const expected = effect === 'refused' ? `rejects TypeError${seeded ? ', stored' : ', nothing stored'}` : `${answer}, ${effect === 'stored' ? 'stored' : 'nothing stored'}`;
      return {
        method,
        input,
        run: (cache: BaseCache) => call(cache, target, timeout as number),
        probes: [target],
        seeds: seeded ? [target] : [],
        expected: () => expected,
      };
    }),
  );
}

// ---- values ----------------------------------------------------------------------------------

class Temperature {
  constructor(readonly celsius: number) {}
  fahrenheit(): number {
    return (this.celsius * 9) / 5 + 32;
  }
}

function cyclicValue(): object {
  const node: { name: string; self?: object } = { name: 'loop' };
  node.self = node;
  return node;
}

type Domains = Record<Capabilities['values'], 'stored' | 'refused'>;
const REFUSED_EVERYWHERE: Domains = { v8: 'refused', json: 'refused', pickle: 'refused' };

interface BadValue {
  input: string;
  value: () => unknown;
  domains: Domains;
  /** `getOrSet` awaits a Promise given as the default (or returned by the factory) and stores its value. */
  awaited?: boolean;
}

const BAD_VALUES: BadValue[] = [
  { input: 'value: a function', value: () => () => 'code', domains: REFUSED_EVERYWHERE },
  { input: 'value: a Symbol', value: () => Symbol('value'), domains: REFUSED_EVERYWHERE },
  { input: 'value: a class instance with methods', value: () => new Temperature(21), domains: { v8: 'stored', json: 'refused', pickle: 'refused' } },
  { input: 'value: a Promise', value: () => Promise.resolve(VALUE), domains: REFUSED_EVERYWHERE, awaited: true },
  { input: 'value: a cyclic object', value: cyclicValue, domains: { v8: 'stored', json: 'refused', pickle: 'stored' } },
];

type ValueCall = (cache: BaseCache, key: (name: string) => string, value: unknown) => Promise<unknown>;

const VALUE_METHODS: Array<{ method: string; call: ValueCall; probes: string[]; answer: string; factory?: boolean }> = [
  { method: 'set', call: (cache, key, value) => cache.set(key('bad'), value), probes: ['bad'], answer: '→ undefined' },
  { method: 'add', call: (cache, key, value) => cache.add(key('bad'), value), probes: ['bad'], answer: '→ true' },
  {
    method: 'setMany',
    call: (cache, key, value) => cache.setMany(new Map([[key('good-1'), VALUE], [key('bad'), value], [key('good-2'), VALUE]])),
    probes: ['good-1', 'bad', 'good-2'],
    answer: '→ []',
  },
  // A function given to getOrSet is its factory, so the function value is only tried through one.
  { method: 'getOrSet', call: (cache, key, value) => cache.getOrSet(key('bad'), () => value), probes: ['bad'], answer: '', factory: true },
];

function expectedForValue(bad: BadValue, answer: string, factory: boolean, capabilities: Capabilities): string {
  if (factory && bad.awaited) return '→ "value", stored';
  if (bad.domains[capabilities.values] === 'refused') return 'rejects SerializationError, nothing stored';
  return `${factory ? '→ "(the value)"' : answer}, stored`;
}

/** `set`, `add`, `setMany` (the bad value between two good ones) and `getOrSet`'s factory, with each kind of value. */
export function valueCells(key: (name: string) => string): ExpectedCell[] {
  return BAD_VALUES.flatMap((bad) =>
    VALUE_METHODS.map(({ method, call, probes, answer, factory = false }) => ({
      method: factory ? 'getOrSet (factory result)' : method,
      input: bad.input,
      run: async (cache: BaseCache) => {
        const result = await call(cache, key, bad.value());
        // getOrSet hands back what it stored: shown by kind, as a function or cycle has no text.
        return factory && typeof result === 'object' && result !== null ? '(the value)' : result;
      },
      probes: probes.map(key),
      expected: (capabilities: Capabilities) => expectedForValue(bad, answer, factory, capabilities),
    })),
  );
}

export const OVERSIZED_VALUE_INPUT = 'value: over the item size limit';

/**
 * A value one byte over the backend's item size limit, through every method that writes one.
 * Only the server can tell, so `setMany` follows Django's `set_many`: the others are stored and
 * the key that failed is returned.
 */
export function oversizedValueCells(key: (name: string) => string, maxValueBytes: number): ExpectedCell[] {
  const oversized = (): string => 'x'.repeat(maxValueBytes + 1);
  return VALUE_METHODS.map(({ method, call, probes, factory = false }) => ({
    method: factory ? 'getOrSet (factory result)' : method,
    input: OVERSIZED_VALUE_INPUT,
    run: (cache: BaseCache) => call(cache, key, oversized()).then((result) => (typeof result === 'string' ? '(the value)' : result)),
    probes: probes.map(key),
    expected: () => (method === 'setMany' ? `→ ${JSON.stringify([key('bad')])}, stored 2 of 3` : 'rejects ValueTooLargeError, nothing stored'),
  }));
}

/** The whole matrix, as the suite's tests run it in turn (the size cells only with a declared limit). */
export function badInputCells(key: (name: string) => string, maxValueBytes?: number): ExpectedCell[] {
  const sized = maxValueBytes === undefined ? [] : oversizedValueCells(key, maxValueBytes);
  return [...keyCells(key), ...collectionCells(), ...timeoutCells(key), ...valueCells(key), ...sized];
}
