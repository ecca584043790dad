import { connect, type Socket } from 'node:net';

interface Server {
  host: string;
  port: number;
}

/** A command as RESP bytes: an array of bulk strings. */
export function respRequest(...args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Bytes of the RESP reply to a GET of a value of `size` bytes: `$<size>\r\n<value>\r\n`. */
export function bulkReplyLength(size: number): number {
  return `$${size}\r\n`.length + size + 2;
}

/**
 * The ceiling of any Node client, as a candidate beside the C load generator: one `node:net`
 * socket that writes prepared request bytes and waits until the reply's known number of bytes
 * has arrived, parsing, copying and allocating nothing of its own. What separates it from
 * redis-benchmark is Node's part of a round trip (its stream layer, a Buffer per socket read, a
 * promise per exchange); what separates a client from it is the client's own work.
 */
export class BareSocket {
  private waiting: { remaining: number; resolve: () => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk.length));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('bare socket closed')));
  }

  static open(server: Server): Promise<BareSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, server.host, () => {
        socket.off('error', reject);
        resolve(new BareSocket(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes `request` and resolves once `replyBytes` bytes have come back. */
  exchange(request: Buffer, replyBytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting = { remaining: replyBytes, resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private received(bytes: number): void {
    const waiting = this.waiting;
    if (!waiting) return;
    waiting.remaining -= bytes;
    if (waiting.remaining > 0) return;
    this.waiting = undefined;
    waiting.resolve();
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
