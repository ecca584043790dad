/**
 * One server of the http suite, run as a child process (`fork`ed by server-process.ts, with the
 * parent's tsx loader): `server.ts <framework> <variant>`. It listens on a free loopback port,
 * tells the parent the port over IPC, answers `{ type: 'stats' }` with how many pages its
 * handler has rendered and how much CPU time it has used, and exits on `{ type: 'stop' }`, on SIGTERM or when the parent goes
 * (exiting normally, so `--cpu-prof` writes its profile).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocMemCache } from '@cachette/cache-locmem';
import Fastify from 'fastify';
import { CONTENT_TYPE, PAGE, PAGE_BYTES, loadArticles, renderPage } from './page';
import { isFramework, isVariant, type Framework, type ServerMessage, type Variant } from './variants';

let renders = 0;

async function renderedPage(): Promise<string> {
  const articles = await loadArticles();
  renders++;
  return renderPage(articles);
}

function pageCache(): LocMemCache {
  return new LocMemCache({ location: 'bench-http', options: { maxEntries: 10_000 } });
}

// ---- node:http ------------------------------------------------------------------------------

const CONSTANT_BODY = Buffer.from(PAGE);
const CONSTANT_HEADERS = { 'content-type': CONTENT_TYPE, 'content-length': String(PAGE_BYTES) };

function constantListener(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, CONSTANT_HEADERS);
  response.end(CONSTANT_BODY);
}

function renderingListener(_request: IncomingMessage, response: ServerResponse): void {
  renderedPage().then(
    (html) => {
      response.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': String(Buffer.byteLength(html)) });
      response.end(html);
    },
    (error: unknown) => {
      console.error(error);
      response.writeHead(500).end();
    },
  );
}

async function nodeServer(variant: Variant): Promise<{ port: number }> {
  let listener: (request: IncomingMessage, response: ServerResponse) => void;
  if (variant === 'constant') listener = constantListener;
  else if (variant === 'uncached') listener = renderingListener;
  else {
    const { cacheMiddleware } = await import('@cachette/cache-http/node');
    listener = cacheMiddleware({ cache: pageCache() })(renderingListener);
  }
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port };
}

// ---- Fastify --------------------------------------------------------------------------------

async function fastifyServer(variant: Variant): Promise<{ port: number }> {
  const app = Fastify({ logger: false });
  if (variant === 'constant') {
    app.get('/', (_request, reply) => {
      reply.type(CONTENT_TYPE).send(PAGE);
    });
  } else {
    if (variant === 'hit') {
      const { cacheMiddleware } = await import('@cachette/cache-http/fastify');
      await app.register(cacheMiddleware({ cache: pageCache() }));
    }
    app.get('/', async (_request, reply) => {
      const html = await renderedPage();
      reply.type(CONTENT_TYPE);
      return html;
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port };
}

// ---- the process ----------------------------------------------------------------------------

function send(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const [framework, variant] = process.argv.slice(2);
  if (!isFramework(framework) || !isVariant(variant)) throw new Error(`usage: server.ts <node|fastify> <constant|uncached|hit>; got ${framework} ${variant}`);
  if (!process.send) throw new Error('server.ts runs as a child process with an IPC channel (see server-process.ts)');
  const { port } = await (framework === 'node' ? nodeServer : fastifyServer)(variant as Variant);
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stats') {
      const { user, system } = process.cpuUsage();
      send({ type: 'stats', renders, cpuMicros: user + system });
    }
    if (message.type === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  send({ type: 'listening', port, pid: process.pid, framework: framework as Framework, variant: variant as Variant });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
