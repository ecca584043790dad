import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories that hold server binaries but are often missing from a non-root PATH. */
const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` found in `dirs`, then PATH, then the sbin directories. */
export function findExecutable(names: readonly string[], dirs: readonly string[] = []): string | undefined {
  const searchPath = [...dirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SYSTEM_BIN_DIRS];
  for (const name of names) {
    for (const dir of searchPath) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Subdirectories of `parent` sorted by their numeric name, highest first (`/usr/lib/postgresql/15`). */
export function versionedSubdirs(parent: string): string[] {
  try {
    return readdirSync(parent)
      .filter((name) => /^\d+(\.\d+)*$/.test(name))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
      .map((name) => join(parent, name));
  } catch {
    return [];
  }
}

export interface UserIds {
  uid: number;
  gid: number;
}

/** A system user's ids from /etc/passwd (no dependency on `id` or a native module). */
export function lookupUser(name: string): UserIds | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  user?: UserIds;
  cwd?: string;
  timeoutMs?: number;
  /** Written to the command's stdin (for passwords, which must not appear in its arguments). */
  input?: string;
}

/** Runs a command to completion; rejects with its output when it fails. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      uid: options.user?.uid,
      gid: options.user?.gid,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    child.stdin?.end(options.input);
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const text = Buffer.concat(output).toString('utf8');
      if (code === 0) resolve(text);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail(text)}`));
    });
  });
}

/** The last lines of a log, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
