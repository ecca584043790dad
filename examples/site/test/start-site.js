// Starts the site on a free loopback port over a fresh SQLite cache file, for the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';

export async function startSite() {
  const directory = mkdtempSync(join(tmpdir(), 'cachette-site-'));
  const { app } = await buildApp({ cacheUrl: `sqlite://${join(directory, 'cache.db')}` });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  return {
    base,
    /** A request to the site; `headers` as given (fetch sends no cookies of its own). */
    get: (path, headers = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' }),
    post: (path, form, headers = {}) =>
      fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' }),
    async stop() {
      await app.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
