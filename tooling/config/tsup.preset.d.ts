import type { Options } from 'tsup';
export declare function cachetteTsupConfig(entry?: Record<string, string>, extra?: Options): Options;
