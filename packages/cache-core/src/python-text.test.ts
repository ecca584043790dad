import { describe, expect, it } from 'vitest';
import { pyRepr, pyStr } from './python-text';

describe('pyRepr matches Python repr() of str', () => {
  it.each([
    ['abc', "'abc'"],
    ["it's", `"it's"`],
    [`it's "quoted"`, `'it\\'s "quoted"'`],
    ['back\\slash', "'back\\\\slash'"],
    ['line\nbreak\r\t', "'line\\nbreak\\r\\t'"],
    ['\x00\x1f\x7f\x85', "'\\x00\\x1f\\x7f\\x85'"],
    ['non-breaking\u00a0space', "'non-breaking\\xa0space'"],
    ['\u2028', "'\\u2028'"],
    ['清 and 😀', "'清 and 😀'"],
    ['\u{e0001}', "'\\U000e0001'"],
  ])('%j', (input, expected) => {
    expect(pyRepr(input)).toBe(expected);
  });
});

describe('pyStr matches Python str()', () => {
  it.each([
    ['text', 'text'],
    [42, '42'],
    [-7, '-7'],
    [2 ** 60, '1152921504606846976'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [1.25e-7, '1.25e-07'],
    [0.0001, '0.0001'],
    [NaN, 'nan'],
    [-Infinity, '-inf'],
    [true, 'True'],
    [false, 'False'],
    [null, 'None'],
    [undefined, 'None'],
    [10n, '10'],
    [[1, 'a', null], "[1, 'a', None]"],
    [{ a: 1, b: [true] }, "{'a': 1, 'b': [True]}"],
  ])('%s', (input, expected) => {
    expect(pyStr(input)).toBe(expected);
  });
});
