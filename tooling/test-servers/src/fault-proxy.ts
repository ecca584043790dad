import { connect, createServer, type Socket } from 'node:net';
import type { Endpoint } from './types.js';

export interface FaultProxy extends Endpoint {
  /** Stop forwarding in both directions: connections stay open but nothing arrives (a stalled peer). */
  pause(): void;
  /** Forward again, including what arrived while paused. */
  resume(): void;
  /** Reset (TCP RST) every proxied connection, both sides. New connections are still accepted. */
  resetAll(): void;
  /** Reset every connection and stop listening. */
  close(): Promise<void>;
}

/** One direction of a proxied connection, holding data back while the proxy is paused. */
class Forwarder {
  private held: Buffer[] = [];

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly isPaused: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => this.forward(chunk));
    from.on('end', () => to.end());
    to.on('drain', () => {
      if (!isPaused()) from.resume();
    });
  }

  private forward(chunk: Buffer): void {
    if (this.isPaused()) {
      this.held.push(chunk);
      this.from.pause(); // let the kernel buffers fill, as with a peer that stopped reading
      return;
    }
    if (!this.to.write(chunk)) this.from.pause();
  }

  release(): void {
    for (const chunk of this.held.splice(0)) this.to.write(chunk);
    this.from.resume();
  }
}

/**
 * A loopback TCP proxy in front of a real server, to inject what the server itself will not do
 * on demand: stall mid-conversation, or reset connections.
 */
export function startFaultProxy(target: Endpoint): Promise<FaultProxy> {
  let paused = false;
  const isPaused = (): boolean => paused;
  const sockets = new Set<Socket>();
  const forwarders = new Set<Forwarder>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy()); // surfaced to the other side by the close below
  };

  // Half-open allowed on both legs so a client that shuts down its sending side still gets its
  // replies: each leg's end is passed on to the other by its Forwarder.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    track(client);
    track(upstream);
    const pair = [new Forwarder(client, upstream, isPaused), new Forwarder(upstream, client, isPaused)];
    for (const forwarder of pair) forwarders.add(forwarder);
    const closeBoth = (): void => {
      for (const forwarder of pair) forwarders.delete(forwarder);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
  });

  const resetAll = (): void => {
    for (const socket of sockets) socket.resetAndDestroy();
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        host: '127.0.0.1',
        port: typeof address === 'object' && address ? address.port : 0,
        pause: () => {
          paused = true;
        },
        resume: () => {
          paused = false;
          for (const forwarder of forwarders) forwarder.release();
        },
        resetAll,
        close: () =>
          new Promise<void>((resolveClose) => {
            server.close(() => resolveClose());
            resetAll();
          }),
      });
    });
  });
}
