import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

// Shims give the CommonJS build `import.meta.url`, from which the optional database drivers are resolved.
export default cachetteTsupConfig({ index: 'src/index.ts' }, { shims: true });
