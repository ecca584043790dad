import { formatWithOptions } from 'node:util';

/** A logger for one namespace; `enabled` says whether it writes anything. */
export interface DebugLogger {
  (format: string, ...args: unknown[]): void;
  readonly enabled: boolean;
  readonly namespace: string;
}

function patternMatches(pattern: string, namespace: string): boolean {
  const expression = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return expression.test(namespace);
}

/**
 * Whether `namespace` is on in a `DEBUG`-style list (`cachette:*,-cachette:stats`: comma- or
 * space-separated, `*` any text, a leading `-` turns off), as the `debug` package reads it.
 */
export function debugEnabled(list: string | undefined, namespace: string): boolean {
  let enabled = false;
  for (const entry of (list ?? '').split(/[\s,]+/)) {
    if (entry === '') continue;
    if (entry.startsWith('-')) {
      if (patternMatches(entry.slice(1), namespace)) return false;
    } else if (patternMatches(entry, namespace)) {
      enabled = true;
    }
  }
  return enabled;
}

/**
 * A logger for `cachette:<name>`, on when `DEBUG` or `NODE_DEBUG` names it (`DEBUG=cachette:*`,
 * `NODE_DEBUG=cachette`); it writes to stderr, never through `console.log`. Read once, when the
 * logger is made.
 */
export function debugLogger(name: string): DebugLogger {
  const namespace = `cachette:${name}`;
  const enabled = debugEnabled(process.env.DEBUG, namespace) || debugEnabled(process.env.NODE_DEBUG?.replace(/\bcachette\b(?!:)/g, 'cachette:*'), namespace);
  const log = (format: string, ...args: unknown[]): void => {
    if (enabled) process.stderr.write(`${namespace} ${formatWithOptions({ colors: false }, format, ...args)}\n`);
  };
  return Object.assign(log, { enabled, namespace });
}
