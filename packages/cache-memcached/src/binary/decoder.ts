import { CacheProtocolError } from '@cachette/cache-core';
import { DeclaredLengthBuffer, MAX_ITEM_BYTES } from '../declared-length-buffer';
import { HEADER_SIZE, RESPONSE_MAGIC, packetBodyLength } from './header';

/** Room for the largest item memcached can hold, with its extras and key. */
const MAX_BODY_BYTES = MAX_ITEM_BYTES + 4096;

/**
 * A push parser for binary-protocol responses: `write(chunk)` with whatever the socket delivered;
 * each complete packet (header and body) goes to `onPacket` as one Buffer, framed by the body
 * length in its header. A packet is only valid during the call: keep copies of what you need.
 */
export class BinaryResponseDecoder {
  /** A packet that began in an earlier chunk: its bytes so far (its header's only, until those are in). */
  private partial: DeclaredLengthBuffer | undefined;

  constructor(private readonly onPacket: (packet: Buffer) => void) {}

  write(chunk: Buffer): void {
    let offset = 0;
    if (this.partial) {
      offset = this.continuePartial(this.partial, chunk);
      if (offset === chunk.length) return;
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
    this.partial = new DeclaredLengthBuffer(available >= HEADER_SIZE ? this.packetSize(chunk, offset) : HEADER_SIZE);
    this.partial.take(chunk, offset);
  }

  /** Fills the partial packet from `chunk`; returns where the rest of `chunk` starts. */
  private continuePartial(partial: DeclaredLengthBuffer, chunk: Buffer): number {
    let offset = partial.take(chunk, 0);
    if (!partial.complete) return offset;
    if (partial.bytes.length === HEADER_SIZE) {
      // The header is in: now the whole packet's length is known.
      partial.extendTo(this.packetSize(partial.bytes, 0));
      offset += partial.take(chunk, offset);
      if (!partial.complete) return offset;
    }
    this.reset();
    this.onPacket(partial.bytes);
    return offset;
  }
}
