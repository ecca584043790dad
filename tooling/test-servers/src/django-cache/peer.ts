import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { skipOrRequire } from '../availability.js';
import { djangoPython } from '../django.js';
import { tail } from '../system.js';
import { unwatch, watch } from '../watchdog.js';
import { fromTyped, type TypedValue } from './typed.js';

export { fromTyped, toTyped, type PythonLike, type TypedValue } from './typed.js';

const SCRIPT = fileURLToPath(new URL('./cache-peer.py', import.meta.url));
const REQUIRED_MODULES = ['django', 'pymemcache', 'django_redis', 'redis'];
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;
const STDERR_LIMIT = 64 * 1024;

/** One `CACHES` entry, plus the settings some backends need. */
export interface DjangoCacheConfig {
  /** e.g. `django.core.cache.backends.memcached.PyMemcacheCache`, `django_redis.cache.RedisCache`. */
  BACKEND: string;
  LOCATION?: string | string[];
  OPTIONS?: Record<string, unknown>;
  KEY_PREFIX?: string;
  VERSION?: number;
  /** Seconds; null caches forever. */
  TIMEOUT?: number | null;
  KEY_FUNCTION?: string;
  /** Django's DATABASES, for DatabaseCache: `{ default: { ENGINE: 'django.db.backends.sqlite3', NAME: file } }`. */
  DATABASES?: Record<string, Record<string, unknown>>;
  USE_TZ?: boolean;
}

export interface DjangoCachePeerOptions {
  /** A request Django has not answered by then rejects, with the tail of its stderr (default 15 s). */
  requestTimeoutMs?: number;
  /** Until `django.setup()` is done and the cache is made (default 30 s). */
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Seconds; null means forever, undefined the cache's default. */
export type DjangoTimeout = number | null | undefined;

/**
 * How Django read one `sample:<name>`: `equal` is exact equality, types included, all the way
 * down; `type` is the Python type it got (or of the exception), `value` what it got; `missing`
 * on a miss, `error` when reading raised.
 */
export interface SampleReadResult {
  equal: boolean;
  type?: string;
  value?: TypedValue;
  missing?: true;
  error?: string;
}

/** A value as the backend stores it: pickle bytes, memcached item bytes and flags, a file, a table row. */
export interface RawEntry {
  bytes: Buffer;
  /** memcached's item flags (pymemcache: 0 bytes, 1 pickle, 2 int, 16 str). */
  flags?: number;
  /** LocMemCache's expiry time, DatabaseCache's `expires` column. */
  expires?: number | string | null;
}

/** An error reply: Django (or the peer) raised `pythonType`. */
export class DjangoCacheError extends Error {
  constructor(
    message: string,
    readonly pythonType: string,
  ) {
    super(message);
    this.name = 'DjangoCacheError';
  }
}

export interface DjangoCachePeer {
  readonly pid: number;
  readonly djangoVersion: string;
  readonly pythonVersion: string;
  readonly config: DjangoCacheConfig;
  /** The last lines Python wrote on stderr (tracebacks of failed requests land there). */
  readonly stderrTail: string;
  set(key: string, value: TypedValue, timeout?: DjangoTimeout): Promise<void>;
  /** undefined on a miss (a stored None is `{ t: 'none' }`). */
  get(key: string): Promise<TypedValue | undefined>;
  getMany(keys: readonly string[]): Promise<Map<string, TypedValue>>;
  /** Resolves with the keys that failed to be set. */
  setMany(values: Iterable<readonly [string, TypedValue]> | Record<string, TypedValue>, timeout?: DjangoTimeout): Promise<string[]>;
  delete(key: string): Promise<boolean>;
  incr(key: string, delta?: number): Promise<number | bigint>;
  decr(key: string, delta?: number): Promise<number | bigint>;
  add(key: string, value: TypedValue, timeout?: DjangoTimeout): Promise<boolean>;
  touch(key: string, timeout?: DjangoTimeout): Promise<boolean>;
  hasKey(key: string): Promise<boolean>;
  clear(): Promise<void>;
  /** The key Django really stores under: KEY_PREFIX, version and KEY_FUNCTION applied. */
  makeKey(key: string, version?: number): Promise<string>;
  /** `manage.py createcachetable`, for DatabaseCache. */
  createCacheTable(): Promise<void>;
  /** Django sets every sample under `<prefix><name>` (default prefix `sample:`); resolves with the names. */
  writeSamples(options?: { names?: readonly string[]; prefix?: string; timeout?: DjangoTimeout }): Promise<string[]>;
  /** Django reads every `<prefix><name>` and compares it with its own sample. */
  readSamples(options?: { names?: readonly string[]; prefix?: string }): Promise<Record<string, SampleReadResult>>;
  /** The samples, as defined in cache-peer.py, in typed JSON (asked once). */
  samples(): Promise<Record<string, TypedValue>>;
  /** The backend's stored form of a key, undefined when absent. */
  rawGet(key: string): Promise<RawEntry | undefined>;
  /** Any request (`{ op, ...fields }`), answered with the raw reply; an error reply rejects. */
  request(op: string, fields?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Ends the process (stdin closed, SIGKILL after 5 s). Calling it twice is fine. */
  close(): Promise<void>;
}

let installedModules: Map<string, boolean> | undefined;

function importable(modules: readonly string[]): string[] {
  installedModules ??= new Map();
  const unknown = modules.filter((name) => !installedModules!.has(name));
  for (const name of unknown) {
    const result = spawnSync(djangoPython(), ['-c', `import ${name}`], { encoding: 'utf8', timeout: 30_000 });
    installedModules.set(name, result.status === 0);
  }
  return modules.filter((name) => !installedModules!.get(name));
}

/**
 * Undefined when `djangoPython()` imports django, pymemcache, django_redis and redis (and
 * `extraModules`, e.g. `['pylibmc']`); otherwise why not (printed once), or a throw under
 * CACHETTE_REQUIRE_SERVERS=1.
 */
export function djangoCacheSkipReason(extraModules: readonly string[] = []): string | undefined {
  const missing = importable([...REQUIRED_MODULES, ...extraModules]);
  if (missing.length === 0) return undefined;
  return skipOrRequire(
    'django-cache',
    `${djangoPython()} cannot import ${missing.join(', ')} (apt-get install python3-django python3-pymemcache python3-django-redis python3-redis python3-pylibmc, or set CACHETTE_PYTHON)`,
  );
}

interface Pending {
  op: string;
  resolve(reply: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const livePeers = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Peers end by themselves when their stdin closes, which it does when the test process dies in
 * any way; the exit hook and the watchdog cover a hung peer.
 */
function track(child: ChildProcessWithoutNullStreams): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => livePeers.forEach(killGroup));
  }
  const group = child.pid;
  livePeers.add(child);
  if (group !== undefined) watch({ group });
  child.once('exit', () => {
    livePeers.delete(child);
    if (group !== undefined) unwatch({ group });
  });
}

class Peer implements DjangoCachePeer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stdout = '';
  private stderr = '';
  private exitStatus: string | undefined;
  private readonly exited: Promise<void>;
  private ready: { resolve(info: Record<string, unknown>): void; reject(error: Error): void } | undefined;
  private samplesCache: Promise<Record<string, TypedValue>> | undefined;
  pid = 0;
  djangoVersion = '';
  pythonVersion = '';

  constructor(
    readonly config: DjangoCacheConfig,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly requestTimeoutMs: number,
  ) {
    child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      if (this.stderr.length > STDERR_LIMIT) this.stderr = this.stderr.slice(-STDERR_LIMIT / 2);
    });
    child.stdin.on('error', () => {}); // a dead peer: the exit handler reports it
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => this.onExit(error.message, resolve));
      child.once('exit', (code, signal) => this.onExit(signal ?? `exit code ${code}`, resolve));
    });
    // A forgotten close() must not keep the test process alive; pending requests hold it open.
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
    child.unref();
  }

  get stderrTail(): string {
    return tail(this.stderr);
  }

  private problem(text: string): Error {
    const log = this.stderrTail ? `\n--- django cache peer stderr (last lines) ---\n${this.stderrTail}` : '';
    return new Error(`Django cache peer (${this.config.BACKEND}) ${text}.${log}`);
  }

  /** Resolves with the ready line, rejects when setup fails or takes longer than `timeoutMs`. */
  async start(timeoutMs: number): Promise<void> {
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(this.problem(`was not ready within ${timeoutMs / 1000} s`));
        killGroup(this.child);
      }, timeoutMs);
      this.ready = {
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
    this.pid = Number(info.pid);
    this.djangoVersion = String(info.django);
    this.pythonVersion = String(info.python);
  }

  private onStdout(chunk: Buffer): void {
    this.stdout += chunk.toString('utf8');
    let newline: number;
    while ((newline = this.stdout.indexOf('\n')) >= 0) {
      const line = this.stdout.slice(0, newline);
      this.stdout = this.stdout.slice(newline + 1);
      if (line.trim()) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.stderr += `[peer.ts] not a JSON line on stdout: ${line}\n`;
      return;
    }
    if (this.ready) {
      const ready = this.ready;
      this.ready = undefined;
      if (message.ready === true) ready.resolve(message);
      else ready.reject(this.problem(`failed to start: ${String(message.type)}: ${String(message.fatal ?? line)}`));
      return;
    }
    const pending = this.pending.get(Number(message.id));
    if (!pending) return; // the answer to a request that timed out
    this.pending.delete(Number(message.id));
    clearTimeout(pending.timer);
    if (typeof message.error === 'string') pending.reject(new DjangoCacheError(`${pending.op}: ${String(message.type)}: ${message.error}`, String(message.type)));
    else pending.resolve(message);
  }

  private onExit(status: string, resolve: () => void): void {
    this.exitStatus ??= status;
    const error = this.problem(`exited (${this.exitStatus})`);
    this.ready?.reject(error);
    this.ready = undefined;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    resolve();
  }

  request(op: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.exitStatus !== undefined) return Promise.reject(this.problem(`has exited (${this.exitStatus})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.problem(`did not answer ${op} within ${this.requestTimeoutMs / 1000} s`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { op, resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ ...fields, id, op })}\n`);
    });
  }

  private static timeout(timeout: DjangoTimeout): { timeout?: number | null } {
    return timeout === undefined ? {} : { timeout };
  }

  async set(key: string, value: TypedValue, timeout?: DjangoTimeout): Promise<void> {
    await this.request('set', { key, value, ...Peer.timeout(timeout) });
  }

  async get(key: string): Promise<TypedValue | undefined> {
    const reply = await this.request('get', { key });
    return reply.hit ? (reply.value as TypedValue) : undefined;
  }

  async getMany(keys: readonly string[]): Promise<Map<string, TypedValue>> {
    const reply = await this.request('get_many', { keys });
    return new Map(reply.values as [string, TypedValue][]);
  }

  async setMany(values: Iterable<readonly [string, TypedValue]> | Record<string, TypedValue>, timeout?: DjangoTimeout): Promise<string[]> {
    const pairs = Symbol.iterator in values ? [...(values as Iterable<readonly [string, TypedValue]>)] : Object.entries(values);
    const reply = await this.request('set_many', { values: pairs, ...Peer.timeout(timeout) });
    return reply.failed as string[];
  }

  async delete(key: string): Promise<boolean> {
    return (await this.request('delete', { key })).deleted as boolean;
  }

  private async counter(op: 'incr' | 'decr', key: string, delta: number): Promise<number | bigint> {
    const reply = await this.request(op, { key, delta });
    return fromTyped(reply.value as TypedValue) as number | bigint;
  }

  incr(key: string, delta = 1): Promise<number | bigint> {
    return this.counter('incr', key, delta);
  }

  decr(key: string, delta = 1): Promise<number | bigint> {
    return this.counter('decr', key, delta);
  }

  async add(key: string, value: TypedValue, timeout?: DjangoTimeout): Promise<boolean> {
    return (await this.request('add', { key, value, ...Peer.timeout(timeout) })).added as boolean;
  }

  async touch(key: string, timeout?: DjangoTimeout): Promise<boolean> {
    return (await this.request('touch', { key, ...Peer.timeout(timeout) })).touched as boolean;
  }

  async hasKey(key: string): Promise<boolean> {
    return (await this.request('has_key', { key })).present as boolean;
  }

  async clear(): Promise<void> {
    await this.request('clear');
  }

  async makeKey(key: string, version?: number): Promise<string> {
    return (await this.request('make_key', version === undefined ? { key } : { key, version })).key as string;
  }

  async createCacheTable(): Promise<void> {
    await this.request('createcachetable');
  }

  async writeSamples(options: { names?: readonly string[]; prefix?: string; timeout?: DjangoTimeout } = {}): Promise<string[]> {
    const { timeout, ...rest } = options;
    return (await this.request('write_samples', { ...rest, ...Peer.timeout(timeout) })).written as string[];
  }

  async readSamples(options: { names?: readonly string[]; prefix?: string } = {}): Promise<Record<string, SampleReadResult>> {
    return (await this.request('read_samples', options)).results as Record<string, SampleReadResult>;
  }

  samples(): Promise<Record<string, TypedValue>> {
    this.samplesCache ??= this.request('samples').then((reply) => reply.samples as Record<string, TypedValue>);
    return this.samplesCache;
  }

  async rawGet(key: string): Promise<RawEntry | undefined> {
    const { found, bytes, flags, expires } = await this.request('raw_get', { key });
    if (!found) return undefined;
    const entry: RawEntry = { bytes: fromTyped(bytes as TypedValue) as Buffer };
    if (flags !== undefined) entry.flags = flags as number;
    if (expires !== undefined) entry.expires = expires as RawEntry['expires'];
    return entry;
  }

  async close(): Promise<void> {
    if (this.exitStatus === undefined) {
      this.child.stdin.end();
      const timer = setTimeout(() => killGroup(this.child), CLOSE_GRACE_MS); // also holds the event loop open
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }
}

/**
 * Starts `cache-peer.py` under `djangoPython()` with this cache as `CACHES['default']` and
 * resolves once Django is set up. Requests are JSON lines; values are typed JSON.
 */
export async function startDjangoCachePeer(config: DjangoCacheConfig, options: DjangoCachePeerOptions = {}): Promise<DjangoCachePeer> {
  const child = spawn(djangoPython(), [SCRIPT, JSON.stringify(config)], {
    detached: true, // its own process group, which the watchdog kills
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  const peer = new Peer(config, child, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  await peer.start(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  return peer;
}
