import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

// `main` is the `cachette` bin. Shims give the CommonJS build `import.meta.url`, from which the
// backends and the package version are found.
export default cachetteTsupConfig({ index: 'src/index.ts', main: 'src/main.ts' }, { shims: true });
