import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Exit and signal handlers never run when the test process is SIGKILLed (a runner's last resort),
 * and its servers would live on. So a tiny shell process holds the list of our process groups and
 * directories, fed line by line on its stdin; when that pipe closes, whatever way we died, it
 * kills the groups still listed and removes the directories. `+entry` adds, `-entry` removes.
 */
const WATCHDOG_SCRIPT = `
entries=''
while IFS= read -r line; do
  case "$line" in
    +*) entries="$entries
\${line#+}" ;;
    -*) entries=$(printf '%s\\n' "$entries" | grep -vxF -- "\${line#-}") ;;
  esac
done
printf '%s\\n' "$entries" | while IFS= read -r entry; do
  case "$entry" in 'group '*) kill -s KILL -- "-\${entry#group }" 2>/dev/null ;; esac
done
printf '%s\\n' "$entries" | while IFS= read -r entry; do
  case "$entry" in 'dir '*) rm -rf -- "\${entry#dir }" ;; esac
done
`;

let watchdog: ChildProcess | undefined;

function tell(line: string): void {
  if (!watchdog) {
    // Its own session: a Ctrl+C meant for the tests must not kill it before it has cleaned up.
    watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {}); // without /bin/sh the exit handlers still do the work
    watchdog.stdin?.on('error', () => {});
    watchdog.unref();
    (watchdog.stdin as Socket | null)?.unref();
  }
  watchdog.stdin?.write(`${line}\n`);
}

export type WatchedEntry = { group: number } | { dir: string };

const entryLine = (entry: WatchedEntry): string => ('group' in entry ? `group ${entry.group}` : `dir ${entry.dir}`);

export function watch(entry: WatchedEntry): void {
  tell(`+${entryLine(entry)}`);
}

/** Taken off the list once gone, so a later reuse of the process group id is never killed. */
export function unwatch(entry: WatchedEntry): void {
  tell(`-${entryLine(entry)}`);
}
