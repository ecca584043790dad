import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface ProbeTarget {
  host?: string;
  port?: number;
  /** A unix socket path instead of host/port. */
  path?: string;
  /** Speak TLS (certificates are not checked: this only asks whether the server answers). */
  tls?: boolean;
}

const PROBE_TIMEOUT_MS = 1_000;

function openSocket(target: ProbeTarget): Socket {
  const address = target.path !== undefined ? { path: target.path } : { host: target.host ?? '127.0.0.1', port: target.port ?? 0 };
  return target.tls ? connectTls({ ...address, rejectUnauthorized: false }) : connectTcp(address);
}

/**
 * Sends `request` (if any) and collects the reply until `isComplete` says it is whole. Resolves
 * `undefined` on any failure (refused, reset, timeout): a probe answers "not yet", it never throws.
 */
export function exchange(
  target: ProbeTarget,
  request: Buffer | string | undefined,
  isComplete: (reply: Buffer) => boolean,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = openSocket(target);
    let reply = Buffer.alloc(0);
    const finish = (result: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on(target.tls ? 'secureConnect' : 'connect', () => {
      if (request !== undefined) socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (isComplete(reply)) finish(reply);
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** The reply up to its first CRLF, once a whole line has arrived. */
export const hasLine = (reply: Buffer): boolean => reply.includes('\r\n');

/** True when something accepts a connection at `target`. */
export function accepts(target: ProbeTarget, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = openSocket(target);
    const finish = (result: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on(target.tls ? 'secureConnect' : 'connect', () => finish(true));
    socket.on('error', () => finish(false));
  });
}
