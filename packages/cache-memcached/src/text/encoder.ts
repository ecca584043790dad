/**
 * Builds text-protocol requests as single Buffers (one allocation each). Keys must already have
 * passed `checkKey`: nothing here escapes them.
 */

export type StorageVerb = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';
export type RetrievalVerb = 'get' | 'gets';

const CR = 13;
const LF = 10;

function writeCrlf(buffer: Buffer, offset: number): number {
  buffer[offset] = CR;
  buffer[offset + 1] = LF;
  return offset + 2;
}

/**
 * `<verb> <key> <key>…\r\n` (`prefix` is `get `, `gets ` or `gat <exptime> `). The line is
 * joined as a string and encoded once: a `write` per key is a call into C++ each, and for 100
 * short keys costs two to four times as much.
 */
function encodeKeyList(prefix: string, keys: readonly string[]): Buffer {
  return Buffer.from(`${prefix}${keys.join(' ')}\r\n`, 'utf8');
}

export function encodeRetrieval(verb: RetrievalVerb, keys: readonly string[]): Buffer {
  return encodeKeyList(`${verb} `, keys);
}

/** `gat <exptime> <key>…`: get and touch. */
export function encodeGetAndTouch(exptime: number, keys: readonly string[]): Buffer {
  return encodeKeyList(`gat ${exptime} `, keys);
}

/** `<verb> <key> <flags> <exptime> <bytes> [<cas>]\r\n<data>\r\n` */
export function encodeStorage(verb: StorageVerb, key: string, flags: number, exptime: number, value: Buffer, cas?: bigint): Buffer {
  const head = `${verb} `;
  const tail = cas === undefined ? ` ${flags} ${exptime} ${value.length}\r\n` : ` ${flags} ${exptime} ${value.length} ${cas}\r\n`;
  const buffer = Buffer.allocUnsafe(head.length + Buffer.byteLength(key) + tail.length + value.length + 2);
  let offset = buffer.write(head, 0, 'latin1');
  offset += buffer.write(key, offset, 'utf8');
  offset += buffer.write(tail, offset, 'latin1');
  offset += value.copy(buffer, offset);
  writeCrlf(buffer, offset);
  return buffer;
}

/** `<verb> <key>[ <argument>][ noreply]\r\n` for delete, incr, decr, touch and meta get (`mg <key> <flags>`). */
export function encodeKeyCommand(verb: 'delete' | 'incr' | 'decr' | 'touch' | 'mg', key: string, argument?: string, noreply = false): Buffer {
  const head = `${verb} `;
  const tail = `${argument === undefined ? '' : ` ${argument}`}${noreply ? ' noreply' : ''}\r\n`;
  const buffer = Buffer.allocUnsafe(head.length + Buffer.byteLength(key) + tail.length);
  let offset = buffer.write(head, 0, 'latin1');
  offset += buffer.write(key, offset, 'utf8');
  buffer.write(tail, offset, 'latin1');
  return buffer;
}

/** A command without keys: `version`, `stats`, `flush_all`. */
export function encodeLine(line: string): Buffer {
  return Buffer.from(`${line}\r\n`, 'latin1');
}
