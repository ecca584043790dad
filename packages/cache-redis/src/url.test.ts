import { InvalidCacheBackendError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from './url';

describe('parseRedisUrl', () => {
  it('reads user, password, host, port and db', () => {
    expect(parseRedisUrl('redis://user:p%40ss@cache.local:6380/2')).toEqual({ host: 'cache.local', port: 6380, db: 2, username: 'user', password: 'p@ss' });
  });

  it('reads rediss:// as TLS, defaults the port, and takes query options', () => {
    expect(parseRedisUrl('rediss://:secret@host?protocol=3&client_name=web&timeout=5')).toEqual({
      host: 'host',
      port: 6379,
      tls: true,
      password: 'secret',
      protocol: 3,
      clientName: 'web',
    });
  });

  it('reads unix sockets with db and password in the query', () => {
    expect(parseRedisUrl('unix:///run/redis/redis.sock?db=1&password=pw')).toEqual({ path: '/run/redis/redis.sock', db: 1, password: 'pw' });
  });

  it('accepts a bare host:port and IPv6 literals', () => {
    expect(parseRedisUrl('10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(parseRedisUrl('redis://[::1]:7000')).toEqual({ host: '::1', port: 7000 });
  });

  it('rejects other schemes and bad numbers with InvalidCacheBackendError', () => {
    expect(() => parseRedisUrl('http://host')).toThrow(InvalidCacheBackendError);
    expect(() => parseRedisUrl('redis://host/abc')).toThrow(/db must be/);
    expect(() => parseRedisUrl('redis://host?protocol=4')).toThrow(/protocol/);
  });
});
