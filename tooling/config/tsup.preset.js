// @ts-check
import { defineConfig } from 'tsup';

/**
 * Every package builds the same way: ESM (`.js`) and CJS (`.cjs`) side by side with their own
 * declaration files (`.d.ts`, `.d.cts`), so `import` and `require` each get matching types.
 * `entry` maps output names to sources, e.g. `{ index: 'src/index.ts', client: 'src/client.ts' }`.
 *
 * @param {Record<string, string>} [entry]
 * @param {import('tsup').Options} [extra]
 */
export function cachetteTsupConfig(entry = { index: 'src/index.ts' }, extra = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    ...extra,
  });
}
