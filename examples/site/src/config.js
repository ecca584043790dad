// Which cache the site uses: CACHE_URL (redis://…, memcached://…, postgres://…, file://…), else
// an SQLite file in .data/ (embedded: no server to install). Every alias counts its operations
// (stats=true) for the /_cache panel.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureCaches } from '@cachette/cache-core';

const siteDirectory = dirname(dirname(fileURLToPath(import.meta.url)));

export function defaultCacheUrl() {
  const directory = join(siteDirectory, '.data');
  mkdirSync(directory, { recursive: true });
  return `sqlite://${join(directory, 'cache.db')}`;
}

function withQuery(url, parameters) {
  const [base, query = ''] = url.split('?');
  const search = new URLSearchParams(query);
  for (const [name, value] of Object.entries(parameters)) if (!search.has(name)) search.set(name, value);
  return `${base}?${search}`;
}

/**
 * Configures the site's caches, as a Django site's CACHES: `default` for pages and data,
 * `template_fragments` (the alias Django's {% cache %} prefers) on the same store with its own
 * key prefix. Returns the URL in use.
 */
export function configureSiteCaches(cacheUrl = process.env.CACHE_URL || defaultCacheUrl()) {
  configureCaches(
    {
      default: withQuery(cacheUrl, { stats: 'true' }),
      template_fragments: withQuery(cacheUrl, { stats: 'true', key_prefix: 'fragments' }),
    },
    { resolveFrom: siteDirectory },
  );
  return cacheUrl;
}
