// @ts-check
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Tests import sibling packages by their published names, but run against their sources so a
 * test never needs a build first. A subpath export `@cachette/<pkg>/<name>` lives in
 * `src/<name>.ts` of that package (a convention every package follows).
 */
const sourceAliases = [
  { find: /^@cachette\/test-servers$/, replacement: `${repoRoot}tooling/test-servers/src/index.ts` },
  { find: /^@cachette\/(cache-[a-z-]+)$/, replacement: `${repoRoot}packages/$1/src/index.ts` },
  { find: /^@cachette\/(cache-[a-z-]+)\/([a-z-]+)$/, replacement: `${repoRoot}packages/$1/src/$2.ts` },
];

/** @param {import('vitest/config').ViteUserConfig} [overrides] */
export function cachetteVitestConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { alias: sourceAliases },
      test: {
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        // Real servers start in hooks and timing tests sleep for seconds: generous limits.
        testTimeout: 60_000,
        hookTimeout: 120_000,
        // In CI every package also writes its counts, which .ci/run adds up into one summary line.
        reporters: process.env.CI ? ['verbose', 'json'] : ['default'],
        outputFile: process.env.CI ? { json: 'test-results.json' } : undefined,
      },
    }),
    overrides,
  );
}
