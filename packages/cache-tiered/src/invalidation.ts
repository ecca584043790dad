/** A fill of the local tier in flight: valid until an invalidation of its key comes first. */
export type FillTicket = object;

/**
 * Guards the local tier against a race every client-side cache has: an invalidation can arrive
 * while the value it concerns is still on its way (a reply and a push in one socket chunk, the
 * push handled before the reply's continuation runs). A fill takes a ticket before it asks the
 * shared tier and stores only if its ticket is still current when the answer comes; an
 * invalidation of the key, or of everything, withdraws the tickets first.
 */
export class PendingFills {
  private readonly tickets = new Map<string, FillTicket>();

  /** A ticket for `key`; a later one for the same key replaces it (the later fill stores). */
  begin(key: string): FillTicket {
    const ticket: FillTicket = {};
    this.tickets.set(key, ticket);
    return ticket;
  }

  /** Whether `ticket` survived; either way it is done with. */
  finish(key: string, ticket: FillTicket): boolean {
    if (this.tickets.get(key) !== ticket) return false;
    this.tickets.delete(key);
    return true;
  }

  withdraw(key: string): void {
    this.tickets.delete(key);
  }

  withdrawAll(): void {
    this.tickets.clear();
  }
}

/** What the local tier went through, for `tierStats()`. */
export interface TierStats {
  /** Reads answered by the local tier (no shared-tier command sent). */
  localHits: number;
  /** Reads the local tier missed and the shared tier answered. */
  sharedHits: number;
  /** Reads neither tier had. */
  misses: number;
  /** Keys dropped from the local tier because the shared tier said another client changed them. */
  invalidations: number;
  /** Times the whole local tier was dropped: a flush elsewhere, a lost tracking connection, `clear()`. */
  flushes: number;
}

export function emptyTierStats(): TierStats {
  return { localHits: 0, sharedHits: 0, misses: 0, invalidations: 0, flushes: 0 };
}
