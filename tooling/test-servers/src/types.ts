export type ServerKind = 'redis' | 'memcached' | 'postgres' | 'mariadb';

/** Where a server came from: an env variable, our own child process, or a Docker container. */
export type ServerSource = 'env' | 'local' | 'container';

/** What a test needs beyond "a server that answers"; `serverSkipReason` checks each. */
export interface ServerNeeds {
  tls?: boolean;
  sasl?: boolean;
  unixSocket?: boolean;
  /** kill / restart / pause / resume: only our own child processes allow it. */
  control?: boolean;
}

export interface TestServer {
  kind: ServerKind;
  host: string;
  port: number;
  url: string;
  source: ServerSource;
  socketPath?: string;
  stop(): Promise<void>;
}

export interface ControllableServer extends TestServer {
  /** SIGKILL: the server vanishes without closing connections. */
  kill(): Promise<void>;
  /** Starts again on the same port and data directory and waits until it answers. */
  restart(): Promise<void>;
  /** SIGSTOP: the server stays connected but answers nothing (a stalled peer). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
}

export interface TlsFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface Endpoint {
  host: string;
  port: number;
}
