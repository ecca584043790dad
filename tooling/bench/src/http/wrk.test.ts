import { describe, expect, it } from 'vitest';
import { parseWrkOutput, parseWrkSize, parseWrkTime, wrkCommand, wrkProblems, type WrkResult } from './wrk';

// Reports as wrk 4.1 (Debian) prints them, with --latency.
const CLEAN = `Running 3s test @ http://127.0.0.1:34719/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.53ms    1.02ms  10.78ms   90.20%
    Req/Sec    35.38k    13.73k   57.22k    60.00%
  Latency Distribution
     50%  812.00us
     75%    1.68ms
     90%    2.46ms
     99%   83.89ms
  95127 requests in 3.00s, 200.26MB read
Requests/sec:  31704.09
Transfer/sec:     66.74MB
`;

const FAILING = `Running 1s test @ http://127.0.0.1:18080/bad
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.53ms    1.02ms  10.78ms   90.20%
    Req/Sec    35.38k    13.73k   57.22k    60.00%
  Latency Distribution
     50%    1.31ms
     75%    1.68ms
     90%    2.46ms
     99%    1.02s
  35127 requests in 1.00s, 73.26MB read
  Socket errors: connect 0, read 3, write 1, timeout 12
  Non-2xx or 3xx responses: 35127
Requests/sec:  35000.09
Transfer/sec:     73.00MB
`;

const WITHOUT_LATENCY = `Running 1s test @ http://127.0.0.1:18080/
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   153.00us   20.00us   1.00ms   90.20%
    Req/Sec    30.00k     1.00k   31.00k    60.00%
  30000 requests in 1.00s, 512.00KB read
Requests/sec:  30000.00
Transfer/sec:    512.00KB
`;

describe('parseWrkTime and parseWrkSize', () => {
  it('read every unit wrk prints', () => {
    expect(parseWrkTime('812.00us')).toBeCloseTo(0.812);
    expect(parseWrkTime('1.35ms')).toBe(1.35);
    expect(parseWrkTime('2.00s')).toBe(2000);
    expect(parseWrkTime('1.50m')).toBe(90_000);
    expect(parseWrkSize('512.00B')).toBe(512);
    expect(parseWrkSize('2.00KB')).toBe(2048);
    expect(parseWrkSize('1.50MB')).toBe(1.5 * 1024 * 1024);
    expect(parseWrkSize('1.00GB')).toBe(1024 ** 3);
  });

  it('refuse what is not a wrk number', () => {
    expect(() => parseWrkTime('1.35')).toThrow(/not a wrk duration/);
    expect(() => parseWrkSize('12 MB')).toThrow(/not a wrk size/);
  });
});

describe('parseWrkOutput', () => {
  it('reads the totals, the rate and the latency distribution', () => {
    expect(parseWrkOutput(CLEAN)).toEqual({
      requests: 95127,
      seconds: 3,
      bytesRead: 200.26 * 1024 * 1024,
      requestsPerSecond: 31704.09,
      latency: { p50Ms: 0.812, p75Ms: 1.68, p90Ms: 2.46, p99Ms: 83.89 },
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      badResponses: 0,
    });
  });

  it('reads socket errors and responses that were not 2xx or 3xx', () => {
    const result = parseWrkOutput(FAILING);
    expect(result.socketErrors).toEqual({ connect: 0, read: 3, write: 1, timeout: 12 });
    expect(result.badResponses).toBe(35127);
    expect(result.latency?.p99Ms).toBe(1020);
  });

  it('leaves the latency out when wrk ran without --latency', () => {
    const result = parseWrkOutput(WITHOUT_LATENCY);
    expect(result.latency).toBeUndefined();
    expect(result.bytesRead).toBe(512 * 1024);
    expect(result.requestsPerSecond).toBe(30000);
  });

  it('throws on output that is not a wrk report', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/requests in/);
    expect(() => parseWrkOutput(CLEAN.replace(/^Requests\/sec.*$/m, ''))).toThrow(/Requests\/sec/);
  });
});

describe('wrkProblems', () => {
  const clean = parseWrkOutput(CLEAN);
  const perResponse = clean.bytesRead / clean.requests; // about 2207 bytes
  const around = { minBytesPerResponse: perResponse - 64, maxBytesPerResponse: perResponse + 64 };

  it('finds nothing wrong with a clean run of responses of the expected size', () => {
    expect(wrkProblems(clean, around)).toEqual([]);
  });

  it('reports socket errors, bad statuses and runs without requests', () => {
    const problems = wrkProblems(parseWrkOutput(FAILING), { minBytesPerResponse: 0, maxBytesPerResponse: Infinity });
    expect(problems).toEqual(['socket errors: connect 0, read 3, write 1, timeout 12', '35127 responses were not 2xx or 3xx']);
    const empty: WrkResult = { ...clean, requests: 0, bytesRead: 0 };
    expect(wrkProblems(empty, around)).toEqual(['no request completed']);
  });

  it('reports responses smaller or larger than expected (an error page, an empty body)', () => {
    expect(wrkProblems(clean, { minBytesPerResponse: perResponse + 1, maxBytesPerResponse: perResponse + 100 })).toHaveLength(1);
    expect(wrkProblems(clean, { minBytesPerResponse: 0, maxBytesPerResponse: perResponse - 1 })[0]).toMatch(/bytes read per response/);
  });
});

describe('wrkCommand', () => {
  it('runs whole seconds with latency statistics, pinned with taskset when asked', () => {
    const run = { url: 'http://127.0.0.1:1/', seconds: 2.6, threads: 1, connections: 50 };
    expect(wrkCommand(run)).toEqual(['wrk', ['--latency', '-t', '1', '-c', '50', '-d', '3s', 'http://127.0.0.1:1/']]);
    expect(wrkCommand({ ...run, seconds: 0.2, cpus: '0' })).toEqual(['taskset', ['-c', '0', 'wrk', '--latency', '-t', '1', '-c', '50', '-d', '1s', 'http://127.0.0.1:1/']]);
  });
});
