import { describe, expect, it } from 'vitest';
import { makeTemplateFragmentKey } from './fragment-key';

// Django's tests/cache/tests.py::TestMakeTemplateFragmentKey.
describe('makeTemplateFragmentKey matches Django', () => {
  it.each([
    [['a.fragment'], 'template.cache.a.fragment.d41d8cd98f00b204e9800998ecf8427e'],
    [['foo', ['abc']], 'template.cache.foo.493e283d571a73056196f1a68efd0f66'],
    [['bar', ['abc', 'def']], 'template.cache.bar.17c1a507a0cb58384f4c639067a93520'],
    [['spam', ['abc:def%']], 'template.cache.spam.06c8ae8e8c430b69fb0a6443504153dc'],
    [['foo', [1, 2, 3, 4, 5]], 'template.cache.foo.7ae8fd2e0d25d651c683bdeebdb29461'],
    [['foo', ['42º', '😀']], 'template.cache.foo.7ced1c94e543668590ba39b3c08b0237'],
    [['foo', ['x'.repeat(10000)]], 'template.cache.foo.3670b349b5124aa56bdb50678b02b23a'],
  ] as const)('%j', (args, expected) => {
    expect(makeTemplateFragmentKey(...(args as unknown as [string, unknown[]?]))).toBe(expected);
  });

  it('treats no vary-on arguments and an empty list alike', () => {
    expect(makeTemplateFragmentKey('x', [])).toBe(makeTemplateFragmentKey('x'));
    expect(makeTemplateFragmentKey('x', null)).toBe(makeTemplateFragmentKey('x'));
  });

  it('hashes Python renderings of non-strings', () => {
    expect(makeTemplateFragmentKey('f', [true, null])).toBe(makeTemplateFragmentKey('f', ['True', 'None']));
    expect(makeTemplateFragmentKey('f', [1.5])).toBe(makeTemplateFragmentKey('f', ['1.5']));
  });
});
