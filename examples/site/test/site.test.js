// The site end to end: real HTTP requests to it on a loopback port, its cache an SQLite file.
import { makeTemplateFragmentKey } from '@cachette/cache-core';
import { caches } from '@cachette/cache-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSite } from './start-site.js';

let site;
beforeAll(async () => {
  site = await startSite();
});
afterAll(() => site.stop());

const text = async (response) => response.text();
const renderedAt = (html) => /Rendered at ([^ ]+)|Rendu à ([^ ]+)/.exec(html)?.slice(1).find(Boolean);

describe('the example site', () => {
  it('per site: the home page is a miss, then a hit with Age, and the same rendering', async () => {
    const first = await site.get('/');
    expect(first.status).toBe(200);
    expect(first.headers.get('age')).toBeNull();
    expect(first.headers.get('cache-control')).toBe('max-age=60');
    const firstHtml = await text(first);
    const second = await site.get('/');
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    expect(renderedAt(await text(second))).toBe(renderedAt(firstHtml));
  });

  it('per view: the article is cached per language, varying on Accept-Language', async () => {
    const english = await site.get('/articles/per-view-cache', { 'accept-language': 'en-GB,en;q=0.9' });
    expect(english.headers.get('vary')).toBe('Accept-Language');
    expect(await text(english)).toContain('<h1>The per-view cache</h1>');
    const french = await site.get('/articles/per-view-cache', { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(french.headers.get('age')).toBeNull();
    expect(await text(french)).toContain('<h1>Le cache par vue</h1>');
    const frenchAgain = await site.get('/articles/per-view-cache', { 'accept-language': 'fr' });
    expect(frenchAgain.headers.get('age')).toMatch(/^\d+$/);
    expect(await text(frenchAgain)).toContain('<h1>Le cache par vue</h1>');
    const englishAgain = await site.get('/articles/per-view-cache', { 'accept-language': 'en' });
    expect(await text(englishAgain)).toContain('<h1>The per-view cache</h1>');
  });

  it('the search page is keyed by its query string and its page', async () => {
    const first = await text(await site.get('/search?q=cache&page=1'));
    const second = await text(await site.get('/search?q=cache&page=2'));
    expect(first).toContain('page 1 of 2');
    expect(second).toContain('page 2 of 2');
    const repeated = await site.get('/search?q=cache&page=2');
    expect(repeated.headers.get('age')).toMatch(/^\d+$/);
    expect(await text(await site.get('/search?q=fragment'))).toContain('1 result(s)');
  });

  it('the JSON API has Cache-Control and an ETag that answers 304', async () => {
    const response = await site.get('/api/articles/fragment-cache');
    expect(response.headers.get('cache-control')).toBe('public, max-age=30');
    const tag = response.headers.get('etag');
    expect(tag).toBe('"fragment-cache-v1"');
    expect((await response.json()).en.title).toBe('Template fragments');
    const notModified = await site.get('/api/articles/fragment-cache', { 'if-none-match': tag });
    expect(notModified.status).toBe(304);
    expect(await text(notModified)).toBe('');
  });

  it('the account page is never cached; each user gets their own sidebar fragment', async () => {
    const alice = await site.get('/account', { cookie: 'user=alice' });
    expect(alice.headers.get('cache-control')).toBe('max-age=0, no-cache, no-store, must-revalidate, private');
    expect(await text(alice)).toContain('Recommended for alice');
    expect(await text(await site.get('/account', { cookie: 'user=bob' }))).toContain('Recommended for bob');
    const fragments = caches.get('template_fragments');
    expect(await fragments.get(makeTemplateFragmentKey('sidebar', ['alice']))).toContain('Recommended for alice');
    expect(await fragments.get(makeTemplateFragmentKey('sidebar', ['bob']))).toContain('Recommended for bob');
    expect(await text(await site.get('/account'))).toContain('Not signed in');
  });

  it('signing in sets the cookie the account page reads', async () => {
    const response = await site.post('/login', { user: 'carol' });
    expect(response.status).toBe(303);
    const cookie = response.headers.get('set-cookie').split(';')[0];
    expect(await text(await site.get('/account', { cookie }))).toContain('Recommended for carol');
  });

  it('the low-level page computes the slow data once, then serves it from the cache', async () => {
    const first = await text(await site.get('/low-level'));
    expect(first).toContain('miss — computed');
    const results = await Promise.all(Array.from({ length: 5 }, () => site.get('/low-level').then(text)));
    expect(results.every((html) => html.includes('hit — from the cache'))).toBe(true);
  });

  it('an edit invalidates the article data, the list version, its fragments and its cached pages', async () => {
    await site.get('/');
    await site.get('/articles/per-site-cache', { 'accept-language': 'en' });
    expect((await site.get('/articles/per-site-cache', { 'accept-language': 'en' })).headers.get('age')).not.toBeNull();
    const saved = await site.post('/articles/per-site-cache/edit', { title: 'Per-site caching, revised', body: 'Edited in a test.' });
    expect(saved.status).toBe(303);
    const article = await site.get('/articles/per-site-cache', { 'accept-language': 'en' });
    expect(article.headers.get('age')).toBeNull();
    expect(await text(article)).toContain('<h1>Per-site caching, revised</h1>');
    expect(await text(await site.get('/'))).toContain('Per-site caching, revised');
    expect((await site.get('/api/articles/per-site-cache')).headers.get('etag')).toBe('"per-site-cache-v2"');
    expect((await site.post('/articles/per-site-cache/edit', { title: '', body: '' })).status).toBe(400);
  });

  it('/_cache answers with live numbers per alias and the last cache calls', async () => {
    const page = await site.get('/_cache');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await text(page)).toContain('data-alias="default"');
    const data = await (await site.get('/_cache/data')).json();
    expect(Object.keys(data.aliases).sort()).toEqual(['default', 'template_fragments']);
    expect(data.aliases.default.hits).toBeGreaterThan(0);
    expect(data.aliases.default.misses).toBeGreaterThan(0);
    expect(data.recent.some((call) => call.key === 'popular-articles' && call.operation === 'getOrSet')).toBe(true);
  });

  it('/_cache/events streams snapshots', async () => {
    const controller = new AbortController();
    const response = await fetch(`${site.base}/_cache/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body.getReader();
    const { value } = await reader.read();
    controller.abort();
    const event = new TextDecoder().decode(value);
    expect(event.startsWith('data: ')).toBe(true);
    expect(JSON.parse(event.slice(6)).aliases.default).toBeDefined();
  });
});
