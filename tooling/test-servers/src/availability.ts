import {
  mariaDbBinaries,
  memcachedBinary,
  memcachedFeatures,
  opensslBinary,
  postgresBinaries,
  postgresUser,
  redisServerBinary,
  saslPluginsInstalled,
  saslpasswd2Binary,
} from './binaries.js';
import { dockerAnswers } from './docker.js';
import { ENV_VARIABLES, envSetting, serversAreRequired } from './env.js';
import { runningAsRoot } from './system.js';
import type { ServerKind, ServerNeeds, ServerSource } from './types.js';

/** Needs of a start call: `configuration` is custom args or a password, which an external server ignores. */
export interface StartNeeds extends ServerNeeds {
  configuration?: boolean;
}

const NEED_NAMES: Readonly<Record<keyof StartNeeds, string>> = {
  tls: 'TLS',
  sasl: 'SASL',
  unixSocket: 'a unix socket',
  control: 'kill/restart/pause/resume',
  configuration: 'custom arguments or a password',
};

const CONTAINER_NEEDS: ReadonlySet<keyof StartNeeds> = new Set(['configuration']);

function wantedNeeds(needs: StartNeeds): (keyof StartNeeds)[] {
  return (Object.keys(NEED_NAMES) as (keyof StartNeeds)[]).filter((need) => needs[need]);
}

function describeNeeds(needs: readonly (keyof StartNeeds)[]): string {
  return needs.map((need) => NEED_NAMES[need]).join(', ');
}

/** Why no local binary can be started, or undefined when one can. */
function localBinaryMissing(kind: ServerKind): string | undefined {
  switch (kind) {
    case 'redis':
      return redisServerBinary() ? undefined : 'redis-server not found on PATH';
    case 'memcached':
      return memcachedBinary() ? undefined : 'memcached not found on PATH';
    case 'postgres':
      if (!postgresBinaries()) return 'PostgreSQL (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin';
      return runningAsRoot() && !postgresUser() ? 'running as root and there is no `postgres` user to run PostgreSQL as' : undefined;
    case 'mariadb':
      return mariaDbBinaries() ? undefined : 'mariadbd/mysqld and mariadb-install-db/mysql_install_db not found on PATH';
  }
}

/** Why a local server of this kind cannot meet a need, or undefined. */
function localNeedUnmet(kind: ServerKind, needs: StartNeeds): string | undefined {
  if (needs.tls && !opensslBinary()) return 'TLS needs the openssl CLI to make certificates, and it is not on PATH';
  if (kind === 'redis') return needs.sasl ? 'Redis has no SASL (use a password or ACL users instead)' : undefined;
  if (kind === 'memcached') {
    if (needs.tls && !memcachedFeatures().tls) return 'this memcached was built without TLS (no -Z in `memcached -h`)';
    if (needs.sasl && !memcachedFeatures().sasl) return 'this memcached was built without SASL (no -S in `memcached -h`)';
    if (needs.sasl && !saslPluginsInstalled()) return "Cyrus SASL's PLAIN or sasldb plugin is missing (install libsasl2-modules)";
    if (needs.sasl && !saslpasswd2Binary()) return 'saslpasswd2 not found on PATH (install sasl2-bin)';
    return undefined;
  }
  const unsupported = wantedNeeds(needs).filter((need) => need !== 'configuration');
  return unsupported.length ? `the ${kind} test server offers no ${describeNeeds(unsupported)}` : undefined;
}

export type SourcePlan = { source: ServerSource; reason?: undefined } | { source?: undefined; reason: string };

/** Which source a start call will use: env, then a local binary, then a container. */
export async function planSource(kind: ServerKind, needs: StartNeeds = {}): Promise<SourcePlan> {
  const wanted = wantedNeeds(needs);
  const envName = ENV_VARIABLES[kind];
  if (envSetting(kind) !== undefined) {
    return wanted.length ? { reason: `${envName} points at an external server, which cannot offer ${describeNeeds(wanted)}` } : { source: 'env' };
  }
  const missing = localBinaryMissing(kind);
  if (!missing) {
    const unmet = localNeedUnmet(kind, needs);
    return unmet ? { reason: unmet } : { source: 'local' };
  }
  if (await dockerAnswers()) {
    const unmet = wanted.filter((need) => !CONTAINER_NEEDS.has(need));
    return unmet.length ? { reason: `${missing}, and a container cannot offer ${describeNeeds(unmet)}` } : { source: 'container' };
  }
  return { reason: `${missing}, no ${envName}, no Docker engine` };
}

/** The source to start from, or an error naming why there is none. */
export async function requireSource(kind: ServerKind, needs: StartNeeds = {}): Promise<ServerSource> {
  const plan = await planSource(kind, needs);
  if (plan.reason !== undefined) throw new Error(`Cannot start a ${kind} test server: ${plan.reason}`);
  return plan.source;
}

/**
 * Undefined when a server of this kind (with these needs) can be had; otherwise the reason, to
 * print in the skipped suite's title. With CACHETTE_REQUIRE_SERVERS=1 (CI) it throws instead,
 * so a missing server fails the run rather than quietly skipping it.
 */
export async function serverSkipReason(kind: ServerKind, needs: ServerNeeds = {}): Promise<string | undefined> {
  const { reason } = await planSource(kind, needs);
  if (reason === undefined) return undefined;
  return skipOrRequire(kind, reason);
}

/** The reason to skip, printed once; a throw instead under CACHETTE_REQUIRE_SERVERS=1. */
export function skipOrRequire(kind: string, reason: string): string {
  if (serversAreRequired()) throw new Error(`CACHETTE_REQUIRE_SERVERS is set but no ${kind} test server can be had: ${reason}`);
  // The reason is also in the skipped suite's title; printing it shows it under any reporter.
  reportSkip(kind, reason);
  return reason;
}

const reportedSkips = new Set<string>();

function reportSkip(kind: string, reason: string): void {
  const line = `[test-servers] skipping tests that need ${kind}: ${reason}`;
  if (reportedSkips.has(line)) return;
  reportedSkips.add(line);
  console.warn(line);
}
