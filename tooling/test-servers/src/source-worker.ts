import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** What every worker says: one JSON object a line on stdout, named by `event`. */
export interface WorkerEvent {
  event: string;
}

const WORKER_TSCONFIG = fileURLToPath(new URL('./tsconfig.worker.json', import.meta.url));
const TEST_SERVERS_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));

/**
 * A Node process running one of this package's scripts under tsx, with `@cachette/cache-*` mapped
 * to the packages' sources (so it tests the code as it is, unbuilt). It talks in JSON lines: its
 * events are kept in order, and `send` writes a line to its stdin.
 */
export class SourceWorker<E extends WorkerEvent = WorkerEvent> {
  readonly process: ChildProcess;
  readonly events: E[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly listeners: Array<(event: E) => void> = [];
  private stderr = '';
  private closed = false;

  /** `script` is a URL or path of a .ts file; `nodeOptions` go before tsx (`--expose-gc`). */
  constructor(script: string | URL, args: string[], nodeOptions: string[] = []) {
    const path = script instanceof URL ? fileURLToPath(script) : script;
    this.process = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', path, ...args], {
      cwd: TEST_SERVERS_DIRECTORY,
      env: { ...process.env, TSX_TSCONFIG_PATH: WORKER_TSCONFIG },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.readLines(this.process.stdout!, (line) => this.receive(JSON.parse(line) as E));
    // Keep only the tail: a long-running worker must not grow the parent's memory.
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-20_000)));
    // 'close', not 'exit': 'exit' may come before the last lines on stdout have been read.
    this.process.on('close', () => {
      this.closed = true;
      this.wakeAll();
    });
    // A worker killed while we write to it must not crash the parent with EPIPE.
    this.process.stdin!.on('error', () => {});
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  get stderrTail(): string {
    return this.stderr;
  }

  /** Calls `listener` with every event from now on. */
  onEvent(listener: (event: E) => void): void {
    this.listeners.push(listener);
  }

  /** The first event named `name`, once said; rejects when the worker ends without it or `limitMs` passes. */
  async next(name: E['event'], limitMs = 60_000): Promise<E> {
    const giveUpAt = Date.now() + limitMs;
    for (;;) {
      const found = this.events.find((event) => event.event === name);
      if (found) return found;
      if (this.closed || Date.now() > giveUpAt) {
        const how = this.closed ? `exited (code ${this.process.exitCode}, signal ${this.process.signalCode})` : `did not say it within ${limitMs} ms`;
        throw new Error(`worker ${this.process.pid} ${how} before '${name}':\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  send(line: string): void {
    if (!this.exited) this.process.stdin!.write(`${line}\n`);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }

  private readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) onLine(line);
      }
    });
  }

  private receive(event: E): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }
}
