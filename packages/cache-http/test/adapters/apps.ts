// The test site on each framework: the site's routes behind the per-site cache, `/view` behind
// `cachePage`, and `/fetch`, a Fetch handler converted by the adapter.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { BaseCache } from '@cachette/cache-core';
import { cacheControl, condition, type Handler } from '@cachette/cache-http';
import * as expressAdapter from '@cachette/cache-http/express';
import * as fastifyAdapter from '@cachette/cache-http/fastify';
import * as honoAdapter from '@cachette/cache-http/hono';
import * as nodeAdapter from '@cachette/cache-http/node';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { Site, type RouteResult, type SiteRequest } from './site';

export interface RunningApp {
  url: string;
  site: Site;
  close(): Promise<void>;
}

export type AppStarter = (cache: BaseCache) => Promise<RunningApp>;

export const ALLOWED_HOSTS = ['127.0.0.1', 'localhost'];
export const SITE_PATHS = ['/page', '/language', '/user', '/login', '/tagged', '/big', '/chunked', '/binary', '/missing'];

/** A Fetch handler exercising the conversion both ways: validators, directives, two cookies. */
const fetchHandler: Handler<unknown[]> = condition({ etag: () => 'f1' })(
  cacheControl({ public: true, maxAge: 30 })(() => {
    const response = new Response('fetch handler', { headers: { 'Content-Type': 'text/plain' } });
    response.headers.append('Set-Cookie', 'a=1');
    response.headers.append('Set-Cookie', 'b=2');
    return response;
  }),
);

function nodeSiteRequest(request: IncomingMessage): SiteRequest {
  return {
    method: request.method ?? 'GET',
    path: new URL(request.url ?? '/', 'http://x').pathname,
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Writes a route's result with plain `node:http` calls (Express's `res` is one too). */
function writeNode(response: ServerResponse, result: RouteResult): void {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of result.headers ?? []) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  for (const [name, values] of grouped) response.setHeader(name, values.length === 1 ? values[0]! : values);
  response.statusCode = result.status ?? 200;
  const { body } = result;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    response.end(body);
    return;
  }
  for (const chunk of body.chunks) response.write(chunk);
  response.end();
}

async function listening(server: Server, site: Site): Promise<RunningApp> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    site,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function viewBody(site: Site, request: SiteRequest): string {
  site.handle({ ...request, path: '/view' });
  return `view ${site.calls.get('/view')}`;
}

export const startNode: AppStarter = (cache) => {
  const site = new Site();
  const siteListener = nodeAdapter.cacheMiddleware({ cache, allowedHosts: ALLOWED_HOSTS })((request, response) => writeNode(response, site.handle(nodeSiteRequest(request))));
  const view = nodeAdapter.cachePage(60, { cache, keyPrefix: 'view' })((request, response) => writeNode(response, { body: viewBody(site, nodeSiteRequest(request)) }));
  const converted = nodeAdapter.toNodeListener(fetchHandler);
  return listening(
    createServer((request, response) => {
      const path = nodeSiteRequest(request).path;
      if (path === '/view') view(request, response);
      else if (path === '/fetch') converted(request, response);
      else siteListener(request, response);
    }),
    site,
  );
};

export const startExpress: AppStarter = (cache) => {
  const site = new Site();
  const app = express();
  app.get('/view', expressAdapter.cachePage(60, { cache, keyPrefix: 'view' }), (request, response) => {
    response.send(viewBody(site, nodeSiteRequest(request)));
  });
  app.get('/fetch', expressAdapter.toExpressHandler(fetchHandler));
  app.use(expressAdapter.cacheMiddleware({ cache, allowedHosts: ALLOWED_HOSTS }));
  app.use((request, response) => writeNode(response, site.handle(nodeSiteRequest(request))));
  return listening(createServer(app), site);
};

export const startFastify: AppStarter = async (cache) => {
  const site = new Site();
  const app = Fastify();
  app.get('/view', { ...fastifyAdapter.cachePage(60, { cache, keyPrefix: 'view' }) }, async (request) => viewBody(site, nodeSiteRequest(request.raw)));
  app.get('/fetch', fastifyAdapter.toFastifyHandler(fetchHandler));
  await app.register(async (scope) => {
    await scope.register(fastifyAdapter.cacheMiddleware({ cache, allowedHosts: ALLOWED_HOSTS }));
    scope.all('/*', async (request, reply) => {
      const result = site.handle(nodeSiteRequest(request.raw));
      const grouped = new Map<string, string[]>();
      for (const [name, value] of result.headers ?? []) grouped.set(name, [...(grouped.get(name) ?? []), value]);
      for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0]! : values);
      reply.code(result.status ?? 200);
      const { body } = result;
      return reply.send(typeof body === 'string' || body instanceof Uint8Array ? Buffer.from(body) : Readable.from(body.chunks));
    });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, site, close: () => app.close() };
};

function fetchSiteRequest(request: Request): SiteRequest {
  return { method: request.method, path: new URL(request.url).pathname, header: (name) => request.headers.get(name) ?? undefined };
}

function toFetchResponse(result: RouteResult): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers ?? []) headers.append(name, value);
  const { body } = result;
  const content = typeof body === 'string' || body instanceof Uint8Array ? body : (Readable.toWeb(Readable.from(body.chunks)) as ReadableStream<Uint8Array>);
  return new Response(content, { status: result.status ?? 200, headers });
}

export const startHono: AppStarter = async (cache) => {
  const site = new Site();
  const app = new Hono();
  app.get('/view', honoAdapter.cachePage(60, { cache, keyPrefix: 'view' }), (context) => context.text(viewBody(site, fetchSiteRequest(context.req.raw))));
  app.get('/fetch', honoAdapter.toHonoHandler(fetchHandler));
  for (const path of SITE_PATHS) {
    app.use(path, honoAdapter.cacheMiddleware({ cache, allowedHosts: ALLOWED_HOSTS }));
    app.all(path, (context) => toFetchResponse(site.handle(fetchSiteRequest(context.req.raw))));
  }
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    site,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
