import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './ports.js';
import { tail, type UserIds } from './system.js';
import { unwatch, watch } from './watchdog.js';

/** How to start one server and how to tell that it answers. */
export interface ServerCommand {
  label: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  user?: UserIds;
  /** The signal for a clean, quick shutdown (postgres wants SIGINT; the others SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** True once the server answers. Must settle quickly: probes carry their own timeouts. */
  isReady(): Promise<boolean>;
  startTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const LOG_LIMIT = 64 * 1024;
const READY_POLL_MS = 50;

const liveProcesses = new Set<ServerProcess>();
const liveTempDirs = new Set<string>();

/**
 * One server child process. It runs in its own process group so signals reach every process it
 * forks (postgres backends, wrapper scripts) and `pause()` stalls all of them.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private exitStatus: string | undefined;
  private log = '';

  constructor(readonly command: ServerCommand) {}

  get logTail(): string {
    return tail(this.log);
  }

  /** Spawned and not exited yet: it may still be starting, or be paused. */
  get running(): boolean {
    return this.child !== undefined && this.exitStatus === undefined;
  }

  /** Spawns the server and waits until it answers; on failure it is killed and the log tail thrown. */
  async start(): Promise<void> {
    installExitCleanup();
    const { command, args, env, user } = this.command;
    this.log = '';
    this.exitStatus = undefined;
    const child = spawn(command, args, {
      detached: true,
      env: { ...process.env, ...env },
      uid: user?.uid,
      gid: user?.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveProcesses.add(this);
    const group = child.pid;
    if (group !== undefined) watch({ group });
    this.exit = new Promise((resolve) => {
      child.on('error', (error) => {
        this.exitStatus = error.message;
        resolve();
      });
      child.on('exit', (code, signal) => {
        this.exitStatus = signal ?? `exit code ${code}`;
        liveProcesses.delete(this);
        if (group !== undefined) unwatch({ group });
        resolve();
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => this.appendLog(chunk));
      // A test that forgets stop() must not keep its process alive: the exit hook kills the server.
      (stream as Socket).unref(); // stdio pipes are sockets
    }
    child.unref();
    await this.waitUntilReady();
  }

  private appendLog(chunk: Buffer): void {
    this.log += chunk.toString('utf8');
    if (this.log.length > LOG_LIMIT) this.log = this.log.slice(-LOG_LIMIT / 2);
  }

  private async waitUntilReady(): Promise<void> {
    const { label, startTimeoutMs = DEFAULT_START_TIMEOUT_MS } = this.command;
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (this.exitStatus !== undefined) {
        throw new ServerStartError(this.command, `exited (${this.exitStatus}) before it answered`, this.logTail);
      }
      if (await this.command.isReady()) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new ServerStartError(this.command, `did not answer within ${startTimeoutMs / 1000} s`, this.logTail);
      }
      await delay(READY_POLL_MS);
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.exitStatus !== undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Returns once the server is really stopped, so a request sent next is certain to stall. */
  pause(): void {
    this.signalGroup('SIGSTOP');
    const pid = this.child?.pid;
    if (pid !== undefined) waitUntilStopped(pid);
  }

  resume(): void {
    this.signalGroup('SIGCONT');
  }

  async kill(): Promise<void> {
    this.signalGroup('SIGKILL');
    await this.exited();
  }

  /** The child is unref'd, so waiting for its exit must hold the event loop open itself. */
  private async exited(): Promise<void> {
    const keepAlive = setInterval(() => {}, 60_000);
    await this.exit;
    clearInterval(keepAlive);
  }

  /** A clean shutdown, SIGKILL if it takes longer than the grace period. */
  async stop(): Promise<void> {
    if (this.exitStatus !== undefined) return;
    this.signalGroup('SIGCONT'); // a paused server would never handle the stop signal
    this.signalGroup(this.command.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), STOP_GRACE_MS);
    await this.exited();
    clearTimeout(timer);
    // Anything the server forked that outlived it (it is gone, so nothing else uses the group).
    this.signalGroup('SIGKILL');
  }

  /** Kills every process of the group at once; for the synchronous exit hook. */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }
}

/** A thread's scheduler state letter from /proc ('T' = stopped, 'S' = sleeping, ...); Linux only. */
export function processState(pid: number, thread = pid): string {
  const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
  return stat.charAt(stat.lastIndexOf(')') + 2); // "pid (name) S ...": the name may hold spaces
}

/** The state of each thread of a process, or [] where /proc is missing. */
function threadStates(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((thread) => processState(pid, Number(thread)));
  } catch {
    return [];
  }
}

const STOP_WAIT_MS = 2_000;

/**
 * SIGSTOP lands asynchronously: a thread running on another core may answer one more request.
 * pause() is synchronous, so this waits by polling /proc (a few microseconds in practice).
 */
function waitUntilStopped(pid: number): void {
  const deadline = Date.now() + STOP_WAIT_MS;
  while (Date.now() < deadline && !threadStates(pid).every((state) => state === 'T' || state === 't'));
}

export class ServerStartError extends Error {
  constructor({ label, command, args }: ServerCommand, problem: string, logTail: string) {
    const log = logTail ? `\n--- ${label} log (last lines) ---\n${logTail}` : ' It logged nothing.';
    super(`${label} ${problem}.\nCommand: ${command} ${args.join(' ')}${log}`);
    this.name = 'ServerStartError';
  }
}

const PORT_RACE_ATTEMPTS = 4;

/**
 * Starts a server on `portCount` fresh ports. Another process can grab a port between our probe
 * and the server's bind; when the server says so, it is retried on new ports.
 */
export async function startOnFreePorts(
  portCount: number,
  commandFor: (ports: number[]) => ServerCommand,
): Promise<{ process: ServerProcess; ports: number[] }> {
  for (let attempt = 1; ; attempt += 1) {
    const ports: number[] = [];
    while (ports.length < portCount) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const server = new ServerProcess(commandFor(ports));
    try {
      await server.start();
      return { process: server, ports };
    } catch (error) {
      const lostRace = /address already in use|EADDRINUSE|could not bind/i.test(server.logTail);
      if (!lostRace || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

/** A fresh private directory, removed at `removeTempDir` or when the process exits. */
export function makeTempDir(prefix: string, owner?: UserIds, mode = 0o700): string {
  const dir = mkdtempSync(join(tmpdir(), `cachette-${prefix}-`));
  chmodSync(dir, mode);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  liveTempDirs.add(dir);
  watch({ dir });
  installExitCleanup();
  return dir;
}

/** Runs `use` in a fresh temporary directory, which is removed again if `use` fails. */
export async function inTempDir<T>(prefix: string, owner: UserIds | undefined, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix, owner);
  try {
    return await use(dir);
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

export async function removeTempDir(dir: string): Promise<void> {
  liveTempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
  unwatch({ dir });
}

let exitCleanupInstalled = false;

function cleanUpNow(): void {
  for (const server of liveProcesses) server.killNow();
  liveProcesses.clear();
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
  liveTempDirs.clear();
}

/**
 * Servers must not outlive the test process. 'exit' handlers may only do synchronous work, hence
 * SIGKILL there; on SIGINT/SIGTERM we clean up and then die of the same signal, unless someone
 * else listens for it and takes charge of exiting.
 */
function installExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  process.on('exit', cleanUpNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanUpNow();
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
