import { CacheProtocolError } from '@cachette/cache-core';

/**
 * An error reply from the server (`-ERR ...` or a RESP3 bulk error). `code` is the first word of
 * the message (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...) so callers branch without parsing text.
 */
export class RedisReplyError extends CacheProtocolError {
  readonly code: string;

  constructor(message: string) {
    super(message);
    const space = message.indexOf(' ');
    this.code = space === -1 ? message : message.slice(0, space);
  }
}

/**
 * A cheap test run on every reply: `instanceof Error` first (a plain prototype walk), since
 * cache errors' own `instanceof` check is built for the dual-package case and costs more.
 */
export function isReplyError(value: unknown): value is RedisReplyError {
  return value instanceof Error && value instanceof RedisReplyError;
}
