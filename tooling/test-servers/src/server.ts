import { endpointOfUrl, envSetting } from './env.js';
import type { ServerProcess } from './process.js';
import type { ControllableServer, Endpoint, ServerKind, ServerSource, TestServer } from './types.js';

/** The parts of a server description that differ by kind. */
export interface ServerAddress extends Endpoint {
  url: string;
  socketPath?: string;
}

/** A server we do not own: stop() leaves it running and control calls explain why they fail. */
export function uncontrolledServer(kind: ServerKind, source: ServerSource, address: ServerAddress, stop: () => Promise<void>): ControllableServer {
  const refuse = (): never => {
    throw new Error(
      `This ${kind} test server came from ${source === 'env' ? 'the environment' : 'a container'} and cannot be killed, restarted or paused; ` +
        `guard the test with serverSkipReason('${kind}', { control: true })`,
    );
  };
  return {
    kind,
    source,
    ...address,
    stop,
    kill: async () => refuse(),
    restart: async () => refuse(),
    pause: refuse,
    resume: refuse,
  };
}

/** The server a URL-style env variable names (redis, postgres, mariadb). */
export function envUrlServer(kind: ServerKind): ControllableServer {
  const url = envSetting(kind) ?? '';
  return uncontrolledServer(kind, 'env', { ...endpointOfUrl(kind, url), url }, async () => {});
}

/** A server running as our own child process; `cleanUp` removes its directory after stop. */
export function localServer(kind: ServerKind, address: ServerAddress, server: ServerProcess, cleanUp: () => Promise<void>): ControllableServer {
  let stopped: Promise<void> | undefined;
  return {
    kind,
    source: 'local',
    ...address,
    stop: () => {
      stopped ??= server.stop().then(cleanUp);
      return stopped;
    },
    kill: () => server.kill(),
    restart: async () => {
      // Its directory is gone after stop(): a restart could only fail in confusing ways.
      if (stopped) throw new Error(`This ${kind} test server was stopped; start a new one instead of restarting it`);
      await server.kill();
      await server.start();
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
  };
}

export function stripControl({ kind, source, host, port, url, socketPath, stop }: ControllableServer): TestServer {
  return socketPath === undefined ? { kind, source, host, port, url, stop } : { kind, source, host, port, url, socketPath, stop };
}
