import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { stampedeAcrossProcesses, startHangingLockHolder, type CacheSpec } from './workers';

const PROCESSES = 4;
const CALLERS = 25;

/**
 * The cross-process stampede tests every backend with a shared store runs: `spec` builds the
 * backend in each process (a real server's URL, a shared file or directory).
 */
export function describeStampedeAcrossProcesses(name: string, spec: () => CacheSpec): void {
  describe(`${name}: stampede across processes`, () => {
    let rounds = 0;
    const freshKey = () => `stampede-${process.pid}-${Date.now()}-${++rounds}`;

    it(`${PROCESSES} processes × ${CALLERS} callers with a lock run the factory once per expiry`, async () => {
      // Three seconds: a whole-second clock (memcached's) keeps a value of n seconds for more
      // than n - 1 only, and the waiters read it once the holder has stored it and let go.
      const round = { key: freshKey(), callers: CALLERS, timeout: 3, lock: { ttl: 10, wait: 10 } };
      const first = await stampedeAcrossProcesses(spec(), round, PROCESSES);
      expect(first).toMatchObject({ runs: 1 });
      expect(first.values).toHaveLength(1);
      await delay(3500);
      const afterExpiry = await stampedeAcrossProcesses(spec(), round, PROCESSES);
      expect(afterExpiry.runs).toBe(1);
      expect(afterExpiry.values).not.toEqual(first.values);
    });

    it('without a lock each process computes once (in-process coalescing only)', async () => {
      const round = { key: freshKey(), callers: CALLERS, timeout: 60, lock: null, computeTogether: true };
      expect((await stampedeAcrossProcesses(spec(), round, PROCESSES)).runs).toBe(PROCESSES);
    });

    it('a lock holder killed mid-computation delays the others by at most the lock ttl', async () => {
      const round = { key: freshKey(), callers: CALLERS, timeout: 60, lock: { ttl: 3, wait: 30 } };
      const holder = await startHangingLockHolder(spec(), round);
      await holder.kill();
      const after = await stampedeAcrossProcesses(spec(), round, PROCESSES - 1);
      expect(after.runs).toBe(1);
      // The dead holder's lock expires within its ttl of being taken; then one waiter computes.
      // The margin is for three processes starting on a loaded machine; the wait (30 s) is far off.
      expect(after.slowestMs).toBeLessThan(3000 + 5000);
    });
  });
}
