import { randomBytes } from 'node:crypto';
import { CacheTimeoutError } from '@cachette/cache-core';
import type { RedisClient } from './client';
import type { ServerCommand } from './cluster/cluster-client';
import { defineScript } from './script';

export interface LockOptions {
  /** Seconds after which the lock frees itself if not released (`null`: never). Default `null`. */
  timeout?: number | null;
  /** Seconds between attempts while waiting. Default 0.1. */
  sleep?: number;
  /** Wait for the lock when it is held. Default `true`. */
  blocking?: boolean;
  /** Seconds to wait at most (`null`: forever). Default `null`. */
  blockingTimeout?: number | null;
}

// Only the holder of the token may release or extend: a lock that expired and was taken by
// someone else is left alone.
export const RELEASE_LOCK = defineScript("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0");
const EXTEND = defineScript(
  "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end " +
    "local ttl = redis.call('PTTL', KEYS[1]) if ttl < 0 then return 0 end " +
    "return redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[2]))",
);

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Runs a command on the server that holds a key (on a cluster, following its redirections). */
export type KeyRoute = <T>(command: ServerCommand<T>) => Promise<T>;

/** A distributed lock on one key: `SET NX PX` with a random token, released by a token-checked Lua script. */
export class RedisLock {
  private token: string | undefined;
  private readonly route: KeyRoute;

  /** `server`: the client of the key's server, or a route to it (what `RedisCache.lock()` passes). */
  constructor(
    server: RedisClient | KeyRoute,
    readonly name: string,
    private readonly options: LockOptions = {},
  ) {
    this.route = typeof server === 'function' ? server : (command) => command(server);
  }

  /** `true` once held; `false` when not blocking and held elsewhere, or when `blockingTimeout` passed. */
  async acquire(options: Pick<LockOptions, 'blocking' | 'blockingTimeout'> = {}): Promise<boolean> {
    const blocking = options.blocking ?? this.options.blocking ?? true;
    const blockingTimeout = options.blockingTimeout !== undefined ? options.blockingTimeout : (this.options.blockingTimeout ?? null);
    const giveUpAt = blockingTimeout === null ? Infinity : Date.now() + blockingTimeout * 1000;
    const token = randomBytes(16).toString('hex');
    const timeout = this.options.timeout ?? null;
    for (;;) {
      const taken = await this.route((server) => server.set(this.name, token, timeout === null ? { nx: true } : { nx: true, px: Math.max(1, Math.round(timeout * 1000)) }));
      if (taken) {
        this.token = token;
        return true;
      }
      if (!blocking || Date.now() >= giveUpAt) return false;
      await sleep(Math.min(this.options.sleep ?? 0.1, Math.max(0, (giveUpAt - Date.now()) / 1000)));
    }
  }

  /** `false` when this lock was not held any more (it expired, perhaps taken by someone else). */
  async release(): Promise<boolean> {
    const token = this.token;
    if (token === undefined) return false;
    this.token = undefined;
    return (await this.route((server) => server.runScript(RELEASE_LOCK, [this.name], [token]))) === 1;
  }

  /** Adds seconds to the remaining time of a lock with a timeout; `false` when not held. */
  async extend(seconds: number): Promise<boolean> {
    if (this.token === undefined) return false;
    const token = this.token;
    return (await this.route((server) => server.runScript(EXTEND, [this.name], [token, Math.round(seconds * 1000)]))) === 1;
  }

  /** Whether anybody holds the lock. */
  async locked(): Promise<boolean> {
    return (await this.route((server) => server.exists(this.name))) === 1;
  }

  /** Whether this lock object holds it. */
  async owned(): Promise<boolean> {
    if (this.token === undefined) return false;
    return (await this.route((server) => server.get(this.name)))?.toString() === this.token;
  }

  /** Runs `work` holding the lock; rejects with `CacheTimeoutError` when it cannot be had. */
  async withLock<T>(work: () => Promise<T> | T): Promise<T> {
    if (!(await this.acquire())) throw new CacheTimeoutError(`Could not acquire the Redis lock '${this.name}'`);
    try {
      return await work();
    } finally {
      await this.release();
    }
  }
}
