import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TierStats, TieredCacheOptions } from '../src/index';

const PEER = fileURLToPath(new URL('./peer.ts', import.meta.url));
const PACKAGE_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const PEER_TSCONFIG = fileURLToPath(new URL('./tsconfig.peer.json', import.meta.url));

/** A TieredCache in another Node process, driven over its stdin and stdout. */
export class PeerProcess {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 0;
  private stderr = '';

  constructor(redisUrl: string, invalidation: TieredCacheOptions['invalidation'] = 'keys') {
    this.child = spawn(process.execPath, ['--import', 'tsx', PEER, redisUrl, invalidation], {
      cwd: PACKAGE_DIRECTORY,
      env: { ...process.env, TSX_TSCONFIG_PATH: PEER_TSCONFIG },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const reply = JSON.parse(line) as { id: number; result?: unknown; error?: string };
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.error === undefined) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(reply.error));
    });
    this.child.once('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the peer process exited (${code}):\n${this.stderr}`));
      this.waiting.clear();
    });
  }

  private call(method: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }

  /** The value, or `null` when missing (values in these tests are never null). */
  get(key: string): Promise<unknown> {
    return this.call('get', key);
  }

  set(key: string, value: unknown, timeout?: number): Promise<void> {
    return this.call('set', key, value, timeout) as Promise<void>;
  }

  delete(key: string): Promise<boolean> {
    return this.call('delete', key) as Promise<boolean>;
  }

  /** One round trip on each of the peer's connections (see round-trip.ts). */
  async roundTrip(): Promise<void> {
    await this.call('roundTrip');
  }

  tierStats(): Promise<TierStats> {
    return this.call('tierStats') as Promise<TierStats>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin!.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
}
