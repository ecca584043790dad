// The example site: every level of Django's caching on Fastify, each on its own page and
// explained there. buildApp() makes it without listening (tests use it); server.js starts it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import nunjucks from 'nunjucks';
import { cache, caches, closeCaches, makeTemplateFragmentKey } from '@cachette/cache-core';
import { cacheControl, condition, getCacheKey, neverCache, varyOnHeaders } from '@cachette/cache-http';
import { cacheMiddleware, cachePage, toFastifyHandler } from '@cachette/cache-http/fastify';
import { installCacheTag, renderAsync } from '@cachette/cache-http/nunjucks';
import { articleExists, articleVersion, loadArticle, loadArticles, SLOW_DATA_MS, updateArticle } from './articles.js';
import { CacheMonitor } from './cache-monitor.js';
import { configureSiteCaches } from './config.js';
import { LANGUAGES, negotiateLanguage, strings } from './i18n.js';

const templates = join(dirname(dirname(fileURLToPath(import.meta.url))), 'templates');
const ARTICLE_PREFIX = 'articles';
const PAGE_SECONDS = 60;

/** The page cache's language, as Django's USE_I18N: part of every page key. */
const language = (request) => negotiateLanguage(request.headers.get('accept-language'));

function currentUser(cookieHeader) {
  const match = /(?:^|;\s*)user=([A-Za-z0-9_-]{1,32})(?:;|$)/.exec(cookieHeader ?? '');
  return match?.[1] ?? null;
}

/** The article list, cached under a version that an edit bumps (Django's versioning pattern). */
async function articleList() {
  await cache.add('articles:generation', 1, null);
  const generation = await cache.get('articles:generation', 1);
  return cache.getOrSet('articles:list', loadArticles, 300, generation, { lock: true });
}

/** One article, with a lock against stampedes and served stale for a minute while it refreshes. */
function cachedArticle(slug) {
  return cache.getOrSet(`article:${slug}`, () => loadArticle(slug), 120, undefined, { lock: true, staleWhileRevalidate: 60 });
}

/**
 * After an edit: an explicit delete of the article's data, a version bump of the list, the
 * article's summary fragments by their Django key, and the cached pages showing it.
 */
async function invalidateArticle(slug, host) {
  await cache.delete(`article:${slug}`);
  await cache.add('articles:generation', 1, null);
  await cache.incr('articles:generation');
  const fragments = caches.get('template_fragments');
  for (const lang of LANGUAGES) {
    await fragments.delete(makeTemplateFragmentKey('article_summary', [slug, lang]));
    for (const [path, keyPrefix] of [[`/articles/${slug}`, ARTICLE_PREFIX], ['/', '']]) {
      const page = new Request(`http://${host}${path}`, { headers: { host, 'accept-language': lang } });
      const key = await getCacheKey(page, keyPrefix, 'GET', cache, { language });
      if (key !== null) await cache.delete(key);
    }
  }
}

function htmlResponse(html, status = 200) {
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

export async function buildApp({ cacheUrl } = {}) {
  const usedCacheUrl = configureSiteCaches(cacheUrl);
  const env = installCacheTag(new nunjucks.Environment(new nunjucks.FileSystemLoader(templates), { autoescape: true }));
  const monitor = new CacheMonitor();
  monitor.start();
  const render = (name, context) => renderAsync(env, name, { cacheUrl: usedCacheUrl, renderedAt: new Date().toISOString(), ...context });

  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body)));
  });
  const eventStreams = new Set();
  app.addHook('onClose', async () => {
    for (const stream of eventStreams) stream.end();
    monitor.stop();
    await closeCaches();
  });

  // Per site: the public pages, cached whole for everybody (per language).
  await app.register(async (site) => {
    await site.register(cacheMiddleware({ seconds: PAGE_SECONDS, language }));
    site.get('/', async (request, reply) => {
      const lang = negotiateLanguage(request.headers['accept-language']);
      const list = await articleList();
      reply.type('text/html; charset=utf-8').header('vary', 'Accept-Language');
      return render('home.njk', { lang, t: strings(lang), articles: list.map((article) => ({ slug: article.slug, ...article[lang] })) });
    });
    site.get('/about', async (_request, reply) => reply.type('text/html; charset=utf-8').send(await render('about.njk', {})));
  });

  // Per view: one article, varying on the language.
  app.get(
    '/articles/:slug',
    { ...cachePage(PAGE_SECONDS, { language, keyPrefix: ARTICLE_PREFIX }) },
    toFastifyHandler(
      varyOnHeaders('Accept-Language')(async (request, fastifyRequest) => {
        const { slug } = fastifyRequest.params;
        const article = articleExists(slug) ? await cachedArticle(slug) : null;
        if (!article) return htmlResponse(await render('not-found.njk', {}), 404);
        const lang = language(request);
        return htmlResponse(await render('article.njk', { lang, t: strings(lang), slug, article: article[lang], tags: article.tags }));
      }),
    ),
  );

  // Per view, keyed by the query string: search results and their pages.
  app.get('/search', { ...cachePage(30, { keyPrefix: 'search' }) }, async (request, reply) => {
    const query = String(request.query.q ?? '').trim().toLowerCase();
    const page = Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1);
    const matches = (await articleList()).filter((article) => !query || `${article.en.title} ${article.en.body} ${article.tags.join(' ')}`.toLowerCase().includes(query));
    const perPage = 2;
    const results = matches.slice((page - 1) * perPage, page * perPage).map((article) => ({ slug: article.slug, ...article.en }));
    reply.type('text/html; charset=utf-8');
    return render('search.njk', { query, page, results, total: matches.length, pages: Math.max(1, Math.ceil(matches.length / perPage)) });
  });

  // A JSON API: Cache-Control for shared caches, and an ETag that answers 304 without the work.
  app.get(
    '/api/articles/:slug',
    toFastifyHandler(
      cacheControl({ public: true, maxAge: 30 })(
        condition({ etag: (_request, fastifyRequest) => (articleExists(fastifyRequest.params.slug) ? `${fastifyRequest.params.slug}-v${articleVersion(fastifyRequest.params.slug)}` : null) })(
          async (_request, fastifyRequest) => {
            const { slug } = fastifyRequest.params;
            if (!articleExists(slug)) return Response.json({ error: 'not found' }, { status: 404 });
            const article = await cachedArticle(slug);
            return Response.json({ slug, version: articleVersion(slug), en: article.en, fr: article.fr, tags: article.tags });
          },
        ),
      ),
    ),
  );

  // Never cached: the account page, with the user's sidebar as a cached fragment.
  app.get(
    '/account',
    toFastifyHandler(
      neverCache(async (request) => {
        const user = currentUser(request.headers.get('cookie'));
        return htmlResponse(await render('account.njk', { user, recommended: user ? await articleList() : [] }));
      }),
    ),
  );

  // The low-level API: getOrSet over slow data, with a lock and stale-while-revalidate.
  app.get(
    '/low-level',
    toFastifyHandler(
      neverCache(async (request) => {
        let computed = false;
        const started = performance.now();
        const popular = await cache.getOrSet(
          'popular-articles',
          async () => {
            computed = true;
            return (await loadArticles()).slice(0, 3).map((article) => ({ slug: article.slug, title: article.en.title }));
          },
          20,
          undefined,
          { lock: true, staleWhileRevalidate: 40 },
        );
        const milliseconds = Math.round(performance.now() - started);
        return htmlResponse(await render('low-level.njk', { popular, computed, milliseconds, slowMs: SLOW_DATA_MS, user: currentUser(request.headers.get('cookie')) }));
      }),
    ),
  );

  app.get('/login', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(await render('login.njk', {})));
  app.post('/login', async (request, reply) => {
    const user = /^[A-Za-z0-9_-]{1,32}$/.test(request.body?.user ?? '') ? request.body.user : null;
    reply.header('set-cookie', user ? `user=${user}; Path=/; HttpOnly; SameSite=Lax` : 'user=; Path=/; Max-Age=0');
    return reply.redirect('/account', 303);
  });

  app.get('/articles/:slug/edit', async (request, reply) => {
    const article = articleExists(request.params.slug) ? await loadArticle(request.params.slug) : null;
    if (!article) return reply.code(404).type('text/html; charset=utf-8').send(await render('not-found.njk', {}));
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(await render('edit.njk', { slug: article.slug, article: article.en }));
  });
  app.post('/articles/:slug/edit', async (request, reply) => {
    const { slug } = request.params;
    const { title, body } = request.body ?? {};
    if (!articleExists(slug) || typeof title !== 'string' || typeof body !== 'string' || !title.trim()) {
      return reply.code(400).type('text/plain').send('An edit needs a title and a body');
    }
    updateArticle(slug, 'en', { title: title.trim(), body: body.trim() });
    await invalidateArticle(slug, request.headers.host ?? 'localhost');
    return reply.redirect(`/articles/${slug}`, 303);
  });

  // The cache panel: live numbers over server-sent events, JSON for scripts.
  app.get('/_cache', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(await render('cache-panel.njk', { aliases: caches.aliases() })));
  app.get('/_cache/data', async (_request, reply) => reply.header('cache-control', 'no-store').send(monitor.snapshot()));
  app.get('/_cache/events', (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (snapshot) => reply.raw.write(`data: ${JSON.stringify(snapshot)}\n\n`);
    send(monitor.snapshot());
    const unsubscribe = monitor.onSample(send);
    eventStreams.add(reply.raw);
    request.raw.on('close', () => {
      unsubscribe();
      eventStreams.delete(reply.raw);
    });
  });

  return { app, cacheUrl: usedCacheUrl, monitor };
}
