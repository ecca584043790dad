import { connect, createServer, type Socket } from 'node:net';
import type { Endpoint } from './types.js';

/** What happens to a connection after {@link FaultProxy.cutNextReply} has passed on half a reply. */
export type AfterCut = 'close' | 'stall';

export interface FaultProxy extends Endpoint {
  /** Stop forwarding in both directions: connections stay open but nothing arrives (a stalled peer). */
  pause(): void;
  /** Forward again, including what arrived while paused. */
  resume(): void;
  /**
   * Delay every chunk, in both directions, by this many milliseconds (0 turns latency off).
   * Chunks keep their order.
   */
  setLatency(ms: number): void;
  /**
   * The next chunk the server sends, on whichever connection it comes, reaches the client only
   * half-way. Then that connection is closed (`'close'`: the client sees the server hang up
   * mid-reply) or goes silent for good (`'stall'`: nothing more reaches the client on it).
   */
  cutNextReply(after?: AfterCut): void;
  /**
   * The next chunk the server sends is replaced by these bytes. The default is valid in neither
   * Redis's nor memcached's protocols (its first byte starts no reply of either).
   */
  garbleNextReply(bytes?: Buffer): void;
  /**
   * Turns every fault off: resumes, sets latency to 0 and disarms a reply fault not yet taken.
   * Chunks already delayed still arrive, in order, ahead of any later one.
   */
  clearFaults(): void;
  /** Reset (TCP RST) every proxied connection, both sides. New connections are still accepted. */
  resetAll(): void;
  /** Reset every connection and stop listening. */
  close(): Promise<void>;
}

/** Bytes no Redis (RESP2/3) or memcached (text or binary) reply can start with. */
export const GARBAGE_REPLY = Buffer.from('\x00\xffnot a reply\r\n');

/** A fault armed for the next server-to-client chunk; whichever connection gets it first takes it. */
type ReplyFault = { kind: 'cut'; after: AfterCut } | { kind: 'garble'; bytes: Buffer };

interface ProxyState {
  paused: boolean;
  latencyMs: number;
  replyFault: ReplyFault | undefined;
}

/** One direction of a proxied connection, holding data back while the proxy is paused. */
class Forwarder {
  private held: Buffer[] = [];
  private readonly delayed: Array<{ due: number; action: () => void }> = [];
  private silenced = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly state: ProxyState,
    private readonly carriesReplies: boolean,
  ) {
    from.on('data', (chunk: Buffer) => this.receive(chunk));
    from.on('end', () => this.afterLatency(() => to.end()));
    to.on('drain', () => {
      if (!state.paused) from.resume();
    });
  }

  private receive(chunk: Buffer): void {
    if (this.silenced) return;
    if (this.state.paused) {
      this.held.push(chunk);
      this.from.pause(); // let the kernel buffers fill, as with a peer that stopped reading
      return;
    }
    const fault = this.carriesReplies ? this.takeReplyFault() : undefined;
    if (fault?.kind === 'garble') return this.afterLatency(() => this.write(fault.bytes));
    if (fault?.kind === 'cut') return this.afterLatency(() => this.cut(chunk, fault.after));
    this.afterLatency(() => this.write(chunk));
  }

  private takeReplyFault(): ReplyFault | undefined {
    const fault = this.state.replyFault;
    this.state.replyFault = undefined;
    return fault;
  }

  private cut(chunk: Buffer, after: AfterCut): void {
    this.to.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
    this.silenced = true;
    // The client's reaction to the FIN closes the pair; the server's leg follows in closeBoth.
    if (after === 'close') this.to.end();
  }

  private write(chunk: Buffer): void {
    if (!this.to.write(chunk)) this.from.pause();
  }

  /**
   * Runs `action` once the latency has passed, after every action queued before it: one queue,
   * drained in order by a single timer, so turning latency off never lets a chunk overtake.
   */
  private afterLatency(action: () => void): void {
    if (this.delayed.length === 0 && this.state.latencyMs <= 0) return action();
    this.delayed.push({ due: Date.now() + this.state.latencyMs, action });
    if (this.delayed.length === 1) this.scheduleHead();
  }

  private scheduleHead(): void {
    const head = this.delayed[0];
    if (!head) return;
    setTimeout(() => {
      this.delayed.shift();
      if (!this.to.destroyed) head.action();
      this.scheduleHead();
    }, Math.max(0, head.due - Date.now())).unref();
  }

  release(): void {
    for (const chunk of this.held.splice(0)) this.afterLatency(() => this.write(chunk));
    this.from.resume();
  }
}

/**
 * A loopback TCP proxy in front of a real server, to inject what the server itself will not do
 * on demand: stall mid-conversation, answer late, hang up mid-reply, answer garbage, or reset.
 */
export function startFaultProxy(target: Endpoint): Promise<FaultProxy> {
  const state: ProxyState = { paused: false, latencyMs: 0, replyFault: undefined };
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
    const pair = [new Forwarder(client, upstream, state, false), new Forwarder(upstream, client, state, true)];
    for (const forwarder of pair) forwarders.add(forwarder);
    const closeBoth = (): void => {
      for (const forwarder of pair) forwarders.delete(forwarder);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
  });

  const resume = (): void => {
    state.paused = false;
    for (const forwarder of forwarders) forwarder.release();
  };
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
          state.paused = true;
        },
        resume,
        setLatency: (ms) => {
          state.latencyMs = ms;
        },
        cutNextReply: (after = 'close') => {
          state.replyFault = { kind: 'cut', after };
        },
        garbleNextReply: (bytes = GARBAGE_REPLY) => {
          state.replyFault = { kind: 'garble', bytes };
        },
        clearFaults: () => {
          state.latencyMs = 0;
          state.replyFault = undefined;
          resume();
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
