import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { defineSuite, type BenchCase, type Measurement, type MeasuredCandidate } from '../harness';
import { responseProblems } from '../http/checks';
import { PAGE, PAGE_BYTES } from '../http/page';
import { fetchPage, startServer, type ServerProcess } from '../http/server-process';
import type { Framework, Variant } from '../http/variants';
import { runWrk, wrkVersion, type WrkExpectation } from '../http/wrk';

/**
 * The per-site page cache of @cachette/cache-http under a real load generator: wrk on loopback
 * against one server child per candidate, so the load and the server never share an event loop.
 */

const THREADS = 1;
const CONNECTIONS = 50;
/** Bytes a response may differ from the one checked before the rounds (`Age` and `Date` grow by a digit or two). */
const WIRE_TOLERANCE = 64;

/**
 * With two cores or more, wrk runs on core 0 and the servers on the others (`taskset`), so the
 * two never take turns on one core; `CACHETTE_BENCH_HTTP_PIN=0` leaves placement to the kernel.
 */
function placement(): { wrk?: string; server?: string } {
  const cores = cpus().length;
  if (process.env.CACHETTE_BENCH_HTTP_PIN === '0' || cores < 2) return {};
  return { wrk: '0', server: cores === 2 ? '1' : `1-${cores - 1}` };
}

interface ReadyServer {
  readonly process: ServerProcess;
  readonly label: string;
  readonly expectation: WrkExpectation;
  /** The renders counted when the rounds began: a hit server's count must not move. */
  readonly renders: number;
}

function fail(label: string, url: string, problems: readonly string[]): never {
  throw new Error(`${label} (${url}) does not serve the page to measure: ${problems.join('; ')}`);
}

/**
 * Starts a server and checks it before anything is timed: a 200 with the exact page, twice (the
 * first request to the hit server is the miss that stores the page; the second must carry `Age`),
 * and the handler run as often as expected (never more for the hit server).
 */
async function readyServer(framework: Framework, variant: Variant, label: string, servers: ServerProcess[]): Promise<ReadyServer> {
  const server = await startServer(framework, variant, placement().server);
  servers.push(server);
  process.stderr.write(`  ${label}: pid ${server.pid}, ${server.url}\n`);
  const first = await fetchPage(server.url);
  const firstProblems = responseProblems(first, { body: PAGE, fromCache: false });
  if (firstProblems.length > 0) fail(label, server.url, firstProblems);
  const second = await fetchPage(server.url);
  const secondProblems = responseProblems(second, { body: PAGE, fromCache: variant === 'hit' });
  if (secondProblems.length > 0) fail(label, server.url, secondProblems);
  const { renders } = await server.stats();
  const expectedRenders = { constant: 0, uncached: 2, hit: 1 }[variant];
  if (renders !== expectedRenders) fail(label, server.url, [`the handler rendered ${renders} pages for 2 requests, expected ${expectedRenders}`]);
  return {
    process: server,
    label,
    renders,
    expectation: { minBytesPerResponse: second.wireBytes - WIRE_TOLERANCE, maxBytesPerResponse: second.wireBytes + WIRE_TOLERANCE },
  };
}

/**
 * One wrk run against the server. Besides wrk's rate and latency, reports the server's CPU time
 * per request (user and system, all its threads, over the run): what a request costs the server,
 * which moves far less than the rate when other processes share the machine.
 */
async function measureRound(server: ReadyServer, durationMs: number): Promise<Measurement> {
  const before = await server.process.stats();
  const result = await runWrk(
    { url: server.process.url, seconds: Math.max(1, Math.round(durationMs / 1000)), threads: THREADS, connections: CONNECTIONS, cpus: placement().wrk },
    server.expectation,
  );
  const after = await server.process.stats();
  if (server.process.variant === 'hit' && after.renders !== server.renders) {
    throw new Error(`${server.label}: the handler rendered ${after.renders - server.renders} pages during the round, so not every request was a hit`);
  }
  const metrics: Record<string, number> = { 'server µs/req': (after.cpuMicros - before.cpuMicros) / result.requests };
  if (result.latency) {
    metrics['p50 ms'] = result.latency.p50Ms;
    metrics['p99 ms'] = result.latency.p99Ms;
  }
  return { opsPerSecond: result.requestsPerSecond, metrics };
}

function fastifyVersion(): string {
  return (createRequire(import.meta.url)('fastify/package.json') as { version: string }).version;
}

export default defineSuite({
  description:
    "@cachette/cache-http's per-site cache: a hit against the same handler uncached and against a constant handler, node:http and Fastify, under wrk",
  // wrk runs whole seconds: 5 rounds of 3 s per candidate after 1 s of warm-up, about 1.5 minutes.
  defaults: { rounds: 5, roundMs: 3000, warmupMs: 1000 },
  async setup() {
    const version = await wrkVersion();
    if (version === undefined) return { skipped: 'wrk not found (apt-get install wrk)' };
    const pinned = placement();
    console.log(
      `load: ${version}, ${THREADS} thread and ${CONNECTIONS} connections, GET / of a ${PAGE_BYTES}-byte HTML page; ` +
        (pinned.wrk === undefined ? 'placement left to the kernel' : `wrk on core ${pinned.wrk}, servers on core ${pinned.server}`) +
        `; Fastify ${fastifyVersion()}`,
    );
    const servers: ServerProcess[] = [];
    // Each server starts when its candidate's warm-up begins, so --case and --only start only the ones they run.
    const candidate = (framework: Framework, variant: Variant, name: string, frameworkName: string): MeasuredCandidate => {
      let ready: Promise<ReadyServer> | undefined;
      return {
        name,
        async measure(durationMs) {
          ready ??= readyServer(framework, variant, `${frameworkName} ${name}`, servers);
          return measureRound(await ready, durationMs);
        },
      };
    };
    const frameworkCase = (framework: Framework, frameworkName: string): BenchCase => ({
      name: `${frameworkName}, GET of a 2 KB page`,
      baseline: 'constant',
      target: { candidate: 'cache hit', minRatio: 0.8 },
      candidates: [
        candidate(framework, 'constant', 'constant', frameworkName),
        candidate(framework, 'uncached', 'uncached', frameworkName),
        candidate(framework, 'hit', 'cache hit', frameworkName),
      ],
    });
    return {
      cases: [frameworkCase('node', 'node:http'), frameworkCase('fastify', 'Fastify')],
      async teardown() {
        await Promise.all(servers.map((server) => server.stop()));
      },
    };
  },
});
