import { serverSkipReason, startRedis, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache } from './index';
import { eventually } from '../test/eventually';

const skip = await serverSkipReason('redis');

describe.skipIf(skip)(`RedisCache tracking (CLIENT TRACKING)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisTestServer;
  let other: RedisClient;
  const opened: RedisCache[] = [];
  const tracked = (broadcastPrefixes?: string[]) => {
    const notices: Array<string[] | null> = [];
    const cache = new RedisCache({
      location: server.url,
      keyPrefix: 'tr',
      options: { clientName: 'tracked', tracking: { broadcastPrefixes, onInvalidate: (keys) => notices.push(keys && [...keys]) } },
    });
    opened.push(cache);
    return { cache, notices };
  };

  beforeAll(async () => {
    server = await startRedis();
    other = new RedisClient(server.url);
  });
  beforeEach(() => other.flushdb());
  afterEach(async () => Promise.all(opened.splice(0).map((cache) => cache.close())));
  afterAll(async () => {
    await other?.close();
    await server?.stop();
  });

  it('is told of keys it read that another client changes, and not of its own writes', async () => {
    const { cache, notices } = tracked();
    await cache.set('a', 1);
    await cache.get('a');
    await cache.set('a', 2);
    await cache.get('a');
    await other.set('tr:1:unread', 'x');
    await other.set('tr:1:a', 'changed');
    await eventually(async () => expect(notices).not.toHaveLength(0));
    expect(notices).toEqual([['tr:1:a']]);
  });

  it('with broadcast prefixes, is told of every change under them, read or not', async () => {
    const { cache, notices } = tracked(['tr:']);
    await cache.get('warm-up');
    await other.set('tr:1:never-read', 'x');
    await other.set('elsewhere', 'x');
    await eventually(async () => expect(notices).not.toHaveLength(0));
    expect(notices).toEqual([['tr:1:never-read']]);
  });

  it('hears a FLUSHDB from another client as "anything changed"', async () => {
    const { cache, notices } = tracked();
    await cache.get('a');
    await other.flushdb();
    await eventually(async () => expect(notices).not.toHaveLength(0));
    expect(notices).toEqual([null]);
  });

  it('a killed connection is reported as "anything changed", and the next session tracks again', async () => {
    const { cache, notices } = tracked();
    await cache.get('a');
    await other.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await eventually(async () => expect(notices).not.toHaveLength(0));
    expect(notices).toEqual([null]);
    await expect.poll(() => cache.get('a').then(() => true, () => false), { timeout: 3000 }).toBe(true);
    notices.length = 0;
    await other.set('tr:1:a', 'changed');
    await eventually(async () => expect(notices).not.toHaveLength(0));
    expect(notices).toEqual([['tr:1:a']]);
  });

  it('refuses RESP2 and a tracking without onInvalidate', () => {
    expect(() => new RedisCache({ location: server.url, options: { protocol: 2, tracking: { onInvalidate: () => {} } } })).toThrow(/RESP3/);
    expect(() => new RedisCache({ location: server.url, options: { tracking: {} as never } })).toThrow(/onInvalidate/);
  });
});
