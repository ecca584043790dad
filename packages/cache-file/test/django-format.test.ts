import { describe, expect, it } from 'vitest';
import { djangoFormat } from '../src/django-format';

// `pickle.dumps(1.5, protocol)` and `pickle.dumps(None, protocol)` as Python 3.11 writes them.
const PYTHON_HEADERS: Array<[string, string, number | null]> = [
  ['protocol 1, no PROTO', '473ff80000000000002e', 1.5],
  ['protocol 2', '8002473ff80000000000002e', 1.5],
  ['protocol 3', '8003473ff80000000000002e', 1.5],
  ['protocol 4, framed', '8004950a00000000000000473ff80000000000002e', 1.5],
  ['protocol 5, framed', '8005950a00000000000000473ff80000000000002e', 1.5],
  ['None, protocol 1', '4e2e', null],
  ['None, protocol 4', '80044e2e', null],
  ['None, protocol 5', '80054e2e', null],
];

describe("Django's FileBasedCache header", () => {
  it.each(PYTHON_HEADERS)('reads a pickled expiry of %s and finds the body after STOP', (_, hex, expiry) => {
    const header = Buffer.from(hex, 'hex');
    expect(djangoFormat.decodeHeader(Buffer.concat([header, Buffer.from('x\x9c body')]))).toEqual({ expiry, bodyOffset: header.length });
  });

  it('writes protocol 4 as Python does: a framed BINFLOAT, or an unframed NONE', () => {
    expect(djangoFormat.encodeHeader(1.5).toString('hex')).toBe('8004950a00000000000000473ff80000000000002e');
    expect(djangoFormat.encodeHeader(null).toString('hex')).toBe('80044e2e');
    // A whole number of seconds stays a float, never a pickle int.
    expect(djangoFormat.encodeHeader(1_700_000_000)[11]).toBe(0x47);
  });

  it.each([
    ['nothing', ''],
    ['protocol 0 text', '46312e350a2e'],
    ['an unknown protocol', '8006473ff80000000000002e'],
    ['an int expiry', '80044b012e'],
    ['a frame that does not end at STOP', '8004950b00000000000000473ff80000000000002e'],
    ['a truncated float', '8004950a00000000000000473ff800'],
    ['no STOP', '8004473ff8000000000000004e'],
  ])('refuses %s', (_, hex) => {
    expect(djangoFormat.decodeHeader(Buffer.from(hex, 'hex'))).toBeUndefined();
  });
});
