import { CacheProtocolError } from '@cachette/cache-core';
import { HEADER_SIZE, RESPONSE_MAGIC, packetBodyLength } from './header';

/** Larger than any value memcached can be configured to hold (its -I option stops at 1 GiB). */
const MAX_BODY_BYTES = 1024 * 1024 * 1024 + 4096;

/**
 * A push parser for binary-protocol responses: `write(chunk)` with whatever the socket delivered;
 * each complete packet (header and body) goes to `onPacket` as one Buffer, framed by the body
 * length in its header. A packet is only valid during the call: keep copies of what you need.
 */
export class BinaryResponseDecoder {
  /** A packet that began in an earlier chunk: its bytes so far (a header at least, once known). */
  private partial: Buffer | undefined;
  private partialFilled = 0;

  constructor(private readonly onPacket: (packet: Buffer) => void) {}

  write(chunk: Buffer): void {
    let offset = 0;
    if (this.partial) {
      offset = this.continuePartial(chunk);
      if (offset < 0) return;
    }
    while (chunk.length - offset >= HEADER_SIZE) {
      const size = this.packetSize(chunk, offset);
      if (chunk.length - offset < size) break;
      this.onPacket(chunk.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < chunk.length) this.startPartial(chunk, offset);
  }

  reset(): void {
    this.partial = undefined;
    this.partialFilled = 0;
  }

  private packetSize(buffer: Buffer, offset: number): number {
    if (buffer[offset] !== RESPONSE_MAGIC) {
      throw new CacheProtocolError(`Memcached sent a packet with magic 0x${buffer[offset]!.toString(16)} instead of 0x81: the stream is out of step`);
    }
    const bodyLength = packetBodyLength(buffer, offset);
    if (bodyLength > MAX_BODY_BYTES) throw new CacheProtocolError(`Memcached announced a ${bodyLength}-byte response body`);
    return HEADER_SIZE + bodyLength;
  }

  private startPartial(chunk: Buffer, offset: number): void {
    const available = chunk.length - offset;
    const size = available >= HEADER_SIZE ? this.packetSize(chunk, offset) : HEADER_SIZE;
    this.partial = Buffer.allocUnsafe(size);
    this.partialFilled = chunk.copy(this.partial, 0, offset);
  }

  /** Fills the partial packet from `chunk`; returns where the rest of `chunk` starts, or -1 if it is used up. */
  private continuePartial(chunk: Buffer): number {
    let partial = this.partial!;
    let offset = 0;
    if (partial.length === HEADER_SIZE && this.partialFilled < HEADER_SIZE) {
      offset = chunk.copy(partial, this.partialFilled, 0, HEADER_SIZE - this.partialFilled);
      this.partialFilled += offset;
      if (this.partialFilled < HEADER_SIZE) return -1;
      const size = this.packetSize(partial, 0);
      if (size > HEADER_SIZE) {
        const grown = Buffer.allocUnsafe(size);
        partial.copy(grown);
        partial = this.partial = grown;
      }
    }
    const copied = chunk.copy(partial, this.partialFilled, offset);
    this.partialFilled += copied;
    if (this.partialFilled < partial.length) return -1;
    this.reset();
    this.onPacket(partial);
    return offset + copied;
  }
}
