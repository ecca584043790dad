import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

// `cli` is the `cachette` bin. Shims give the CommonJS build `import.meta.url`, from which the
// optional database drivers are resolved.
export default cachetteTsupConfig({ index: 'src/index.ts', cli: 'src/cli.ts' }, { shims: true });
