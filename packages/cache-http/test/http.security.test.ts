// The page cache's host rules against request-smuggling-style requests, through the node:http
// adapter over raw sockets (a client library would normalise or refuse these requests), and the
// duplicate-Host cases side by side with the real Django.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LocMemCache } from '@cachette/cache-locmem';
import type { CacheMiddlewareOptions } from '@cachette/cache-http';
import { cacheMiddleware, toNodeListener } from '@cachette/cache-http/node';
import { djangoSkipReason, startDjangoSite, type DjangoSite } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpress, startFastify, startHono, startNode, type AppStarter, type RunningApp } from './adapters/apps';
import { sendRaw, type RawHeader, type RawResponse } from './django/raw-http';

/** A site whose pages name the host they were built for, behind the per-site cache. */
interface HostSite {
  port: number;
  /** How many times the handler ran. */
  calls(): number;
  close(): Promise<void>;
}

let stores = 0;

async function startSite(options: Omit<CacheMiddlewareOptions, 'cache'> = {}): Promise<HostSite> {
  let calls = 0;
  const cache = new LocMemCache({ location: `http-security-${++stores}` });
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    calls++;
    const host = request.headers['x-forwarded-host'] ?? request.headers.host;
    response.setHeader('Content-Type', 'text/plain');
    response.end(`page for ${String(host)} at ${request.url} #${calls}`);
  };
  const server = createServer(cacheMiddleware({ cache, seconds: 60, ...options })(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls: () => calls,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await cache.close();
    },
  };
}

const get = (site: { port: number }, headers: readonly RawHeader[], target = '/page'): Promise<RawResponse> =>
  sendRaw(site.port, { method: 'GET', target, headers });

const body = (response: RawResponse): string => response.body.toString('utf8');

/**
 * Requests whose host is ambiguous, with the target they are sent to (`{path}` is a path of the
 * case's own): each must get 400 and never reach the handler or the cache.
 */
const AMBIGUOUS: Array<[string, RawHeader[], string]> = [
  ['two Host lines', [['Host', 'a.example'], ['Host', 'b.example']], '{path}'],
  ['two Host lines of one value', [['Host', 'a.example'], ['Host', 'a.example']], '{path}'],
  ['Host and HOST', [['Host', 'a.example'], ['HOST', 'b.example']], '{path}'],
  ['hOsT and Host', [['hOsT', 'b.example'], ['Host', 'a.example']], '{path}'],
  ['a Host with userinfo', [['Host', 'b.example@a.example']], '{path}'],
  ['a Host with a space inside', [['Host', 'a.example b.example']], '{path}'],
  ['a Host with a comma list', [['Host', 'a.example,b.example']], '{path}'],
  ['an absolute-form target naming another host', [['Host', 'a.example']], 'http://b.example{path}'],
  ['an absolute-form target naming another host in capitals', [['Host', 'a.example']], 'HTTP://B.EXAMPLE{path}'],
];

/** The ambiguous cases with more than one line naming a host. */
const REPEATED = AMBIGUOUS.filter(([, headers]) => headers.length > 1);

describe('the per-site cache on node:http refuses ambiguous hosts', () => {
  let site: HostSite;
  beforeAll(async () => {
    site = await startSite();
  });
  afterAll(() => site.close());

  it.each(AMBIGUOUS)('%s: 400, the handler never runs, and no page is stored for either host', async (name, headers, target) => {
    const path = `/case-${AMBIGUOUS.findIndex(([other]) => other === name)}`;
    const before = site.calls();
    expect((await get(site, headers, target.replace('{path}', path))).status).toBe(400);
    expect(site.calls()).toBe(before);
    // Every key the refused request could have been stored under, read by each host it named: all misses.
    for (const host of ['a.example', 'b.example']) {
      for (const followUp of [path, `/http:/b.example${path}`]) {
        const calls = site.calls();
        expect(body(await get(site, [['Host', host]], followUp))).toBe(`page for ${host} at ${followUp} #${calls + 1}`);
      }
    }
  });

  it("a page is never served for another host, nor for the same host with a trailing dot (Django's keys differ too)", async () => {
    const hosts = ['one.example', 'two.example', 'one.example.', 'ONE.example', 'one.example:80'];
    const first = await Promise.all(hosts.map(async (host) => body(await get(site, [['Host', host]], '/shared'))));
    const again = await Promise.all(hosts.map(async (host) => body(await get(site, [['Host', host]], '/shared'))));
    hosts.forEach((host, index) => expect(first[index]).toMatch(new RegExp(`^page for ${host.replace(/\./g, '\\.')} at /shared #`)));
    expect(again).toEqual(first);
  });

  it('an absolute-form target naming the Host is served but never cached: its path is not the one the handler sees', async () => {
    const target = 'http://a.example/absolute';
    const first = await get(site, [['Host', 'a.example']], target);
    const second = await get(site, [['Host', 'a.example']], target);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(body(second)).not.toBe(body(first));
    const plain = await get(site, [['Host', 'a.example']], '/http:/a.example/absolute');
    expect(body(plain)).toBe(`page for a.example at /http:/a.example/absolute #${site.calls()}`);
  });

  it('X-Forwarded-Host, repeated or not, is not keyed by default: such pages are never stored', async () => {
    for (const forwarded of [[['X-Forwarded-Host', 'evil.example']], [['X-Forwarded-Host', 'evil.example'], ['x-forwarded-host', 'a.example']]] as RawHeader[][]) {
      const before = site.calls();
      await get(site, [['Host', 'a.example'], ...forwarded], '/forwarded');
      expect(site.calls()).toBe(before + 1);
    }
    expect(body(await get(site, [['Host', 'a.example']], '/forwarded'))).toMatch(/^page for a\.example at \/forwarded #/);
  });
});

describe('with useForwardedHost, a repeated X-Forwarded-Host is ambiguous too', () => {
  let site: HostSite;
  beforeAll(async () => {
    site = await startSite({ useForwardedHost: true });
  });
  afterAll(() => site.close());

  it.each<[string, RawHeader[]]>([
    ['two lines', [['X-Forwarded-Host', 'a.example'], ['X-Forwarded-Host', 'b.example']]],
    ['two lines, names in other cases', [['x-forwarded-host', 'a.example'], ['X-FORWARDED-HOST', 'b.example']]],
    ['one line listing two hosts', [['X-Forwarded-Host', 'a.example, b.example']]],
  ])('%s: 400, and the handler never runs', async (_, forwarded) => {
    const before = site.calls();
    expect((await get(site, [['Host', 'proxy.example'], ...forwarded])).status).toBe(400);
    expect(site.calls()).toBe(before);
  });

  it('one X-Forwarded-Host keys the page by that host', async () => {
    const first = body(await get(site, [['Host', 'proxy.example'], ['X-Forwarded-Host', 'a.example']], '/keyed'));
    expect(body(await get(site, [['Host', 'proxy.example'], ['X-Forwarded-Host', 'a.example']], '/keyed'))).toBe(first);
    expect(body(await get(site, [['Host', 'proxy.example'], ['X-Forwarded-Host', 'b.example']], '/keyed'))).toMatch(/^page for b\.example/);
  });
});

describe('allowedHosts sees every Host line', () => {
  let site: HostSite;
  beforeAll(async () => {
    site = await startSite({ allowedHosts: ['a.example'] });
  });
  afterAll(() => site.close());

  it('an allowed Host followed by a disallowed one is refused', async () => {
    expect((await get(site, [['Host', 'a.example'], ['Host', 'evil.example']])).status).toBe(400);
    expect((await get(site, [['Host', 'a.example.']])).status).toBe(200);
    expect(site.calls()).toBe(1);
  });
});

describe('toNodeListener (Fetch handlers)', () => {
  let server: Server;
  let handled = 0;
  beforeAll(async () => {
    server = createServer(
      toNodeListener((request) => {
        handled++;
        return new Response(new URL(request.url).host);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it.each(REPEATED)('%s: DisallowedHost, answered 400 before the handler', async (_, headers) => {
    const before = handled;
    expect((await get({ port: (server.address() as AddressInfo).port }, headers)).status).toBe(400);
    expect(handled).toBe(before);
  });
});

describe.each<[string, AppStarter]>([
  ['node:http', startNode],
  ['Express 5', startExpress],
  ['Fastify 5', startFastify],
  ['Hono 4', startHono],
])('the %s adapter sees every Host line and the request target as sent', (_, start) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start(new LocMemCache({ location: `http-security-${++stores}` }));
  });
  afterAll(() => app.close());

  it.each<[string, RawHeader[], string]>([
    ['two Host lines', [['Host', 'localhost'], ['Host', '127.0.0.1']], '/page'],
    ['Host and hOsT', [['Host', 'localhost'], ['hOsT', '127.0.0.1']], '/page'],
    ['an absolute-form target naming another allowed host', [['Host', 'localhost']], 'http://127.0.0.1/page'],
  ])('%s: 400, and the route never runs', async (_, headers, target) => {
    expect((await get({ port: Number(new URL(app.url).port) }, headers, target)).status).toBe(400);
    expect(app.site.calls.get('/page')).toBeUndefined();
  });
});

const skipDjango = djangoSkipReason();

describe.skipIf(skipDjango)(`duplicate Host side by side with Django${skipDjango ? ` (skipped: ${skipDjango})` : ''}`, () => {
  let django: DjangoSite;
  let site: HostSite;
  beforeAll(async () => {
    [django, site] = await Promise.all([startDjangoSite(fileURLToPath(new URL('./django/site.py', import.meta.url))), startSite()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([django?.stop(), site?.close()]);
  });

  const cases: Array<[string, number, RawHeader[]]> = [...REPEATED.map(([name, headers]): [string, number, RawHeader[]] => [name, 400, headers]), ['one well-formed Host', 200, [['Host', 'a.example']]]];
  it.each(cases)('%s: Django and the page cache both answer %i', async (_, status, headers) => {
    const [theirs, ours] = await Promise.all([get(django, headers, '/cache/test/'), get(site, headers, '/cache/test/')]);
    expect({ django: theirs.status, ours: ours.status }).toEqual({ django: status, ours: status });
  });
});
