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
      const round = { key: freshKey(), callers: CALLERS, timeout: 2, lock: { ttl: 10, wait: 10 } };
      const first = await stampedeAcrossProcesses(spec(), round, PROCESSES);
      expect(first).toMatchObject({ runs: 1 });
      expect(first.values).toHaveLength(1);
      await delay(2500);
      const afterExpiry = await stampedeAcrossProcesses(spec(), round, PROCESSES);
      expect(afterExpiry.runs).toBe(1);
      expect(afterExpiry.values).not.toEqual(first.values);
    });

    it('without a lock each process computes once (in-process coalescing only)', async () => {
      const round = { key: freshKey(), callers: CALLERS, timeout: 60, lock: null, factoryDelayMs: 500 };
      expect((await stampedeAcrossProcesses(spec(), round, PROCESSES)).runs).toBe(PROCESSES);
    });

    it('a lock holder killed mid-computation delays the others by at most the lock ttl', async () => {
      const round = { key: freshKey(), callers: CALLERS, timeout: 60, lock: { ttl: 3, wait: 30 } };
      const holder = await startHangingLockHolder(spec(), round);
      await holder.kill();
      const after = await stampedeAcrossProcesses(spec(), round, PROCESSES - 1);
      expect(after.runs).toBe(1);
      // The dead holder's lock expires within its ttl of being taken; then one waiter computes.
      expect(after.slowestMs).toBeLessThan(3000 + 1500);
    });
  });
}
