import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

// The adapters import the core by the package's own name, so every entry shares one copy of it.
export default cachetteTsupConfig(
  {
    index: 'src/index.ts',
    node: 'src/node.ts',
    express: 'src/express.ts',
    fastify: 'src/fastify.ts',
    hono: 'src/hono.ts',
    nunjucks: 'src/nunjucks.ts',
  },
  { external: ['@cachette/cache-http'] },
);
