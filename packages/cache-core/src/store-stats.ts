/**
 * What a backing store says about itself, as `storeStats()` gives it: flat, in a fixed order, the
 * names every backend shares that it knows first (`entries`, `bytes`), then its own.
 */
export type StoreStats = Record<string, string | number>;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * `storeStats()` of a store spread over servers, from the fields each reports as text (memcached's
 * `stats`, Redis's `INFO`), by server name: `entries` and `bytes`, summed over the servers from
 * the fields `totals` names, then each server's `fields` as `<server> <field>`, in that order.
 * Decimal text becomes a number; a field a server does not report is left out.
 */
export function serverStoreStats(
  servers: ReadonlyMap<string, ReadonlyMap<string, string>>,
  fields: readonly string[],
  totals: { entries: string; bytes: string },
): StoreStats {
  const sum = (field: string): number => [...servers.values()].reduce((total, reported) => total + Number(reported.get(field) ?? 0), 0);
  const stats: StoreStats = { entries: sum(totals.entries), bytes: sum(totals.bytes) };
  for (const [server, reported] of servers) {
    for (const field of fields) {
      const text = reported.get(field);
      if (text !== undefined) stats[`${server} ${field}`] = DECIMAL.test(text) ? Number(text) : text;
    }
  }
  return stats;
}
