/** The servers of the http suite: two frameworks, three handlers each. */

export const FRAMEWORKS = ['node', 'fastify'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/**
 * `constant`: the framework's plain handler sending a page rendered once, no Cachette code;
 * `uncached`: the handler that renders the page on every request; `hit`: that handler behind the
 * per-site cache (`cacheMiddleware` of `@cachette/cache-http`), warmed so every request is a hit.
 */
export const VARIANTS = ['constant', 'uncached', 'hit'] as const;
export type Variant = (typeof VARIANTS)[number];

export function isFramework(value: unknown): value is Framework {
  return (FRAMEWORKS as readonly unknown[]).includes(value);
}

export function isVariant(value: unknown): value is Variant {
  return (VARIANTS as readonly unknown[]).includes(value);
}

/** What a server child sends its parent. */
export type ServerMessage =
  | { readonly type: 'listening'; readonly port: number; readonly pid: number; readonly framework: Framework; readonly variant: Variant }
  /** The answer to `{ type: 'stats' }`: pages rendered so far, and the CPU time the process has used (all threads, µs). */
  | { readonly type: 'stats'; readonly renders: number; readonly cpuMicros: number };
