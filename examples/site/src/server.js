// Starts the example site: `pnpm start` from the repository root (PORT, HOST and CACHE_URL are
// read from the environment).
import { buildApp } from './app.js';

const port = Number(process.env.PORT ?? 8000);
const host = process.env.HOST ?? '127.0.0.1';

const { app, cacheUrl } = await buildApp();
await app.listen({ port, host });
const { port: actualPort } = app.server.address();
console.log(`Cachette example site: http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/  (cache: ${cacheUrl}; cache panel at /_cache)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
