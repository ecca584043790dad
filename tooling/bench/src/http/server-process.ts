import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { wireSize, type FetchedPage } from './checks';
import type { Framework, ServerMessage, Variant } from './variants';

const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));
const BENCH_DIRECTORY = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 60_000;

/** A server child of the http suite. */
export interface ServerProcess {
  readonly framework: Framework;
  readonly variant: Variant;
  readonly pid: number;
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /**
   * How many pages the handler has rendered so far (the hit server renders one, for the first
   * request), and the CPU time the child has used, user and system, all threads, in µs.
   */
  stats(): Promise<{ renders: number; cpuMicros: number }>;
  /** Asks the child to exit (normally, so a `--cpu-prof` profile is written) and waits for it. */
  stop(): Promise<void>;
}

function nextMessage<T extends ServerMessage['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`server child ${child.pid} sent no '${type}' message in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ServerMessage) => {
      if (message.type === type) finish(undefined, message as Extract<ServerMessage, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`server child ${child.pid} exited (${signal ?? `status ${code}`}) before its '${type}' message`));
    function finish(error?: Error, message?: Extract<ServerMessage, { type: T }>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Extra node flags for the server children only, from `CACHETTE_BENCH_SERVER_NODE_ARGS`
 * (`--cpu-prof --cpu-prof-dir=/tmp/profiles`), split on spaces.
 */
function extraNodeArgs(): string[] {
  return (process.env.CACHETTE_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
}

/**
 * Starts `server.ts <framework> <variant>` as `fork` would (an IPC channel, this process's node
 * flags: tsx's loader among them, so the child runs the TypeScript sources as the parent does),
 * under `taskset -c <cpus>` when `cpus` is given, and waits until it listens.
 */
export async function startServer(framework: Framework, variant: Variant, cpus?: string): Promise<ServerProcess> {
  const node = [process.execPath, ...process.execArgv, ...extraNodeArgs(), SERVER_SCRIPT, framework, variant];
  const [program, ...args] = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
  const child = spawn(program!, args, { cwd: BENCH_DIRECTORY, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let listening: Extract<ServerMessage, { type: 'listening' }>;
  try {
    listening = await nextMessage(child, 'listening', START_TIMEOUT_MS);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    framework,
    variant,
    pid: listening.pid,
    url: `http://127.0.0.1:${listening.port}/`,
    async stats() {
      const reply = nextMessage(child, 'stats', 10_000);
      child.send({ type: 'stats' });
      const { renders, cpuMicros } = await reply;
      return { renders, cpuMicros };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.send({ type: 'stop' });
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One GET on a fresh connection, with node's own client (not the load generator). */
export function fetchPage(url: string): Promise<FetchedPage> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = response.statusCode ?? 0;
        const wireBytes = wireSize(status, response.statusMessage ?? '', response.rawHeaders, body.length);
        resolve({ status, headers: response.headers, body: body.toString(), wireBytes });
      });
      response.on('error', reject);
    }).on('error', reject);
  });
}
