/**
 * The most a reply may declare for one item: memcached refuses an item size limit (`-I`) above
 * 1 GiB, so a longer declared length can only be a stream out of step or a hostile peer.
 */
export const MAX_ITEM_BYTES = 1024 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * The bytes of one reply whose length the server declared up front, gathered from the socket's
 * chunks. Room grows with what has arrived (at most doubling), never to the declared length at
 * once: a length that the bytes never follow costs what arrived, not an allocation of its size.
 */
export class DeclaredLengthBuffer {
  private buffer = EMPTY;
  private filled = 0;

  constructor(private declared: number) {}

  /** Declares the whole length once it is known (a binary packet's, after its header). */
  extendTo(length: number): void {
    this.declared = length;
  }

  get complete(): boolean {
    return this.filled === this.declared;
  }

  /** The declared bytes, once complete: a Buffer of its own, not a view of a socket chunk. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** Copies what is still missing from `chunk[start…]`; returns how many bytes it took. */
  take(chunk: Buffer, start: number): number {
    const taken = Math.min(this.declared - this.filled, chunk.length - start);
    this.makeRoom(this.filled + taken);
    chunk.copy(this.buffer, this.filled, start, start + taken);
    this.filled += taken;
    return taken;
  }

  private makeRoom(length: number): void {
    if (length <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.declared, Math.max(length, 2 * this.buffer.length)));
    this.buffer.copy(grown, 0, 0, this.filled);
    this.buffer = grown;
  }
}
