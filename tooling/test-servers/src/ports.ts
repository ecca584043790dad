import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Below this, ports tend to belong to system services. */
const LOWEST_TEST_PORT = 10_000;
const RANDOM_PORT_ATTEMPTS = 20;

/** The first port the kernel hands out for bind(0) and outgoing connections (Linux's default elsewhere). */
function ephemeralPortStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds `port` on 127.0.0.1 (0: any) and releases it; resolves the port bound, or undefined. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1 (the server may still lose a race for it).
 * Chosen at random below the ephemeral range, where neither the kernel's bind(0) nor outgoing
 * connections take ports: a stopped server's port then stays free for checks and restarts.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralPortStart();
  for (let attempt = 0; attempt < RANDOM_PORT_ATTEMPTS && below > LOWEST_TEST_PORT; attempt += 1) {
    const candidate = LOWEST_TEST_PORT + Math.floor(Math.random() * (below - LOWEST_TEST_PORT));
    if ((await tryBind(candidate)) !== undefined) return candidate;
  }
  const port = await tryBind(0);
  if (port === undefined) throw new Error('No free port on 127.0.0.1');
  return port;
}
