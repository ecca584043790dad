import { describe, expect, it } from 'vitest';
import { DummyCache } from './dummy-cache';
import { InvalidCacheBackendError, UnknownCacheOptionError } from './errors';
import { CACHE_PARAM_NAMES, checkOptionNames, checkUrlParameters, declareOptions, nearestName } from './known-names';
import { parseCacheUrl } from './urls';

interface ExampleOptions {
  maxEntries?: number;
  serializer?: string;
  onEvent?: () => void;
}

const EXAMPLE = declareOptions<ExampleOptions>({ maxEntries: 'url', serializer: 'url', onEvent: 'object' }, (scheme) => (scheme === 'pg' ? ['sslmode'] : []));

function thrown(action: () => void): UnknownCacheOptionError {
  try {
    action();
  } catch (error) {
    return error as UnknownCacheOptionError;
  }
  throw new Error('expected an error');
}

describe('nearestName', () => {
  it('suggests the known name one typo away', () => {
    expect(nearestName('tmeout', ['timeout', 'version'])).toBe('timeout');
    expect(nearestName('timout', ['timeout', 'version'])).toBe('timeout');
    expect(nearestName('maxEntriez', ['cullFrequency', 'maxEntries'])).toBe('maxEntries');
  });

  it('counts swapped neighbours, case and underscores as close', () => {
    expect(nearestName('tiemout', ['timeout'])).toBe('timeout');
    expect(nearestName('MaxEntries', ['maxEntries'])).toBe('maxEntries');
    expect(nearestName('max_entriez', ['maxEntries', 'max_entries'])).toBe('maxEntries');
  });

  it('suggests nothing when no known name is close', () => {
    expect(nearestName('colour', ['timeout', 'version'])).toBeUndefined();
    expect(nearestName('x', ['db'])).toBeUndefined();
    expect(nearestName('anything', [])).toBeUndefined();
  });

  it('prefers the closest of several candidates', () => {
    expect(nearestName('pool_sise', ['pool_size', 'poll_sizes'])).toBe('pool_size');
  });
});

describe('declareOptions', () => {
  it('lists every option, and as URL parameters (snake_case) those a URL can carry, with the extras of the scheme', () => {
    expect(EXAMPLE.options).toEqual(['maxEntries', 'onEvent', 'serializer']);
    expect(EXAMPLE.urlOptions).toEqual(['maxEntries', 'serializer']);
    expect(EXAMPLE.urlParameters('x')).toEqual(['max_entries', 'serializer']);
    expect(EXAMPLE.urlParameters('pg')).toEqual(['max_entries', 'serializer', 'sslmode']);
  });
});

describe('checkOptionNames', () => {
  it('accepts known options, no options and null', () => {
    expect(() => checkOptionNames({ maxEntries: 5, onEvent: undefined }, EXAMPLE, 'ExampleCache')).not.toThrow();
    expect(() => checkOptionNames(undefined, EXAMPLE, 'ExampleCache')).not.toThrow();
    expect(() => checkOptionNames(null, EXAMPLE, 'ExampleCache')).not.toThrow();
  });

  it('refuses an unknown option with the nearest and every known name', () => {
    const error = thrown(() => checkOptionNames({ maxEntries: 1, maxEntriez: 5 }, EXAMPLE, 'ExampleCache'));
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect(error).toBeInstanceOf(InvalidCacheBackendError);
    expect(error.message).toBe("Unknown option 'maxEntriez' for ExampleCache (did you mean 'maxEntries'?). Known options: maxEntries, onEvent, serializer");
    expect(error).toMatchObject({ unknownName: 'maxEntriez', suggestion: 'maxEntries', knownNames: ['maxEntries', 'onEvent', 'serializer'] });
  });

  it('leaves the suggestion out when nothing is close', () => {
    const error = thrown(() => checkOptionNames({ colour: 'red' }, EXAMPLE, 'ExampleCache'));
    expect(error.suggestion).toBeUndefined();
    expect(error.message).toBe("Unknown option 'colour' for ExampleCache. Known options: maxEntries, onEvent, serializer");
  });

  it('refuses options that are not an object', () => {
    expect(() => checkOptionNames('maxEntries=5', EXAMPLE, 'ExampleCache')).toThrow(new InvalidCacheBackendError('ExampleCache options must be an object; got string'));
  });
});

describe('checkUrlParameters', () => {
  it('accepts the common parameters, the options a URL can carry (snake_case or camelCase) and the scheme extras', () => {
    const url = parseCacheUrl('pg://h/db?timeout=5&key_prefix=p&keyPrefix=q&version=2&stats=true&max_entries=3&maxEntries=4&sslmode=require');
    expect(() => checkUrlParameters(url, EXAMPLE)).not.toThrow();
  });

  it('refuses a misspelt parameter naming the URL without its password', () => {
    const error = thrown(() => checkUrlParameters(parseCacheUrl('pg://user:s3cret@h/db?tmeout=5'), EXAMPLE));
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect(error.message).toBe(
      "Unknown query parameter 'tmeout' in the cache URL 'pg://user:***@h/db?tmeout=5' (did you mean 'timeout'?). " +
        'Known query parameters: timeout, key_prefix, version, stats, max_entries, serializer, sslmode',
    );
  });

  it('refuses options only a configuration object can carry, and extras of another scheme', () => {
    expect(thrown(() => checkUrlParameters(parseCacheUrl('x://h?on_event=1'), EXAMPLE)).unknownName).toBe('on_event');
    expect(thrown(() => checkUrlParameters(parseCacheUrl('x://h?sslmode=require'), EXAMPLE)).unknownName).toBe('sslmode');
  });
});

describe('BaseCache parameters', () => {
  it('lists the keys of CacheParams', () => {
    expect(CACHE_PARAM_NAMES).toEqual(['location', 'timeout', 'keyPrefix', 'version', 'keyFunction', 'options', 'stats']);
  });

  it('refuses an unknown top-level parameter of a backend constructed directly', () => {
    const error = thrown(() => new DummyCache({ timout: 5 } as never));
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect(error.message).toBe(
      "Unknown key 'timout' for DummyCache (did you mean 'timeout'?). Known keys: location, timeout, keyPrefix, version, keyFunction, options, stats",
    );
  });

  it("checks options against the backend class's knownOptions, subclasses included", () => {
    class Quiet extends DummyCache {}
    expect(thrown(() => new Quiet({ options: { verbose: true } })).message).toBe("Unknown option 'verbose' for Quiet. Known options: none");
    expect(() => new DummyCache({ options: {} })).not.toThrow();
  });
});
