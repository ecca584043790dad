import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES, registerCounterTests, resolveCapabilities, type TestApi } from '../src/index';
import { MapCache } from './map-cache';
import { recordingApi } from './recording-api';

describe('resolveCapabilities', () => {
  it('fills what is not declared with the defaults', () => {
    expect(resolveCapabilities({ atomicIncr: true, timeoutGranularity: 0.5 })).toEqual({ ...DEFAULT_CAPABILITIES, atomicIncr: true, timeoutGranularity: 0.5 });
    expect(resolveCapabilities()).toEqual(DEFAULT_CAPABILITIES);
  });

  it('keeps a default when a capability is given as undefined', () => {
    expect(resolveCapabilities({ values: undefined, maxKeyLength: undefined }).values).toBe('v8');
  });

  it('rejects a granularity or value size that would make the tests meaningless', () => {
    expect(() => resolveCapabilities({ timeoutGranularity: 0 })).toThrow(RangeError);
    expect(() => resolveCapabilities({ timeoutGranularity: Number.NaN })).toThrow(/timeoutGranularity/);
    expect(() => resolveCapabilities({ largeValueBytes: 1.5 })).toThrow(/largeValueBytes/);
  });
});

describe('skipping', () => {
  const target = { name: 'map', createCache: () => new MapCache({ location: 'registration' }) };

  it('registers a test a capability rules out with it.skip, the reason in its name', () => {
    const skipped: string[] = [];
    const recorder = recordingApi();
    const api: TestApi = { ...recorder.api, it: Object.assign(recorder.api.it, { skip: (name: string) => skipped.push(name) }) };
    registerCounterTests(api, target);
    expect(skipped).toEqual(['concurrent incr from 4 caches loses no update (skipped: capabilities.atomicIncr is false: incr is read-modify-write)']);
  });

  it('without it.skip, registers a passing test that logs the reason', async () => {
    const recorder = recordingApi();
    const itWithoutSkip = (name: string, body: () => unknown): unknown => recorder.api.it(name, body as () => Promise<void>);
    registerCounterTests({ ...recorder.api, it: itWithoutSkip }, target);
    const logged: unknown[] = [];
    const originalLog = console.log;
    console.log = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      const outcomes = await recorder.run();
      expect(outcomes.get('concurrent incr from 4 caches loses no update (skipped: capabilities.atomicIncr is false: incr is read-modify-write)')).toEqual({ status: 'passed' });
    } finally {
      console.log = originalLog;
    }
    expect(logged).toEqual([expect.stringContaining('map: concurrent incr from 4 caches loses no update (skipped: capabilities.atomicIncr is false')]);
  });
});
