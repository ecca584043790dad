export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `attempt` every 50 ms until it resolves (a client reconnecting meanwhile takes a few
 * backoff steps); rethrows its last error after `withinMs`, a generous bound.
 */
export async function eventually<T>(attempt: () => Promise<T>, withinMs = 10_000): Promise<T> {
  const giveUpAt = Date.now() + withinMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > giveUpAt) throw error;
      await sleep(50);
    }
  }
}
