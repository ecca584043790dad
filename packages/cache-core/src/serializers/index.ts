import { describe } from '../timeouts';
import { jsonSerializer } from './json-serializer';
import { pickleSerializer } from './pickle/index';
import type { Serializer } from './serializer';
import { v8Serializer } from './v8-serializer';

export type { Serializer } from './serializer';
export { decodeDecimalInteger, deserializeRange, isDecimalInteger } from './serializer';
export { jsonSerializer } from './json-serializer';
export { v8Serializer } from './v8-serializer';
export { dumpPickle, loadPickle, pickleSerializer, type PickleProtocol } from './pickle/index';

const BUILT_IN: Record<string, Serializer> = { v8: v8Serializer, json: jsonSerializer, pickle: pickleSerializer };

/** The `serializer` option: a built-in name (`'v8'`, the default, `'json'` or `'pickle'`) or a `Serializer`. */
export type SerializerOption = 'v8' | 'json' | 'pickle' | Serializer;

export function resolveSerializer(option: unknown): Serializer {
  if (option === undefined) return v8Serializer;
  if (typeof option === 'string') {
    const serializer = BUILT_IN[option];
    if (serializer) return serializer;
  } else if (
    typeof option === 'object' &&
    option !== null &&
    typeof (option as Serializer).serialize === 'function' &&
    typeof (option as Serializer).deserialize === 'function'
  ) {
    return option as Serializer;
  }
  throw new TypeError(`Cache option serializer must be 'v8', 'json', 'pickle' or an object with serialize() and deserialize(); got ${describe(option)}`);
}
