import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { DummyCache } from '../dummy-cache';
import { NotSupportedError } from '../errors';
import { CacheHandler } from '../registry';
import { emitCacheKeyWarning, resetCacheKeyWarnings } from '../keys';
import { MapCache } from '../test-map-cache';
import { operationChannel, publishSwallowedError, type KeyWarningMessage, type OperationContext, type SwallowedErrorMessage } from './channels';
import { debugEnabled } from './debug';
import { OutageReporter } from './outages';

type Event = [name: string, context: OperationContext];

/** Subscribes to every event of `cachette:operation` until the returned function is called. */
function recordOperations(): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const handlers = {
    start: (context: OperationContext) => events.push(['start', { ...context }]),
    end: (context: OperationContext) => events.push(['end', { ...context }]),
    asyncStart: (context: OperationContext) => events.push(['asyncStart', { ...context }]),
    asyncEnd: (context: OperationContext) => events.push(['asyncEnd', { ...context }]),
    error: (context: OperationContext) => events.push(['error', { ...context }]),
  };
  operationChannel.subscribe(handlers);
  return { events, stop: () => operationChannel.unsubscribe(handlers) };
}

let stopRecording: (() => void) | undefined;
afterEach(() => {
  stopRecording?.();
  stopRecording = undefined;
});

describe('cachette:operation', () => {
  it('publishes nothing, and counts nothing, when nobody subscribes and stats are off', async () => {
    const cache = new MapCache();
    expect(operationChannel.hasSubscribers).toBe(false);
    await cache.set('a', 1);
    expect(cache.stats()).toEqual({ enabled: false, hits: 0, misses: 0, sets: 0, deletes: 0, errors: 0, operations: {} });
  });

  it('publishes start, end, asyncStart and asyncEnd of a call, with hits, misses and duration once settled', async () => {
    const recording = recordOperations();
    stopRecording = recording.stop;
    const cache = new MapCache({ keyPrefix: 'p' });
    cache.alias = 'pages';
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('missing');
    const gets = recording.events.filter(([, context]) => context.operation === 'get');
    // MapCache answers reads synchronously: settled on `end`, no async events.
    expect(gets.map(([name]) => name)).toEqual(['start', 'end', 'start', 'end']);
    const [hitEnd] = gets.filter(([name, context]) => name === 'end' && context.key === 'a');
    expect(hitEnd![1]).toMatchObject({ alias: 'pages', backend: 'MapCache', operation: 'get', key: 'a', keys: 1, hits: 1, misses: 0, result: 1 });
    expect(hitEnd![1].duration).toBeGreaterThanOrEqual(0);
    const [missEnd] = gets.filter(([name, context]) => name === 'end' && context.key === 'missing');
    expect(missEnd![1]).toMatchObject({ hits: 0, misses: 1 });
    const sets = recording.events.filter(([, context]) => context.operation === 'set').map(([name]) => name);
    expect(sets).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  });

  it('publishes the error of a failing call, synchronous or not', async () => {
    const recording = recordOperations();
    stopRecording = recording.stop;
    const cache = new MapCache();
    await expect(cache.incr('missing')).rejects.toThrow("Key 'missing' not found");
    await expect(cache.get(42 as unknown as string)).rejects.toThrow('Cache keys are strings');
    const errors = recording.events.filter(([name]) => name === 'error').map(([, context]) => [context.operation, (context.error as Error).message]);
    expect(errors).toEqual([
      ['incr', "Key 'missing' not found"],
      ['get', 'Cache keys are strings; got number'],
    ]);
  });

  it('reports many-key operations with their key count and found/missing counts', async () => {
    const recording = recordOperations();
    stopRecording = recording.stop;
    const cache = new MapCache();
    await cache.setMany({ a: 1, b: 2 });
    await cache.getMany(['a', 'b', 'c']);
    const many = recording.events.filter(([name, context]) => name === 'asyncEnd' && context.operation === 'getMany');
    expect(many[0]![1]).toMatchObject({ keys: 3, hits: 2, misses: 1, key: undefined });
  });

  it('publishes ttl as a single-key operation, also when the backend cannot answer it', async () => {
    const recording = recordOperations();
    stopRecording = recording.stop;
    await new DummyCache().ttl('a');
    await expect(new MapCache().ttl('b')).rejects.toThrow(NotSupportedError);
    const ttls = recording.events.filter(([name]) => name === 'asyncEnd').map(([, context]) => [context.backend, context.operation, context.key, context.keys]);
    expect(ttls).toEqual([
      ['DummyCache', 'ttl', 'a', 1],
      ['MapCache', 'ttl', 'b', 1],
    ]);
    expect(recording.events.filter(([name]) => name === 'error').map(([, context]) => context.error)).toEqual([expect.any(NotSupportedError)]);
  });
});

describe('stats()', () => {
  it('counts hits, misses, writes, deletes and errors per operation, with latency percentiles', async () => {
    const cache = new MapCache({ stats: true });
    await cache.set('a', 1);
    await cache.add('a', 2);
    await cache.add('b', 2);
    await cache.setMany({ c: 3, d: 4 });
    await cache.get('a');
    await cache.get('a');
    await cache.get('nope');
    await cache.getMany(['a', 'nope']);
    await cache.getOrSet('e', () => 5);
    await cache.getOrSet('e', () => 6);
    await cache.delete('a');
    await cache.delete('a');
    await cache.deleteMany(['b', 'c']);
    await cache.incr('nope').catch(() => undefined);
    await cache.ttl('e').catch(() => undefined);
    const stats = cache.stats();
    expect(stats).toMatchObject({ enabled: true, hits: 4, misses: 3, sets: 5, deletes: 3, errors: 2 });
    expect(stats.operations.ttl).toMatchObject({ count: 1, errors: 1, hits: 0, misses: 0 });
    expect(stats.operations.get).toMatchObject({ count: 3, hits: 2, misses: 1, errors: 0 });
    expect(stats.operations.getOrSet).toMatchObject({ count: 2, hits: 1, misses: 1 });
    expect(stats.operations.incr).toMatchObject({ count: 1, errors: 1 });
    const { p50, p99 } = stats.operations.get!;
    expect(p50).toBeGreaterThan(0);
    expect(p99!).toBeGreaterThanOrEqual(p50!);
    cache.resetStats();
    expect(cache.stats()).toMatchObject({ enabled: true, hits: 0, misses: 0, sets: 0, operations: {} });
  });

  it('caches.stats() gives every alias created so far, without creating the others', async () => {
    const handler = new CacheHandler();
    handler.configure({ default: { backend: MapCache, stats: true }, other: { backend: MapCache } });
    await handler.get('default').get('x');
    expect(handler.stats()).toEqual({ default: expect.objectContaining({ enabled: true, misses: 1 }) });
    expect(handler.get('default').alias).toBe('default');
  });

  it('refuses a stats parameter that is not a boolean', () => {
    expect(() => new MapCache({ stats: 'yes' as unknown as boolean })).toThrow('Cache parameter stats must be true or false');
  });
});

describe('cachette:key-warning and cachette:swallowed-error', () => {
  it('publishes every key warning, also those process.emitWarning shows only once', () => {
    const messages: string[] = [];
    const listener = (message: unknown) => messages.push((message as KeyWarningMessage).message);
    subscribe('cachette:key-warning', listener);
    const onWarning = () => {};
    process.on('warning', onWarning);
    try {
      resetCacheKeyWarnings();
      emitCacheKeyWarning('a bad key');
      emitCacheKeyWarning('a bad key');
      expect(messages).toEqual(['a bad key', 'a bad key']);
    } finally {
      unsubscribe('cachette:key-warning', listener);
      process.off('warning', onWarning);
      resetCacheKeyWarnings();
    }
  });

  it('publishes each swallowed error and warns once per outage', async () => {
    const cache = new MapCache();
    cache.alias = 'sessions';
    const published: SwallowedErrorMessage[] = [];
    const listener = (message: unknown) => published.push(message as SwallowedErrorMessage);
    subscribe('cachette:swallowed-error', listener);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'TestOutage') warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    try {
      const outages = new OutageReporter(cache, { text: 'down, ignored', type: 'TestOutage' });
      outages.swallowed(new Error('first'));
      outages.swallowed(new Error('second'));
      outages.recovered();
      outages.swallowed(new Error('third'));
      publishSwallowedError(cache, 'refresh', new Error('refresh failed'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(published.map((message) => [message.alias, message.backend, message.reason, (message.error as Error).message])).toEqual([
        ['sessions', 'MapCache', 'ignoreExceptions', 'first'],
        ['sessions', 'MapCache', 'ignoreExceptions', 'second'],
        ['sessions', 'MapCache', 'ignoreExceptions', 'third'],
        ['sessions', 'MapCache', 'refresh', 'refresh failed'],
      ]);
      expect(warnings).toEqual(['TestOutage: down, ignored: first', 'TestOutage: down, ignored: third']);
    } finally {
      unsubscribe('cachette:swallowed-error', listener);
      process.off('warning', onWarning);
    }
  });
});

describe('debugEnabled', () => {
  it.each([
    ['cachette:*', 'cachette:stampede', true],
    ['cachette:stampede', 'cachette:stampede', true],
    ['cachette:outage', 'cachette:stampede', false],
    ['cachette:*,-cachette:stampede', 'cachette:stampede', false],
    ['other cachette:*', 'cachette:outage', true],
    ['*', 'cachette:outage', true],
    ['', 'cachette:outage', false],
    [undefined, 'cachette:outage', false],
  ])('%j turns %s %s', (list, namespace, expected) => {
    expect(debugEnabled(list, namespace)).toBe(expected);
  });
});
