// Django's tests/template_tests/syntax_tests/test_cache.py (CacheTagTests, CacheTests), in nunjucks
// syntax, and the `{% cache %}` tag's keys, timeouts and asynchronous rendering.
import { createHash } from 'node:crypto';
import nunjucks from 'nunjucks';
import { CacheError, InvalidCacheBackendError, caches, closeCaches, configureCaches, makeTemplateFragmentKey } from '@cachette/cache-core';
import { LocMemCache } from '@cachette/cache-locmem';
import { CacheExtension, TemplateSyntaxError, installCacheTag, renderAsync, renderStringAsync } from '@cachette/cache-http/nunjucks';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const EMPTY = md5('');

/** Django's `@setup`: an engine serving `templates`, with the tag and Django's test filter `noop`. */
function setup(templates: Record<string, string> = {}): nunjucks.Environment {
  const loader: nunjucks.ILoader = {
    getSource(name) {
      const src = templates[name];
      if (src === undefined) throw new Error(`no template ${name}`);
      return { src, path: name, noCache: true };
    },
  };
  // dev: nunjucks then keeps the tag's own error as the `cause` of its Template render error.
  const env = installCacheTag(new nunjucks.Environment(loader, { dev: true }));
  // template_tests/templatetags/custom.py: returns its first argument, ignores the second.
  env.addFilter('noop', (value: unknown) => value);
  return env;
}

async function renderError(rendering: Promise<string>): Promise<Error> {
  const error = await rendering.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** The render fails with the tag's TemplateSyntaxError carrying exactly `message`. */
async function expectSyntaxError(rendering: Promise<string>, message: string): Promise<TemplateSyntaxError> {
  const error = await renderError(rendering);
  expect(error.message).toContain(`TemplateSyntaxError: ${message}`);
  expect(error.cause).toBeInstanceOf(TemplateSyntaxError);
  expect(error.cause).toBeInstanceOf(CacheError);
  expect((error.cause as Error).message).toBe(message);
  return error.cause as TemplateSyntaxError;
}

const defaultCache = () => caches.get('default');

beforeEach(() => configureCaches({ default: { backend: LocMemCache, location: 'nunjucks-tag' } }));
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(caches.all({ initializedOnly: true }).map((cache) => cache.clear()));
});
afterAll(() => closeCaches());

describe('CacheTagTests', () => {
  it('cache03', async () => {
    const env = setup({ cache03: '{% cache 2 test %}cache03{% endcache %}' });
    expect(await renderAsync(env, 'cache03')).toBe('cache03');
  });

  it('cache04', async () => {
    const env = setup({
      cache03: '{% cache 2 test %}cache03{% endcache %}',
      cache04: '{% cache 2 test %}cache04{% endcache %}',
    });
    await renderAsync(env, 'cache03');
    expect(await renderAsync(env, 'cache04')).toBe('cache03');
  });

  it('cache05', async () => {
    const env = setup({ cache05: '{% cache 2 test foo %}cache05{% endcache %}' });
    expect(await renderAsync(env, 'cache05', { foo: 1 })).toBe('cache05');
  });

  it('cache06', async () => {
    const env = setup({ cache06: '{% cache 2 test foo %}cache06{% endcache %}' });
    expect(await renderAsync(env, 'cache06', { foo: 2 })).toBe('cache06');
  });

  it('cache07', async () => {
    const env = setup({
      cache05: '{% cache 2 test foo %}cache05{% endcache %}',
      cache07: '{% cache 2 test foo %}cache07{% endcache %}',
    });
    await renderAsync(env, 'cache05', { foo: 1 });
    expect(await renderAsync(env, 'cache07', { foo: 1 })).toBe('cache05');
  });

  it('cache08: the timeout may be a variable', async () => {
    const env = setup({
      cache06: '{% cache 2 test foo %}cache06{% endcache %}',
      cache08: '{% cache time test foo %}cache08{% endcache %}',
    });
    const context = { foo: 2, time: 2 };
    await renderAsync(env, 'cache06', context);
    expect(await renderAsync(env, 'cache08', context)).toBe('cache06');
  });

  it('cache11: no arguments', () => {
    const env = setup({ cache11: '{% cache %}{% endcache %}' });
    expect(() => env.getTemplate('cache11', true)).toThrow("''cache'' tag requires at least 2 arguments.");
  });

  it('cache12: one argument', () => {
    const env = setup({ cache12: '{% cache 1 %}{% endcache %}' });
    expect(() => env.getTemplate('cache12', true)).toThrow(/\[Line 1, Column 4\]\s+''cache'' tag requires at least 2 arguments\./);
  });

  // Django resolves an unknown variable to '' and so reports "non-integer timeout value: ''".
  it('cache13: an unknown timeout variable', async () => {
    const env = setup({ cache13: '{% cache foo bar %}{% endcache %}' });
    await expectSyntaxError(renderAsync(env, 'cache13'), `"cache" tag got an unknown variable: 'foo'`);
  });

  it('cache14: a timeout that is not an integer', async () => {
    const env = setup({ cache14: '{% cache foo bar %}{% endcache %}' });
    await expectSyntaxError(renderAsync(env, 'cache14', { foo: 'fail' }), `"cache" tag got a non-integer timeout value: 'fail'`);
  });

  it('cache15: a list timeout', async () => {
    const env = setup({ cache15: '{% cache foo bar %}{% endcache %}' });
    await expectSyntaxError(renderAsync(env, 'cache15', { foo: [] }), '"cache" tag got a non-integer timeout value: []');
  });

  it('cache16: a vary-on value with spaces (#7460)', async () => {
    const env = setup({ cache16: '{% cache 1 foo bar %}{% endcache %}' });
    expect(await renderAsync(env, 'cache16', { foo: 'foo', bar: 'with spaces' })).toBe('');
  });

  it('cache17: a long vary-on value (#11270)', async () => {
    const env = setup({ cache17: '{% cache 10 long_cache_key poem %}Some Content{% endcache %}' });
    const poem =
      'Oh freddled gruebleblubber, thy micturations are to me, ' +
      'As plurdled gabbleblotchits on a lurgid bee, ' +
      'That mordiously hath bitled out its earted jurtles, ' +
      'Into a rancid festering confectious organ squealer.';
    expect(await renderAsync(env, 'cache17', { poem })).toBe('Some Content');
    expect(await defaultCache().get(makeTemplateFragmentKey('long_cache_key', [poem]))).toBe('Some Content');
  });

  it('cache18: whitespace in filter arguments', async () => {
    const env = setup({ cache18: '{% cache 2|noop("x y") cache18 %}cache18{% endcache %}' });
    expect(await renderAsync(env, 'cache18')).toBe('cache18');
  });

  it('test_none_timeout: none caches forever', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const env = setup({
      first: '{% cache none fragment19 %}content{% endcache %}',
      second: '{% cache none fragment19 %}not rendered{% endcache %}',
    });
    expect(await renderAsync(env, 'first')).toBe('content');
    vi.setSystemTime(Date.now() + 10 * 365 * 86_400_000);
    expect(await renderAsync(env, 'second')).toBe('content');
  });
});

describe('CacheTests', () => {
  it('test_cache_regression_20130: the fragment name is never a variable', async () => {
    const env = setup();
    await renderStringAsync(env, '{% cache 1 regression_20130 %}foo{% endcache %}', { regression_20130: 'resolved' });
    expect(await defaultCache().get(`template.cache.regression_20130.${EMPTY}`)).toBe('foo');
    expect(await defaultCache().hasKey(`template.cache.resolved.${EMPTY}`)).toBe(false);
  });

  it('test_cache_fragment_cache: template_fragments is preferred, using="default" picks default', async () => {
    configureCaches({
      default: { backend: LocMemCache, location: 'nunjucks-default' },
      template_fragments: { backend: LocMemCache, location: 'nunjucks-fragments' },
    });
    const env = setup();
    expect(await renderStringAsync(env, '{% cache 1 fragment %}foo{% endcache %}')).toBe('foo');
    expect(await renderStringAsync(env, '{% cache 1 fragment using="default" %}bar{% endcache %}')).toBe('bar');
    const key = makeTemplateFragmentKey('fragment');
    expect(await caches.get('template_fragments').get(key)).toBe('foo');
    expect(await caches.get('default').get(key)).toBe('bar');
  });

  it('test_cache_missing_backend', async () => {
    const env = setup();
    const rendering = renderStringAsync(env, '{% cache 1 backend using="unknown" %}bar{% endcache %}');
    const error = await expectSyntaxError(rendering, "Invalid cache name specified for cache tag: 'unknown'");
    expect(error.cause).toBeInstanceOf(InvalidCacheBackendError);
  });
});

describe('keys', () => {
  it("are Django's makeTemplateFragmentKey(name, vary-on values)", async () => {
    await renderStringAsync(setup(), '{% cache 500 sidebar user.id %}side{% endcache %}', { user: { id: 42 } });
    const key = `template.cache.sidebar.${md5('42:')}`;
    expect(makeTemplateFragmentKey('sidebar', [42])).toBe(key);
    expect(await defaultCache().get(key)).toBe('side');
  });

  it("hash an unknown vary-on variable as '' (Django's string_if_invalid)", async () => {
    await renderStringAsync(setup(), '{% cache 1 b zz %}y{% endcache %}');
    expect(await defaultCache().get(`template.cache.b.${md5(':')}`)).toBe('y');
  });

  it('take a dotted fragment name as written, and a quoted one without its quotes', async () => {
    const env = setup();
    await renderStringAsync(env, '{% cache 1 a.fragment %}dotted{% endcache %}', { a: { fragment: 'resolved' } });
    await renderStringAsync(env, '{% cache 1 "quoted" %}quoted{% endcache %}');
    expect(await defaultCache().get(`template.cache.a.fragment.${EMPTY}`)).toBe('dotted');
    expect(await defaultCache().get(`template.cache.quoted.${EMPTY}`)).toBe('quoted');
  });

  it('accept commas between arguments', async () => {
    const env = setup();
    const context = { user: { id: 7 }, alias: 'default' };
    await renderStringAsync(env, '{% cache 500, sidebar, user.id, using=alias %}commas{% endcache %}', context);
    expect(await renderStringAsync(env, '{% cache 500 sidebar user.id %}spaces{% endcache %}', context)).toBe('commas');
  });

  it('differ by vary-on values', async () => {
    const env = setup();
    const template = '{% cache 60 greeting name %}Hello {{ name }}{% endcache %}';
    expect(await renderStringAsync(env, template, { name: 'Ann' })).toBe('Hello Ann');
    expect(await renderStringAsync(env, template, { name: 'Bob' })).toBe('Hello Bob');
    expect(await renderStringAsync(env, template, { name: 'Ann' })).toBe('Hello Ann');
  });
});

describe('arguments', () => {
  it('treat using= as the alias only in last place and after two arguments', async () => {
    const env = setup();
    // Two arguments: `using="x"` is the fragment name (Django's would keep the quotes).
    expect(await renderStringAsync(env, '{% cache 1 using="x" %}named{% endcache %}')).toBe('named');
    expect(await defaultCache().get(`template.cache.using=x.${EMPTY}`)).toBe('named');
    // Not last: a vary-on argument, which is no expression (Django: a TemplateSyntaxError too).
    const error = await renderError(renderStringAsync(env, '{% cache 1 f using="default" x %}{% endcache %}'));
    expect(error.message).toContain('unexpected token in "cache" tag argument: =');
  });

  it('reject an argument that is not one expression', async () => {
    const error = await renderError(renderStringAsync(setup(), '{% cache 1 f a - b %}{% endcache %}'));
    expect(error.message).toContain('expected expression, got end of file');
  });

  it('read a parenthesised argument with spaces as one', async () => {
    await renderStringAsync(setup(), '{% cache 1 f (a ~ " " ~ b) %}ab{% endcache %}', { a: 'x', b: 'y' });
    expect(await defaultCache().get(makeTemplateFragmentKey('f', ['x y']))).toBe('ab');
  });

  it('report an unknown using= variable, and a using= value that is not an alias', async () => {
    const env = setup();
    await expectSyntaxError(renderStringAsync(env, '{% cache 1 f using=zz %}{% endcache %}'), `"cache" tag got an unknown variable: 'zz'`);
    await expectSyntaxError(renderStringAsync(env, '{% cache 1 f using=5 %}{% endcache %}'), 'Invalid cache name specified for cache tag: 5');
    // An object would pass for a cache instance with fragmentCache: a template names aliases only.
    const rendering = renderStringAsync(env, '{% cache 1 f using=settings %}{% endcache %}', { settings: { alias: 'default' } });
    await expectSyntaxError(rendering, "Invalid cache name specified for cache tag: {'alias': 'default'}");
  });
});

describe('timeouts', () => {
  it.each([
    ['5', 5],
    [' 5 ', 5],
    ['-3', -3],
    ['1_000', 1000],
    [5.7, 5],
    [-5.7, -5],
    [true, 1],
    [10n, 10],
    [null, null],
  ])('%o is Python int(): %o', async (value, seconds) => {
    const getOrSet = vi.spyOn(defaultCache(), 'getOrSet');
    await renderStringAsync(setup(), '{% cache t frag %}x{% endcache %}', { t: value });
    expect(getOrSet).toHaveBeenCalledWith(makeTemplateFragmentKey('frag'), expect.any(Function), seconds);
  });

  it.each([
    ['5.7', "'5.7'"],
    ["it's", `"it's"`],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [{}, '{}'],
    [['a', 1], "['a', 1]"],
  ])('%o is no integer', async (value, repr) => {
    const rendering = renderStringAsync(setup(), '{% cache t frag %}x{% endcache %}', { t: value });
    await expectSyntaxError(rendering, `"cache" tag got a non-integer timeout value: ${repr}`);
  });

  it('0 stores nothing: the body renders every time', async () => {
    const env = setup();
    let renders = 0;
    const context = { count: () => ++renders };
    expect(await renderStringAsync(env, '{% cache 0 zero %}{{ count() }}{% endcache %}', context)).toBe('1');
    expect(await renderStringAsync(env, '{% cache 0 zero %}{{ count() }}{% endcache %}', context)).toBe('2');
    expect(await defaultCache().hasKey(makeTemplateFragmentKey('zero'))).toBe(false);
  });

  it('expire after their seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const env = setup();
    expect(await renderStringAsync(env, '{% cache 60 brief %}first{% endcache %}')).toBe('first');
    vi.setSystemTime(Date.now() + 59_000);
    expect(await renderStringAsync(env, '{% cache 60 brief %}second{% endcache %}')).toBe('first');
    vi.setSystemTime(Date.now() + 2_000);
    expect(await renderStringAsync(env, '{% cache 60 brief %}third{% endcache %}')).toBe('third');
  });
});

describe('rendering', () => {
  it('renders the body only on a miss', async () => {
    const env = setup();
    let renders = 0;
    const context = { count: () => ++renders };
    const template = 'a{% cache 60 counted %}[{{ count() }}]{% endcache %}b';
    expect(await renderStringAsync(env, template, context)).toBe('a[1]b');
    expect(await renderStringAsync(env, template, context)).toBe('a[1]b');
    expect(renders).toBe(1);
  });

  it('runs the body once for concurrent renders of one fragment', async () => {
    const env = setup();
    let renders = 0;
    const context = { count: () => ++renders };
    const template = '{% cache 60 shared %}{{ count() }}{% endcache %}';
    const outputs = await Promise.all(Array.from({ length: 5 }, () => renderStringAsync(env, template, context)));
    expect(outputs).toEqual(['1', '1', '1', '1', '1']);
    expect(renders).toBe(1);
  });

  it('escapes the body once under autoescape', async () => {
    const output = await renderStringAsync(setup(), '{% cache 1 html %}<b>{{ text }}</b>{% endcache %}', { text: '<i>' });
    expect(output).toBe('<b>&lt;i&gt;</b>');
  });

  it('nests, inside loops and conditions', async () => {
    const env = setup();
    const template = '{% for i in [1, 2] %}{% if i %}{% cache 1 outer i %}<{% cache 1 inner i %}{{ i }}{% endcache %}>{% endcache %}{% endif %}{% endfor %}';
    expect(await renderStringAsync(env, template)).toBe('<1><2>');
    expect(await defaultCache().get(makeTemplateFragmentKey('inner', [2]))).toBe('2');
  });

  it("fails the render when the template's code after the tag throws", async () => {
    const context = {
      boom: () => {
        throw new Error('boom');
      },
    };
    const error = await renderError(renderStringAsync(setup(), '{% cache 1 f %}x{% endcache %}{{ boom() }}', context));
    expect(error.message).toContain('boom');
  }, 5_000);

  it('cannot render synchronously: nunjucks returns null', async () => {
    const env = setup();
    const template = '{% cache 1 sync %}x{% endcache %}';
    expect(env.renderString(template, {})).toBeNull();
    expect(await renderStringAsync(env, template)).toBe('x');
  });

  it('installs as the CacheExtension extension', () => {
    const env = new nunjucks.Environment();
    expect(installCacheTag(env)).toBe(env);
    expect(env.getExtension('CacheExtension')).toBeInstanceOf(CacheExtension);
  });
});
