import type { BaseCache, CacheParams } from '@cachette/cache-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  registerBadInputTests,
  registerBasicTests,
  registerConcurrencyTests,
  registerConformanceSuite,
  registerCounterTests,
  registerCullingTests,
  registerGetOrSetTests,
  registerKeyValidationTests,
  registerLifecycleTests,
  registerMultiKeyTests,
  registerTimeoutTests,
  registerTtlTests,
  registerValueTests,
  registerVersioningTests,
  type Capabilities,
  type ConformanceTarget,
  type TestApi,
} from '../src/index';
import * as broken from './broken-backends';
import { MapCache } from './map-cache';
import { recordingApi, type Outcome } from './recording-api';

type Register = (api: TestApi, target: ConformanceTarget) => void;
type CacheClass = new (params: CacheParams) => BaseCache;

// Short ticks keep these runs quick; the margins are still 1.5 ticks.
const GRANULARITY = 0.2;
let locations = 0;

async function outcomesFor(register: Register, backend: CacheClass, capabilities: Partial<Capabilities> = {}, options: object = {}): Promise<Map<string, Outcome>> {
  const location = `bug-hunt-${++locations}`;
  const recorder = recordingApi();
  register(recorder.api, {
    name: backend.name,
    createCache: (params) => new backend({ ...params, location, options: { ...options, ...params.options } }),
    capabilities: { timeoutGranularity: GRANULARITY, ...capabilities },
  });
  return recorder.run();
}

function statusOf(outcomes: Map<string, Outcome>, titleStart: string): string {
  const matching = [...outcomes].filter(([name]) => name.startsWith(titleStart));
  if (matching.length === 0) throw new Error(`No conformance test is titled "${titleStart}…"; titles: ${[...outcomes.keys()].join(' | ')}`);
  return matching.map(([, outcome]) => outcome.status).join(',');
}

interface Bug {
  bug: string;
  register: Register;
  backend: CacheClass;
  capabilities?: Partial<Capabilities>;
  options?: object;
  caughtBy: string[];
}

const BUGS: Bug[] = [
  {
    bug: 'keeping references instead of copies',
    register: registerValueTests,
    backend: broken.BrokenCopiesCache,
    caughtBy: ['the cache keeps a copy', 'the cache hands out copies', 'set, add and setMany reject a function'],
  },
  { bug: 'incr dropping the expiry', register: registerCounterTests, backend: broken.IncrResetsExpiryCache, caughtBy: ['incr keeps the expiry'] },
  { bug: 'clear doing nothing', register: registerLifecycleTests, backend: broken.ClearsNothingCache, caughtBy: ['clear removes every key of the cache'] },
  { bug: 'add overwriting', register: registerBasicTests, backend: broken.AddOverwritesCache, caughtBy: ['add stores only when the key is absent'] },
  {
    bug: 'a past expiry read as never',
    register: registerTimeoutTests,
    backend: broken.PastExpiryStoresCache,
    caughtBy: ['a zero timeout stores nothing', 'a negative timeout stores nothing'],
  },
  { bug: 'touch changing nothing', register: registerTimeoutTests, backend: broken.TouchChangesNothingCache, caughtBy: ['touch sets a new expiry'] },
  {
    bug: 'no key validation',
    register: registerKeyValidationTests,
    backend: broken.SilentKeysCache,
    caughtBy: ['every operation warns for a key with spaces', 'every operation warns for a key longer', 'every operation warns when the version'],
  },
  {
    bug: 'warning where strictness is declared',
    register: registerKeyValidationTests,
    backend: MapCache,
    capabilities: { validatesKeysStrictly: true },
    caughtBy: ['every operation rejects with InvalidCacheKey for a key with spaces', 'a key too long and with spaces'],
  },
  { bug: 'ignoring the key prefix', register: registerBasicTests, backend: broken.PrefixBlindCache, caughtBy: ['caches with different key prefixes'] },
  {
    bug: 'ignoring versions',
    register: registerVersioningTests,
    backend: broken.VersionBlindCache,
    caughtBy: ['get and set see only', 'add stores at the version', 'hasKey sees only', 'delete removes only', 'incr and decr change only', 'getMany and setMany see only', 'incrVersion', 'decrVersion'],
  },
  {
    bug: 'a racy incr declared atomic',
    register: registerCounterTests,
    backend: broken.RacyIncrCache,
    capabilities: { atomicIncr: true },
    caughtBy: ['concurrent incr from 4 caches loses no update'],
  },
  { bug: 'getOrSet without coalescing', register: registerGetOrSetTests, backend: broken.UncoalescedGetOrSetCache, caughtBy: ['10 concurrent getOrSet calls'] },
  { bug: 'close failing the second time', register: registerLifecycleTests, backend: broken.CloseOnceCache, caughtBy: ['close resolves and can be called again'] },
  { bug: 'getMany dropping nulls', register: registerMultiKeyTests, backend: broken.GetManyDropsNullsCache, caughtBy: ['getMany includes stored nulls'] },
  {
    bug: 'JSON without checks',
    register: registerValueTests,
    backend: MapCache,
    capabilities: { values: 'json' },
    options: { serializer: broken.looseJsonSerializer },
    caughtBy: ['a JSON backend rejects values JSON cannot hold'],
  },
  {
    bug: 'Buffers kept as UTF-8 text',
    register: registerValueTests,
    backend: MapCache,
    options: { serializer: broken.utf8BufferSerializer },
    caughtBy: ['binary data round-trips: all 256 byte values', 'compressed binary data'],
  },
  {
    bug: 'culling declared but not done',
    register: registerCullingTests,
    backend: MapCache,
    capabilities: { culling: { afterCull: 29, afterZeroCull: 19 } },
    caughtBy: ['filling a 30-entry cache', 'with cull frequency 0'],
  },
  {
    bug: 'replies matched to the wrong concurrent request',
    register: registerConcurrencyTests,
    backend: broken.MisorderedRepliesCache,
    caughtBy: ['operations of every kind on 50 keys at once', 'failing operations among concurrent ones', 'values of 16 sizes'],
  },
  {
    bug: 'a key run as a command',
    register: registerKeyValidationTests,
    backend: broken.KeyInjectionCache,
    caughtBy: ['keys holding protocol, SQL or path syntax are data'],
  },
  {
    bug: 'an increment stored past the safe integer range',
    register: registerCounterTests,
    backend: broken.UncheckedIncrCache,
    caughtBy: ['incr and decr past the safe integer range'],
  },
  {
    bug: 'a stored undefined read as a miss',
    register: registerGetOrSetTests,
    backend: broken.UndefinedAsMissingCache,
    caughtBy: ['getOrSet returns a stored undefined'],
  },
  { bug: 'a timer left running after close', register: registerLifecycleTests, backend: broken.TimerLeakCache, caughtBy: ['creating, using and closing 20 caches'] },
  { bug: 'listeners never removed', register: registerLifecycleTests, backend: broken.ListenerLeakCache, caughtBy: ['creating, using and closing 20 caches'] },
  {
    bug: 'ttl in milliseconds',
    register: registerTtlTests,
    backend: broken.TtlInMillisecondsCache,
    caughtBy: ['ttl of a key stored for 10 s', 'ttl after touch', 'ttl reads only the version'],
  },
  { bug: 'a persistent key read as -1', register: registerTtlTests, backend: broken.PersistentAsMinusOneCache, caughtBy: ['ttl of a key that never expires'] },
  {
    bug: 'ttl of the stored timeout, not of the time left',
    register: registerTtlTests,
    backend: broken.TtlOfStoredTimeoutCache,
    caughtBy: ['ttl of an expired key', 'ttl after touch', 'ttl of a missing, deleted'],
  },
  { bug: 'ttl ignoring versions', register: registerTtlTests, backend: broken.VersionBlindCache, caughtBy: ['ttl reads only the version'] },
  { bug: 'ttl unsupported but not declared', register: registerTtlTests, backend: broken.UnsupportedTtlCache, caughtBy: ['ttl of a key stored for 10 s', 'ttl of a missing'] },
  { bug: 'ttl declared unsupported but answered', register: registerTtlTests, backend: MapCache, capabilities: { ttl: false }, caughtBy: ['ttl rejects with NotSupportedError'] },
  { bug: 'ttl skipping key validation', register: registerKeyValidationTests, backend: broken.SilentKeysCache, caughtBy: ['ttl warns for a key with spaces'] },
  {
    bug: 'reviving expired keys declared but not done',
    register: registerTimeoutTests,
    backend: MapCache,
    capabilities: { touchRevivesExpired: true },
    caughtBy: ['touch of an expired key revives it'],
  },
  { bug: 'setMany writing the values before a bad one', register: registerBadInputTests, backend: broken.HalfWritingSetManyCache, caughtBy: ['values the v8 serializer cannot store'] },
  { bug: 'bad keys passing without a warning', register: registerBadInputTests, backend: broken.SilentKeysCache, caughtBy: ['bad keys: non-strings reject'] },
  { bug: 'bad keys warned where strictness is declared', register: registerBadInputTests, backend: MapCache, capabilities: { validatesKeysStrictly: true }, caughtBy: ['bad keys: non-strings reject'] },
  { bug: 'an item size limit declared but not enforced', register: registerBadInputTests, backend: MapCache, capabilities: { maxValueBytes: 64 }, caughtBy: ['a value over the item size limit'] },
];

describe('the suite fails backends with a bug', () => {
  afterAll(() => {
    for (const timer of broken.TimerLeakCache.timers) clearInterval(timer);
  });

  for (const { bug, register, backend, capabilities, options, caughtBy } of BUGS) {
    it(`catches ${bug}`, async () => {
      const outcomes = await outcomesFor(register, backend, capabilities, options);
      for (const title of caughtBy) expect([title, statusOf(outcomes, title)]).toEqual([title, expect.stringContaining('failed')]);
    });
  }

  it('passes a correct backend under the same harness', async () => {
    const outcomes = await outcomesFor(registerConformanceSuite, MapCache);
    const failed = [...outcomes].filter(([, outcome]) => outcome.status === 'failed');
    expect(failed).toEqual([]);
    expect([...outcomes.values()].filter((outcome) => outcome.status === 'passed').length).toBeGreaterThan(100);
  });
});
