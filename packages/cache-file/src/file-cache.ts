import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import {
  BaseCache,
  CULLING_OPTIONS,
  InvalidCacheBackendError,
  MISSING,
  ValueTooLargeError,
  cullCount,
  declareOptions,
  incrementedValue,
  nowInSeconds,
  pickleSerializer,
  readCullingOptions,
  resolveSerializer,
  secondsUntil,
  type CacheParams,
  type CullingOptions,
  type Missing,
  type ParsedCacheUrl,
  type Serializer,
  type SerializerOption,
  type StoreStats,
} from '@cachette/cache-core';
import { directoryCount } from './directory-count';
import { withLockFile } from './file-lock';
import { errorCode, ignoreMissingFile, openCacheFile, unlinkIfSameFile } from './file-system';
import { djangoFormat } from './django-format';
import { cachetteFormat, compressBody, decompressBody, isExpired, type EntryFormat, type EntryHeader } from './entry-format';

export interface FileCacheOptions extends CullingOptions {
  /**
   * How values become bytes: `'v8'` (default), `'json'` or your own `Serializer`, in Cachette's
   * own files; `'pickle'`: Django's `FileBasedCache` files, shared with a Django site.
   */
  serializer?: SerializerOption;
  /**
   * The largest value, in serialized bytes, a write accepts (larger: `ValueTooLargeError`) and a
   * read inflates (a file that inflates past it is damaged: a miss, removed). Default 64 MiB.
   */
  maxValueBytes?: number;
}

/** `location` is the cache directory: an absolute path, created (mode 0700) on the first write. */
export interface FileCacheParams extends CacheParams {
  options?: FileCacheOptions;
}

// Beside a cache file while an increment holds it; never matched as a cache file.
const LOCK_SUFFIX = '.lock';
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;
const FILES_READ_AT_ONCE = 64;
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;

/** A live cache file: its expiry and serialized value. */
interface StoredEntry {
  expiry: number | null;
  serialized: Buffer;
}

/** A cache file `touch` holds open, as it found it. */
interface OpenCacheFile {
  handle: FileHandle;
  inode: number;
  size: number;
  bodyOffset: number;
}

/** Picks `count` distinct random elements (a partial Fisher–Yates shuffle, as Python's `random.sample`). */
function randomSample<T>(items: T[], count: number): T[] {
  for (let index = 0; index < count; index++) {
    const pick = index + Math.floor(Math.random() * (items.length - index));
    [items[index], items[pick]] = [items[pick]!, items[index]!];
  }
  return items.slice(0, count);
}

/** The body inflated, or `undefined` when it is damaged or inflates past `maxValueBytes`. */
async function decompressOrUndefined(body: Buffer, maxValueBytes: number): Promise<Buffer | undefined> {
  try {
    return await decompressBody(body, maxValueBytes);
  } catch {
    return undefined;
  }
}

/** `maxValueBytes` as given in options (a number) or a URL (a string): a positive safe integer. */
function readMaxValueBytes(option: unknown): number {
  if (option === undefined) return DEFAULT_MAX_VALUE_BYTES;
  const bytes = typeof option === 'string' && option.trim() !== '' ? Number(option) : option;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new TypeError(`FileCache option maxValueBytes must be a positive integer; got ${String(option)}`);
  }
  return bytes;
}

function cacheDirectory(location: unknown): string {
  if (typeof location !== 'string' || !isAbsolute(location)) {
    throw new TypeError(`FileCache needs an absolute directory as location (e.g. '/var/tmp/cachette'); got ${String(location)}`);
  }
  return resolve(location);
}

/**
 * Django's `FileBasedCache`: one file per key, named by the md5 of the made key, written to a
 * temporary file and renamed into place so readers never see a torn value.
 */
export class FileCache extends BaseCache {
  static override readonly knownOptions = declareOptions<FileCacheOptions>({ ...CULLING_OPTIONS, serializer: 'url', maxValueBytes: 'url' });

  readonly directory: string;
  private readonly serializer: Serializer;
  // `serializer: 'pickle'` means Django's own files, so a Django site can share the directory.
  private readonly format: EntryFormat;
  private readonly maxEntries: number;
  private readonly cullFrequency: number;
  private readonly maxValueBytes: number;

  constructor(params: FileCacheParams = {}) {
    super(params);
    this.directory = cacheDirectory(params.location);
    this.serializer = resolveSerializer(params.options?.serializer);
    this.format = this.serializer === pickleSerializer ? djangoFormat : cachetteFormat;
    ({ maxEntries: this.maxEntries, cullFrequency: this.cullFrequency } = readCullingOptions(params.options));
    this.maxValueBytes = readMaxValueBytes(params.options?.maxValueBytes);
  }

  /** `file:///var/tmp/cachette`: a URL, like `location`, names an absolute directory. */
  static paramsFromUrl(parsed: ParsedCacheUrl, common: CacheParams): CacheParams {
    if (typeof common.location !== 'string' || !isAbsolute(common.location)) {
      throw new InvalidCacheBackendError(`File cache URL '${parsed.url}' names no absolute directory (write file:///var/tmp/cachette)`);
    }
    return common;
  }

  /** The file holding a made key: never derived from the key's text, so no key can escape the directory. */
  filePath(key: string): string {
    return join(this.directory, createHash('md5').update(key).digest('hex') + this.format.suffix);
  }

  // ---- primitives ----------------------------------------------------------------------------

  protected async getItem(key: string): Promise<unknown> {
    const entry = await this.readLiveEntry(this.filePath(key));
    return entry ? this.serializer.deserialize(entry.serialized) : MISSING;
  }

  protected override async hasItem(key: string): Promise<boolean> {
    return (await this.readLiveEntry(this.filePath(key))) !== undefined;
  }

  /**
   * The expiry comes from the header and the value is never deserialized; the body's checksum is
   * still verified, as for `get` and `hasKey`, so a damaged file is removed and reads as missing
   * here too instead of reporting time left for a value nobody can read.
   */
  protected override async ttlItem(key: string): Promise<number | null | Missing> {
    const entry = await this.readLiveEntry(this.filePath(key));
    return entry ? secondsUntil(entry.expiry) : MISSING;
  }

  /** Reads files concurrently, a bounded number at a time so that long key lists cannot exhaust file descriptors. */
  protected override async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (let start = 0; start < keys.length; start += FILES_READ_AT_ONCE) {
      const batch = keys.slice(start, start + FILES_READ_AT_ONCE);
      const values = await Promise.all(batch.map((key) => this.getItem(key)));
      batch.forEach((key, index) => {
        if (values[index] !== MISSING) found.set(key, values[index]);
      });
    }
    return found;
  }

  protected async setItem(key: string, value: unknown, expiry: number | null): Promise<void> {
    await this.writeEntry(key, await this.encodeEntry(value, expiry));
  }

  /** Encodes every value before writing any file, so a value the serializer refuses leaves every key as it was. */
  protected override async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, expiry: number | null): Promise<string[]> {
    const encoded = await Promise.all(entries.map(async ([key, value]) => [key, await this.encodeEntry(value, expiry)] as const));
    for (const [key, contents] of encoded) await this.writeEntry(key, contents);
    return [];
  }

  private async writeEntry(key: string, contents: Buffer[]): Promise<void> {
    await this.cull();
    await this.writeAtomically(this.filePath(key), contents);
  }

  /**
   * Atomic across processes: the new file is hard-linked into place, which fails when a file
   * exists. A stale (expired or unreadable) file is removed and the link tried again.
   */
  protected async addItem(key: string, value: unknown, expiry: number | null): Promise<boolean> {
    const contents = await this.encodeEntry(value, expiry);
    await this.cull();
    const path = this.filePath(key);
    const temporary = await this.writeTemporary(path, contents);
    try {
      for (;;) {
        try {
          await link(temporary, path);
          return true;
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error;
        }
        if (await this.readLiveEntry(path)) return false;
      }
    } finally {
      await ignoreMissingFile(unlink(temporary), undefined);
    }
  }

  /**
   * Rewrites the header in place with one positioned write when the new one has the old one's
   * length (always in Cachette's format; in Django's, unless the expiry changes between `None` and
   * a float). If a `set` renames a new file over this one meanwhile, the write lands in the
   * replaced file and the new value keeps its own expiry. A header of another length cannot be
   * rewritten in place without moving the body, so the file is rewritten whole (see `rewriteHeader`).
   */
  protected async touchItem(key: string, expiry: number | null): Promise<boolean> {
    const path = this.filePath(key);
    const handle = await openCacheFile(path, constants.O_RDWR);
    if (!handle) return false;
    try {
      const stats = await handle.stat();
      const { ino: inode, size } = stats;
      // A FIFO opened read-write fails a read with EAGAIN: like any file of another kind, it is no entry.
      const stored = stats.isFile() ? await this.readHeader(handle) : undefined;
      if (stored === undefined || isExpired(stored.expiry, nowInSeconds())) {
        await unlinkIfSameFile(path, inode);
        return false;
      }
      const header = this.format.encodeHeader(expiry);
      if (header.length === stored.bodyOffset) await handle.write(header, 0, header.length, 0);
      else await this.rewriteHeader(path, { handle, inode, size, bodyOffset: stored.bodyOffset }, header);
      return true;
    } finally {
      await handle.close();
    }
  }

  private async readHeader(handle: FileHandle): Promise<EntryHeader | undefined> {
    const start = Buffer.alloc(this.format.maxHeaderLength);
    const { bytesRead } = await handle.read(start, 0, start.length, 0);
    return this.format.decodeHeader(start.subarray(0, bytesRead));
  }

  /**
   * Writes `header` and the file's compressed body, byte for byte, to a new file renamed over the
   * old one if it is still there: a `set` or `incr` that replaced it since it was read keeps its
   * value and expiry. (Between that check and the rename a concurrent write can still be lost, as
   * with any two writers; Django's `touch` instead rewrites the file in place without truncating.)
   */
  private async rewriteHeader(path: string, file: OpenCacheFile, header: Buffer): Promise<void> {
    const body = Buffer.alloc(file.size - file.bodyOffset);
    const { bytesRead } = await file.handle.read(body, 0, body.length, file.bodyOffset);
    const temporary = await this.writeTemporary(path, [header, body.subarray(0, bytesRead)]);
    const current = await ignoreMissingFile(lstat(path), undefined);
    if (current?.ino === file.inode) await this.renameOrRemove(temporary, path);
    else await ignoreMissingFile(unlink(temporary), undefined);
  }

  protected async deleteItem(key: string): Promise<boolean> {
    return ignoreMissingFile(unlink(this.filePath(key)).then(() => true), false);
  }

  protected override async deleteManyItems(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.deleteItem(key)));
  }

  /**
   * Reads and rewrites the file keeping its expiry, holding the key's lock file so increments from
   * every process take turns. (A `set` does not take the lock: it may land between the read and the write.)
   */
  protected async incrItem(key: string, delta: number): Promise<number | Missing> {
    const path = this.filePath(key);
    try {
      return await withLockFile(`${path}${LOCK_SUFFIX}`, async () => {
        const entry = await this.readLiveEntry(path);
        if (!entry) return MISSING;
        const next = incrementedValue(key, this.serializer.deserialize(entry.serialized), delta);
        await this.writeAtomically(path, await this.encodeEntry(next, entry.expiry));
        return next;
      });
    } catch (error) {
      // No directory: nothing is stored.
      if (errorCode(error) === 'ENOENT') return MISSING;
      throw error;
    }
  }

  /** Removes this cache's files only: foreign files and the directory itself stay. */
  async clear(): Promise<void> {
    const files = await this.listCacheFiles();
    await this.removeFiles(files);
    directoryCount(this.directory).counted(0);
  }

  /**
   * Counted in the directory: the cache files (names this backend writes only, so no temporary,
   * lock or foreign file), expired ones not read since included, and the sum of their sizes. A
   * missing directory holds nothing; other filesystem errors reject.
   */
  override async storeStats(): Promise<StoreStats> {
    const files = await this.listCacheFiles();
    // A file removed since the listing (a read of an expired one, a cull) no longer counts.
    const sizes = await Promise.all(files.map((path) => ignoreMissingFile(lstat(path).then(({ size }) => size), undefined)));
    const present = sizes.filter((size) => size !== undefined);
    return { entries: present.length, bytes: present.reduce((sum, size) => sum + size, 0), maxEntries: this.maxEntries };
  }

  // ---- files ---------------------------------------------------------------------------------

  /** Refuses a value over `maxValueBytes` serialized: it could be written but never read back. */
  private async encodeEntry(value: unknown, expiry: number | null): Promise<Buffer[]> {
    const serialized = this.serializer.serialize(value);
    if (serialized.length > this.maxValueBytes) {
      throw new ValueTooLargeError(`The value is ${serialized.length} bytes serialized, over the file cache's maxValueBytes (${this.maxValueBytes}); nothing was stored`);
    }
    return [this.format.encodeHeader(expiry), await compressBody(serialized)];
  }

  /**
   * The entry at `path` when it is present, intact and not expired. An expired, corrupt,
   * truncated or foreign file is removed and reads as missing; other filesystem errors reject.
   */
  private async readLiveEntry(path: string): Promise<StoredEntry | undefined> {
    const handle = await openCacheFile(path, constants.O_RDONLY);
    if (!handle) return undefined;
    let contents: Buffer;
    let inode: number;
    try {
      // A FIFO opened read-only with no writer reads as empty, hence as a damaged file.
      [contents, { ino: inode }] = await Promise.all([handle.readFile(), handle.stat()]);
    } finally {
      await handle.close();
    }
    const header = this.format.decodeHeader(contents);
    const live = header !== undefined && !isExpired(header.expiry, nowInSeconds());
    const serialized = live ? await decompressOrUndefined(contents.subarray(header.bodyOffset), this.maxValueBytes) : undefined;
    if (serialized === undefined) {
      await unlinkIfSameFile(path, inode);
      return undefined;
    }
    return { expiry: header!.expiry, serialized };
  }

  private async writeAtomically(path: string, contents: Buffer[]): Promise<void> {
    await this.renameOrRemove(await this.writeTemporary(path, contents), path);
  }

  /** Renames `temporary` over `path`; removes it if that fails. */
  private async renameOrRemove(temporary: string, path: string): Promise<void> {
    try {
      await rename(temporary, path);
    } catch (error) {
      await ignoreMissingFile(unlink(temporary), undefined);
      throw error;
    }
  }

  /** Writes a new file beside `path`; recreates the cache directory if it is missing. */
  private async writeTemporary(path: string, contents: Buffer[]): Promise<string> {
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    let handle: FileHandle;
    try {
      handle = await open(temporary, 'wx', FILE_MODE);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      await mkdir(this.directory, { recursive: true, mode: DIRECTORY_MODE });
      handle = await open(temporary, 'wx', FILE_MODE);
    }
    try {
      await handle.writev(contents);
    } catch (error) {
      await handle.close();
      await ignoreMissingFile(unlink(temporary), undefined);
      throw error;
    }
    await handle.close();
    return temporary;
  }

  private async listCacheFiles(): Promise<string[]> {
    return (await this.cacheFileNames()).map((name) => join(this.directory, name));
  }

  private async cacheFileNames(): Promise<string[]> {
    const names = await ignoreMissingFile(readdir(this.directory), []);
    return names.filter((name) => this.format.isCacheFileName(name));
  }

  private async removeFiles(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.map((path) => ignoreMissingFile(unlink(path), undefined)));
  }

  /**
   * Django's file culling: at `maxEntries` files, remove a random `1/cullFrequency` of them (0:
   * all). Django counts the directory before every write; here the count is skipped while this
   * process's own writes since the last count cannot have reached `maxEntries` and that count is
   * under a second old (see `DirectoryCount`).
   */
  private async cull(): Promise<void> {
    const count = directoryCount(this.directory);
    if (count.mayWriteWithoutCounting(this.maxEntries)) return;
    // Counted by name: joining a path per file was a tenth of a write's CPU.
    const names = await this.cacheFileNames();
    if (names.length < this.maxEntries) {
      count.counted(names.length);
      return;
    }
    const removed = randomSample(names, cullCount(names.length, this.cullFrequency));
    await this.removeFiles(removed.map((name) => join(this.directory, name)));
    count.counted(names.length - removed.length);
  }
}
