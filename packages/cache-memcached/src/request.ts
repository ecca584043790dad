import type { ConnectionRequest } from './connection';

/** An item as memcached stores it: the bytes, the client's 32-bit flags and, from `gets`, the CAS token. */
export interface MemcachedItem {
  value: Buffer;
  flags: number;
  cas?: bigint | undefined;
}

/**
 * A request on its way: the bytes to write and the promise of its result. Settles once; a late
 * failure (the socket dropping after the reply) is ignored.
 */
export class PendingRequest<T> implements ConnectionRequest {
  readonly promise: Promise<T>;
  private settleResolve!: (value: T) => void;
  private settleReject!: (error: Error) => void;
  private settled = false;

  constructor(readonly payload: Buffer) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.settleResolve = resolve;
      this.settleReject = reject;
    });
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.settleResolve(value);
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.settleReject(error);
  }
}

/** What a reply reader returns for a reply that is not one of its command's answers. */
export const UNEXPECTED: unique symbol = Symbol('unexpected reply');

/** Reads a command's one reply into its result, or says it is an error reply. */
export type ReplyReader<Reply, T> = (reply: Reply) => T | typeof UNEXPECTED;

/** A table of the replies a command can get and what each means. */
export function answers<T>(table: Record<string, T>): ReplyReader<string, T> {
  return (reply) => (Object.hasOwn(table, reply) ? table[reply]! : UNEXPECTED);
}
