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
