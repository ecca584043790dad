import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

// Splitting: the root entry and the client subpath share one copy of the client classes, so a
// client from `/client` and the one inside a MemcachedCache are the same class.
export default cachetteTsupConfig({ index: 'src/index.ts', client: 'src/client.ts' }, { splitting: true });
