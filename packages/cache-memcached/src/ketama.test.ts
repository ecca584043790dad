import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedClient } from './client';
import { KetamaRing } from './ketama';
import { ketamaName, parseServer } from './servers';

const keys = Array.from({ length: 2000 }, (_, index) => `key:${index}:${(index * 7919).toString(36)}`);

function ownersOf(members: string[], sample = keys): string[] {
  const specs = members.map(parseServer);
  const ring = new KetamaRing(specs.map((spec) => ({ name: ketamaName(spec.address), weight: spec.weight })));
  return sample.map((key) => members[ring.ownerOf(key)]!);
}

function movedFraction(before: string[], after: string[]): number {
  return before.filter((owner, index) => owner !== after[index]).length / before.length;
}

describe('KetamaRing', () => {
  const four = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'];

  it('spreads keys about evenly over equal servers', () => {
    const counts = new Map<string, number>();
    for (const owner of ownersOf(four)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    for (const member of four) expect(counts.get(member)).toBeGreaterThan(keys.length / 4 / 2);
  });

  it('moves about 1/N of the keys when a fifth server joins, all of them to the new server', () => {
    const before = ownersOf(four);
    const after = ownersOf([...four, '10.0.0.5:11211']);
    const moved = movedFraction(before, after);
    expect(moved).toBeGreaterThan(0.1);
    expect(moved).toBeLessThan(0.3);
    after.forEach((owner, index) => {
      if (owner !== before[index]) expect(owner).toBe('10.0.0.5:11211');
    });
  });

  it('moves only the keys of a server that leaves', () => {
    const before = ownersOf(four);
    const after = ownersOf(four.filter((member) => member !== '10.0.0.2:11211'));
    before.forEach((owner, index) => {
      if (owner !== '10.0.0.2:11211') expect(after[index]).toBe(owner);
    });
    expect(movedFraction(before, after)).toBeLessThan(0.4);
  });

  it('gives a heavier server a larger share', () => {
    const owners = ownersOf(['10.0.0.1:11211:3', '10.0.0.2:11211:1']);
    const heavy = owners.filter((owner) => owner === '10.0.0.1:11211:3').length;
    expect(heavy / owners.length).toBeGreaterThan(0.6);
  });
});

// libmemcached itself, through Debian's python3-pylibmc, is the reference for where keys go.
const PYTHON = ['/usr/bin/python3', 'python3'].find((candidate) => candidate === 'python3' || existsSync(candidate))!;
const pylibmcSkip = await promisify(execFile)(PYTHON, ['-c', 'import pylibmc'])
  .then(() => undefined)
  .catch(() => {
    const reason = 'python3-pylibmc is not installed (apt-get install python3-pylibmc)';
    // CI installs it: there a missing reference is a failure, not a skip.
    if (process.env.CACHETTE_REQUIRE_SERVERS === '1') throw new Error(reason);
    return reason;
  });
const serverSkip = await serverSkipReason('memcached');
const skip = serverSkip ?? pylibmcSkip;

const PYLIBMC_SET = `
import sys, pylibmc
servers = sys.argv[1].split(',')
client = pylibmc.Client(servers, behaviors={'ketama_weighted': True})
for key in sys.stdin.read().split():
    client.set(key, b'x')
`;

describe.skipIf(skip)(`ketama agrees with libmemcached's libketama-compatible mode${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    servers.push(...(await Promise.all([startMemcached(), startMemcached(), startMemcached()])));
  });
  afterAll(() => Promise.all(servers.map((server) => server.stop())));

  async function whereLibmemcachedPuts(members: string[], sample: string[]): Promise<string[]> {
    const clients = servers.map((server) => new MemcachedClient(server.url));
    await Promise.all(clients.map((client) => client.flushAll()));
    const child = promisify(execFile)(PYTHON, ['-c', PYLIBMC_SET, members.join(',')]);
    child.child.stdin!.end(sample.join('\n'));
    await child;
    const found = await Promise.all(clients.map((client) => client.getMany(sample)));
    await Promise.all(clients.map((client) => client.close()));
    return sample.map((key) => {
      const holders = found.flatMap((items, index) => (items.has(key) ? [servers[index]!.url] : []));
      expect([key, holders.length]).toEqual([key, 1]);
      return holders[0]!;
    });
  }

  it('puts every key on the server pylibmc (ketama_weighted) chose', async () => {
    const members = servers.map((server) => server.url);
    const sample = keys.slice(0, 600);
    expect(await whereLibmemcachedPuts(members, sample)).toEqual(ownersOf(members, sample));
  });

  it('agrees with weights too', async () => {
    const members = servers.map((server, index) => `${server.url}:${index + 1}`);
    const sample = keys.slice(600, 1200);
    const ours = ownersOf(members, sample).map((member) => member.slice(0, member.lastIndexOf(':')));
    expect(await whereLibmemcachedPuts(members, sample)).toEqual(ours);
  });

  it('a MemcachedClient over the same servers reads what pylibmc stored', async () => {
    const members = servers.map((server) => server.url);
    const sample = keys.slice(1200, 1500);
    await whereLibmemcachedPuts(members, sample);
    const client = new MemcachedClient(members);
    expect((await client.getMany(sample)).size).toBe(sample.length);
    await client.close();
  });
});
