import { describe, expect, it } from 'vitest';
import { ARTICLES, PAGE, PAGE_BYTES, escapeHtml, loadArticles, renderPage } from './page';

describe('the page', () => {
  it('escapes what Django escapes', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt;');
  });

  it('renders every article, escaped, into about 2 KB', () => {
    expect(PAGE).toContain('When &quot;max-age&quot; lies #3');
    expect(PAGE).toContain('Per-site &lt;caching&gt; #4');
    expect(PAGE.match(/<li>/g)).toHaveLength(ARTICLES.length);
    expect(PAGE_BYTES).toBeGreaterThan(1800);
    expect(PAGE_BYTES).toBeLessThan(2400);
  });

  it('renders the same page every time, from the data the loader gives', async () => {
    expect(renderPage(await loadArticles())).toBe(PAGE);
  });
});
