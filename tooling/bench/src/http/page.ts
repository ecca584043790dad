/**
 * The page every server of the http suite answers: a small article index, rendered from data as a
 * template engine would (escaping every field), about 2 KB of HTML. The constant handlers send
 * the same page rendered once at start-up, so every candidate puts the same body on the wire.
 */

export interface Article {
  readonly id: number;
  readonly title: string;
  readonly author: string;
  readonly published: string;
  readonly tags: readonly string[];
}

const TITLES = ['Caching & you', 'Vary, explained', 'When "max-age" lies', 'Per-site <caching>', 'ETags in practice', 'Cookies and caches'];
const AUTHORS = ['Ada', 'Grace', 'Linus', 'Barbara', 'Edsger', 'Margaret'];
const TAGS = ['http', 'cache', 'django', 'node', 'fastify', 'perf'];

export const ARTICLES: readonly Article[] = Array.from({ length: 10 }, (_, index) => ({
  id: 1000 + index,
  title: `${TITLES[index % TITLES.length]!} #${index + 1}`,
  author: AUTHORS[(index * 5) % AUTHORS.length]!,
  published: new Date(Date.UTC(2025, index % 12, 1 + index)).toISOString().slice(0, 10),
  tags: [TAGS[index % TAGS.length]!, TAGS[(index + 2) % TAGS.length]!],
}));

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

/** Django's `escape`: `&`, `<`, `>`, `"` and `'` as entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function renderArticle(article: Article): string {
  const tags = article.tags.map((tag) => `<a class="tag" href="/tags/${encodeURIComponent(tag)}">${escapeHtml(tag)}</a>`).join(' ');
  return (
    `<li><a href="/articles/${article.id}">${escapeHtml(article.title)}</a>` +
    ` <span class="by">by ${escapeHtml(article.author)}, ${article.published}</span> ${tags}</li>\n`
  );
}

/** The article index as HTML. */
export function renderPage(articles: readonly Article[]): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Articles</title></head>\n<body>\n' +
    `<h1>Latest articles</h1>\n<ul>\n${articles.map(renderArticle).join('')}</ul>\n` +
    `<footer>${articles.length} articles</footer>\n</body></html>\n`
  );
}

/** The "database query": data that is already there, behind one `await`. */
export function loadArticles(): Promise<readonly Article[]> {
  return Promise.resolve(ARTICLES);
}

/** The page as every handler sends it. */
export const PAGE = renderPage(ARTICLES);
export const PAGE_BYTES = Buffer.byteLength(PAGE);
export const CONTENT_TYPE = 'text/html; charset=utf-8';
