import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

export default cachetteTsupConfig({ index: 'src/index.ts', client: 'src/client.ts' });
