import type { ViteUserConfig } from 'vitest/config';
export declare function cachetteVitestConfig(overrides?: ViteUserConfig): ViteUserConfig;
