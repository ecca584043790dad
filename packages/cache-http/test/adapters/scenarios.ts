// What every adapter must do, against a real server on a loopback port, with real HTTP requests.
import { request as httpRequest } from 'node:http';
import type { BaseCache } from '@cachette/cache-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppStarter, RunningApp } from './apps';
import { BIG_CHUNK, BIG_CHUNKS } from './site';

export interface Reply {
  status: number;
  /** Lower-case names; every value of repeated headers, in order. */
  headers: Map<string, string[]>;
  body: Buffer;
  header(name: string): string | undefined;
}

/** One request on its own connection, headers exactly as given (`Host` included). */
export function send(base: string, path: string, { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: url.hostname, port: url.port, path, method, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const grouped = new Map<string, string[]>();
        for (let index = 0; index < incoming.rawHeaders.length; index += 2) {
          const name = incoming.rawHeaders[index]!.toLowerCase();
          grouped.set(name, [...(grouped.get(name) ?? []), incoming.rawHeaders[index + 1]!]);
        }
        resolve({ status: incoming.statusCode!, headers: grouped, body: Buffer.concat(chunks), header: (name) => grouped.get(name)?.join(', ') });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** The adapter scenarios on one framework, with pages stored in `makeCache()`. */
export function describeAdapter(name: string, start: AppStarter, makeCache: () => BaseCache | Promise<BaseCache>): void {
  describe(`${name} adapter, on a real server`, () => {
    let app: RunningApp;
    let cache: BaseCache;
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => send(app.url, path, { method, headers });
    const calls = (path: string) => app.site.calls.get(path) ?? 0;

    beforeAll(async () => {
      cache = await makeCache();
      app = await start(cache);
    });
    afterAll(async () => {
      await app.close();
      await cache.close();
    });
    beforeEach(async () => {
      await cache.clear();
      app.site.calls.clear();
    });

    it('a miss renders and is stored with Expires and max-age; the hit is served from the cache with Age', async () => {
      const miss = await get('/page');
      expect(miss.status).toBe(200);
      expect(miss.body.toString()).toBe('<p>page 1</p>');
      expect(miss.header('cache-control')).toBe('max-age=600');
      expect(miss.header('expires')).toMatch(/GMT$/);
      expect(miss.header('age')).toBeUndefined();
      const hit = await get('/page');
      expect(hit.body.toString()).toBe('<p>page 1</p>');
      expect(hit.header('age')).toMatch(/^\d+$/);
      expect(hit.header('content-type')).toBe('text/html; charset=utf-8');
      expect(hit.header('content-length')).toBe(String('<p>page 1</p>'.length));
      expect(calls('/page')).toBe(1);
    });

    it('HEAD is answered from a cached GET, without a body', async () => {
      await get('/page');
      const head = await get('/page', {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.header('age')).toBeDefined();
      expect(calls('/page')).toBe(1);
    });

    it('varies on Accept-Language: one page per language', async () => {
      expect((await get('/language', { 'Accept-Language': 'en' })).body.toString()).toBe('hello 1');
      expect((await get('/language', { 'Accept-Language': 'fr-FR' })).body.toString()).toBe('bonjour 2');
      expect((await get('/language', { 'Accept-Language': 'en' })).body.toString()).toBe('hello 1');
      expect((await get('/language', { 'Accept-Language': 'fr-FR' })).body.toString()).toBe('bonjour 2');
      expect(calls('/language')).toBe(2);
    });

    it('a page that varies on Cookie is never served to another user', async () => {
      expect((await get('/user', { Cookie: 'session=alice' })).body.toString()).toBe('user session=alice 1');
      expect((await get('/user', { Cookie: 'session=bob' })).body.toString()).toBe('user session=bob 2');
      expect((await get('/user', { Cookie: 'session=alice' })).body.toString()).toBe('user session=alice 1');
      expect((await get('/user')).body.toString()).toBe('user anonymous 3');
      expect((await get('/user', { Cookie: 'session=bob' })).body.toString()).toBe('user session=bob 2');
    });

    it('a response that sets cookies is never stored, and keeps both its Set-Cookie headers', async () => {
      const first = await get('/login');
      expect(first.headers.get('set-cookie')).toEqual(['session=1; HttpOnly', 'theme=dark']);
      expect(first.header('cache-control')).toBeUndefined();
      const second = await get('/login');
      expect(second.body.toString()).toBe('logged in 2');
      expect(second.headers.get('set-cookie')).toEqual(['session=2; HttpOnly', 'theme=dark']);
    });

    it('a cached page with an ETag answers If-None-Match with 304; repeated headers survive', async () => {
      await get('/tagged');
      const hit = await get('/tagged');
      expect(hit.headers.get('link')?.join(', ')).toBe('</a.css>; rel=preload, </b.js>; rel=preload');
      const notModified = await get('/tagged', { 'If-None-Match': '"v1"' });
      expect(notModified.status).toBe(304);
      expect(notModified.body.length).toBe(0);
      expect(notModified.header('etag')).toBe('"v1"');
      expect(calls('/tagged')).toBe(1);
    });

    it('a streamed body over the limit passes through intact and uncached', async () => {
      for (const round of [1, 2]) {
        const reply = await get('/big');
        expect(reply.status).toBe(200);
        expect(reply.body.length).toBe(BIG_CHUNK.length * BIG_CHUNKS);
        expect(reply.body.equals(Buffer.concat(Array.from({ length: BIG_CHUNKS }, () => BIG_CHUNK)))).toBe(true);
        expect(calls('/big')).toBe(round);
      }
    });

    it('a streamed body within the limit is stored', async () => {
      expect((await get('/chunked')).body.toString()).toBe('first second 1');
      const hit = await get('/chunked');
      expect(hit.body.toString()).toBe('first second 1');
      expect(hit.header('age')).toBeDefined();
    });

    it('binary bodies come back byte for byte', async () => {
      await get('/binary');
      const hit = await get('/binary');
      expect(hit.header('age')).toBeDefined();
      expect([...hit.body]).toEqual(Array.from({ length: 256 }, (_, index) => index));
    });

    it('only 200s are stored, and only for GET and HEAD', async () => {
      await get('/missing');
      expect((await get('/missing')).body.toString()).toBe('not found 2');
      await get('/page', {}, 'POST');
      const post = await get('/page', {}, 'POST');
      expect(post.header('age')).toBeUndefined();
      expect(calls('/page')).toBe(2);
    });

    it('refuses a host outside allowedHosts with 400, before the route runs', async () => {
      const refused = await get('/page', { Host: 'evil.example' });
      expect(refused.status).toBe(400);
      expect(calls('/page')).toBe(0);
      expect((await get('/page', { Host: `localhost:${new URL(app.url).port}` })).status).toBe(200);
    });

    it('cachePage caches one route', async () => {
      expect((await get('/view')).body.toString()).toBe('view 1');
      expect((await get('/view')).body.toString()).toBe('view 1');
    });

    it('converts a Fetch handler: status, directives, validators, both cookies, and a 304', async () => {
      const full = await get('/fetch');
      expect(full.status).toBe(200);
      expect(full.body.toString()).toBe('fetch handler');
      expect(full.header('cache-control')).toBe('public, max-age=30');
      expect(full.header('etag')).toBe('"f1"');
      expect(full.headers.get('set-cookie')).toEqual(['a=1', 'b=2']);
      const notModified = await get('/fetch', { 'If-None-Match': '"f1"' });
      expect(notModified.status).toBe(304);
      expect(notModified.body.length).toBe(0);
    });
  });
}
