import { createHash } from 'node:crypto';

/** A Lua script and its SHA1, so it runs with `EVALSHA` and is sent whole only when the server lacks it. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

export function defineScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
