import { InvalidCacheBackendError } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { asClusterUrl, isClusterUrl, parseClusterUrl, parseRedisUrl } from './url';

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

describe('parseClusterUrl', () => {
  it('reads every seed node and the options they share', () => {
    expect(parseClusterUrl('redis+cluster://user:p%40ss@h1:7000,h2:7001,[::1]:7002?protocol=3&read_from=replica')).toEqual({
      seeds: ['h1:7000', 'h2:7001', '[::1]:7002'],
      options: { username: 'user', password: 'p@ss', protocol: 3 },
    });
  });

  it('reads rediss+cluster:// as TLS and defaults the port', () => {
    expect(parseClusterUrl('rediss+cluster://h1,h2:7001')).toEqual({ seeds: ['h1:6379', 'h2:7001'], options: { tls: true } });
  });

  it('refuses a URL without nodes, and tells cluster URLs apart', () => {
    expect(() => parseClusterUrl('redis+cluster://')).toThrow(InvalidCacheBackendError);
    expect(() => parseClusterUrl('redis://h:1')).toThrow(InvalidCacheBackendError);
    expect(isClusterUrl('REDIS+CLUSTER://h:1')).toBe(true);
    expect(isClusterUrl('redis://h:1')).toBe(false);
  });

  it('reads single-node locations as cluster seeds', () => {
    expect(parseClusterUrl(asClusterUrl('rediss://:pw@h:1'))).toEqual({ seeds: ['h:1'], options: { tls: true, password: 'pw' } });
    expect(parseClusterUrl(asClusterUrl('h:2'))).toEqual({ seeds: ['h:2'], options: {} });
  });
});

describe('Redis URL errors', () => {
  it.each([
    'redis://user:hunter2@host:notaport/0',
    'redis://:hunter2@host:6379/x',
    'redis://host:6379/0?protocol=4&password=hunter2',
    'redis+cluster://:hunter2@',
    'ftp://:hunter2@host',
  ])('never show the password: %s', (url) => {
    const parse = (): unknown => (url.startsWith('redis+cluster') ? parseClusterUrl(url) : parseRedisUrl(url));
    expect(parse).toThrow(InvalidCacheBackendError);
    expect(parse).not.toThrow(/hunter2/);
  });
});

