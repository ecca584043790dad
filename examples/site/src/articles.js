// The site's data: a few articles in two languages, read through a deliberately slow "database"
// so a cache miss is visible (SLOW_DATA_MS, default 250 ms) and a hit is not.

const SLOW_DATA_MS = Number(process.env.SLOW_DATA_MS ?? 250);

const articles = new Map(
  [
    {
      slug: 'per-site-cache',
      en: { title: 'The per-site cache', body: 'One middleware caches every public page for everybody: the cheapest level, and the one to try first.' },
      fr: { title: 'Le cache par site', body: "Un seul middleware met en cache chaque page publique pour tout le monde : le niveau le moins cher, et le premier à essayer." },
      tags: ['cache', 'middleware'],
    },
    {
      slug: 'per-view-cache',
      en: { title: 'The per-view cache', body: 'cachePage caches one view, keyed by its URL and by the headers its response varies on, such as the language.' },
      fr: { title: 'Le cache par vue', body: "cachePage met en cache une vue, selon son URL et les en-têtes dont sa réponse dépend, comme la langue." },
      tags: ['cache', 'views'],
    },
    {
      slug: 'fragment-cache',
      en: { title: 'Template fragments', body: 'A {% cache %} block stores a piece of a page, per user or per anything else, while the rest renders as usual.' },
      fr: { title: 'Les fragments de gabarit', body: "Un bloc {% cache %} garde un morceau de page, par utilisateur ou selon autre chose, le reste étant rendu normalement." },
      tags: ['cache', 'templates'],
    },
    {
      slug: 'low-level-api',
      en: { title: 'The low-level API', body: 'getOrSet with a lock computes a slow value once, even when many requests miss at the same moment.' },
      fr: { title: "L'API de bas niveau", body: 'getOrSet avec un verrou calcule une seule fois une valeur lente, même quand beaucoup de requêtes la manquent en même temps.' },
      tags: ['cache', 'api'],
    },
  ].map((article) => [article.slug, { ...article, version: 1 }]),
);

const pause = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** An article as the slow database returns it, or `null`. */
export async function loadArticle(slug) {
  await pause(SLOW_DATA_MS);
  const article = articles.get(slug);
  return article ? structuredClone(article) : null;
}

/** Every article, newest edits first: as slow as one query. */
export async function loadArticles() {
  await pause(SLOW_DATA_MS);
  return [...articles.values()].map((article) => structuredClone(article));
}

/** The slugs, known without a query (for routing). */
export function articleExists(slug) {
  return articles.has(slug);
}

/** The article's version, cheap: what the API's ETag is made of. */
export function articleVersion(slug) {
  return articles.get(slug)?.version ?? null;
}

/** Saves an edit in one language and bumps the article's version. */
export function updateArticle(slug, language, { title, body }) {
  const article = articles.get(slug);
  if (!article) return false;
  article[language] = { title, body };
  article.version += 1;
  return true;
}

export { SLOW_DATA_MS };
