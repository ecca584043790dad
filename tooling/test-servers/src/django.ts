import { spawnSync } from 'node:child_process';
import { skipOrRequire } from './availability.js';
import { accepts } from './probe.js';
import { startOnFreePorts } from './process.js';

/** The Python that has Django: Debian's (`apt-get install python3-django`), or `CACHETTE_PYTHON`. */
export function djangoPython(): string {
  return process.env.CACHETTE_PYTHON?.trim() || '/usr/bin/python3';
}

let djangoVersion: string | null | undefined;

/** The Django version `djangoPython()` imports, or `null` when it has none. Asked once. */
function installedDjango(): string | null {
  if (djangoVersion === undefined) {
    const result = spawnSync(djangoPython(), ['-c', 'import django; print(django.get_version())'], { encoding: 'utf8', timeout: 30_000 });
    djangoVersion = result.status === 0 ? result.stdout.trim() : null;
  }
  return djangoVersion;
}

/**
 * Undefined when a real Django can be run; otherwise why not (printed once), or a throw under
 * CACHETTE_REQUIRE_SERVERS=1, as for the servers.
 */
export function djangoSkipReason(): string | undefined {
  if (installedDjango() !== null) return undefined;
  return skipOrRequire('django', `${djangoPython()} cannot import django (apt-get install python3-django, or set CACHETTE_PYTHON)`);
}

export interface DjangoSite {
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The Django version serving it. */
  version: string;
  stop(): Promise<void>;
}

/**
 * Starts a Django site: `script` is run as `python script <port>` and must listen on
 * 127.0.0.1:<port> (for example with wsgiref). Resolves once it accepts connections.
 */
export async function startDjangoSite(script: string, env: NodeJS.ProcessEnv = {}): Promise<DjangoSite> {
  const version = installedDjango();
  if (version === null) throw new Error(`Cannot start a Django site: ${djangoPython()} cannot import django`);
  const host = '127.0.0.1';
  const { process: server, ports } = await startOnFreePorts(1, ([port]) => ({
    label: 'django',
    command: djangoPython(),
    args: [script, String(port)],
    env: { PYTHONDONTWRITEBYTECODE: '1', ...env },
    isReady: () => accepts({ host, port }),
  }));
  const port = ports[0]!;
  return { host, port, url: `http://${host}:${port}`, version, stop: () => server.stop() };
}
