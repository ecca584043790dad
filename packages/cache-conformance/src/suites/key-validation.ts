import { InvalidCacheKey, MEMCACHE_MAX_KEY_LENGTH, NotSupportedError, memcacheKeyWarnings, type BaseCache, type KeyFunction } from '@cachette/cache-core';
import { expectRejection, expectSettledRejection, keyWarningsOf } from '../expectations';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

type Operation = [name: string, run: (cache: BaseCache, key: string) => Promise<unknown>];

/** Django's ten operations, in its order: add creates the key, so incr and decr find it. */
const KEYED_OPERATIONS: Operation[] = [
  ['add', (cache, key) => cache.add(key, 1)],
  ['get', (cache, key) => cache.get(key)],
  ['set', (cache, key) => cache.set(key, 1)],
  ['incr', (cache, key) => cache.incr(key)],
  ['decr', (cache, key) => cache.decr(key)],
  ['touch', (cache, key) => cache.touch(key)],
  ['delete', (cache, key) => cache.delete(key)],
  ['getMany', (cache, key) => cache.getMany([key])],
  ['setMany', (cache, key) => cache.setMany({ [key]: 1 })],
  ['deleteMany', (cache, key) => cache.deleteMany([key])],
];

/** `ttl`, which validates the key before a backend that cannot read expiries rejects with `NotSupportedError`. */
const TTL_OPERATION: Operation[] = [
  [
    'ttl',
    (cache, key) =>
      cache.ttl(key).catch((error: unknown) => {
        if (!(error instanceof NotSupportedError)) throw error;
      }),
  ],
];

const identityKey: KeyFunction = (key) => key;

/** Keys that would act as commands where a backend pastes keys into text: memcached, RESP, SQL, paths. */
const HOSTILE_KEYS = [
  'inject\r\nflush_all\r\n',
  'inject\r\nFLUSHALL\r\n',
  '*1\r\n$8\r\nFLUSHALL\r\n',
  "inject'); DELETE FROM cache; --",
  'inject\u0000nul',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%s%n{0}${x}',
];

// Written out rather than computed with core's pyRepr, so a wrong repr cannot agree with itself.
const quoted = (key: string): string => `'${key}'`;
const charactersMessage = (shownKey: string): string =>
  `Cache key contains characters that will cause errors if used with memcached: ${shownKey}`;
const lengthMessage = (shownKey: string): string =>
  `Cache key will cause errors if used with memcached: ${shownKey} (longer than ${MEMCACHE_MAX_KEY_LENGTH})`;

/**
 * Runs every operation on `key` and checks each emits exactly `expected` as `CacheKeyWarning`s,
 * or, on a strict backend, rejects with `InvalidCacheKey` carrying the first message.
 */
async function expectKeyProblems(suite: SuiteContext, cache: BaseCache, key: string, expected: string[], operations = KEYED_OPERATIONS): Promise<void> {
  for (const [name, run] of operations) {
    if (suite.capabilities.validatesKeysStrictly) {
      await expectRejection(suite, run(cache, key), InvalidCacheKey, expected[0], name);
    } else {
      suite.expect([name, await keyWarningsOf(() => run(cache, key))]).toEqual([name, expected]);
    }
  }
}

/** Django's memcached key rules, with its exact texts: warnings, or InvalidCacheKey on strict backends. */
export function registerKeyValidationTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'key validation', (suite) => {
    const { expect, key } = suite;
    const strict = suite.capabilities.validatesKeysStrictly;
    const outcome = strict ? 'rejects with InvalidCacheKey' : 'warns';
    const maxKeyLength = suite.capabilities.maxKeyLength;

    suite.test(`every operation ${outcome} for a key with spaces`, async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const badKey = key('key with spaces and 清');
      await expectKeyProblems(suite, cache, badKey, [charactersMessage(quoted(badKey))]);
    });

    suite.test(`every operation ${outcome} for a key longer than 250 characters`, async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const longKey = key(`${'a'.repeat(250)}清`);
      await expectKeyProblems(suite, cache, longKey, [lengthMessage(quoted(longKey))]);
    });

    suite.test(`every operation ${outcome} when the version makes the key too long`, async () => {
      const cache = await suite.createCache({ keyFunction: (name) => `${name}:1` });
      const madeKey = `${key('a'.repeat(249))}:1`;
      await expectKeyProblems(suite, cache, key('a'.repeat(249)), [lengthMessage(quoted(madeKey))]);
    });

    suite.test(`ttl ${outcome} for a key with spaces, as the other operations do`, async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const badKey = key('ttl with spaces');
      await expectKeyProblems(suite, cache, badKey, [charactersMessage(quoted(badKey))], TTL_OPERATION);
    });

    suite.test(`the made key is what is checked: ${outcome} with the prefix and version shown`, async () => {
      const cache = await suite.cache('prefix');
      const madeKey = `cacheprefix:1:${key('has space')}`;
      await expectKeyProblems(suite, cache, key('has space'), [charactersMessage(quoted(madeKey))]);
    });

    suite.test(`control characters are shown escaped as Python's repr does (${outcome})`, async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const badKey = key("tab\there\nnewline\x7fdel's");
      const shown = `"${badKey.replace('\t', '\\t').replace('\n', '\\n').replace('\x7f', '\\x7f')}"`;
      await expectKeyProblems(suite, cache, badKey, [charactersMessage(shown)]);
    });

    suite.test('a key too long and with spaces reports the length first', async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const badKey = key(`${'b'.repeat(250)} space`);
      const expected = [lengthMessage(quoted(badKey)), charactersMessage(quoted(badKey))];
      await expectKeyProblems(suite, cache, badKey, strict ? expected.slice(0, 1) : expected);
    });

    suite.test('a key of exactly 250 characters is accepted silently', async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const longest = 'c'.repeat(MEMCACHE_MAX_KEY_LENGTH);
      expect(await keyWarningsOf(() => cache.set(longest, 'value'))).toEqual([]);
      expect(await keyWarningsOf(() => cache.get(longest))).toEqual([]);
      expect(await cache.get(longest)).toBe('value');
      await cache.delete(longest);
    }, { skip: maxKeyLength !== undefined && maxKeyLength < MEMCACHE_MAX_KEY_LENGTH ? `capabilities.maxKeyLength is ${maxKeyLength}` : undefined });

    // Without a declared limit: as long as a strict backend allows, or well past memcached's limit.
    const longestKeyLength = maxKeyLength ?? (strict ? MEMCACHE_MAX_KEY_LENGTH : 1000);
    suite.test(`a made key of ${longestKeyLength} characters round-trips`, async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      const longest = 'k'.repeat(longestKeyLength);
      // Over 250 characters a lenient backend warns; only storing is checked here.
      await keyWarningsOf(async () => {
        await cache.set(longest, 'value');
        expect(await cache.get(longest)).toBe('value');
        expect(await cache.delete(longest)).toBe(true);
      });
    });

    suite.test('keys holding protocol, SQL or path syntax are data: stored as such or refused, never run', async () => {
      const cache = await suite.createCache({ keyFunction: identityKey });
      await cache.set(key('victim'), 'survives');
      for (const hostile of HOSTILE_KEYS.map(key)) {
        const what = `set of ${JSON.stringify(hostile)}`;
        const [stored] = await Promise.allSettled([keyWarningsOf(() => cache.set(hostile, 'injected'))]);
        // A key memcached's rules flag may be refused (a strict backend must), only with InvalidCacheKey.
        if (memcacheKeyWarnings(hostile).length > 0 && (strict || stored?.status === 'rejected')) {
          expectSettledRejection(stored, InvalidCacheKey, what);
          continue;
        }
        expect([what, stored?.status]).toEqual([what, 'fulfilled']);
        await keyWarningsOf(async () => {
          expect([hostile, await cache.getMany([hostile, key('victim')])]).toEqual([hostile, new Map([[hostile, 'injected'], [key('victim'), 'survives']])]);
          expect([hostile, await cache.delete(hostile)]).toEqual([hostile, true]);
        });
      }
      expect(await cache.get(key('victim'))).toBe('survives');
    });

    suite.test('a key that is not a string rejects with InvalidCacheKey', async () => {
      const cache = await suite.cache();
      await expectRejection(suite, cache.get(42 as unknown as string), InvalidCacheKey);
      await expectRejection(suite, cache.set(undefined as unknown as string, 1), InvalidCacheKey);
      await expectRejection(suite, cache.getMany([{} as unknown as string]), InvalidCacheKey);
    });
  });
}
