import net from 'node:net';
import type { TestServer } from '@cachette/test-servers';

// Another crawl (memcached's own LRU crawler, say) is running: ask again shortly.
const CRAWLER_BUSY = /^BUSY /;
const BUSY_RETRY_MS = 20;

function metadump(server: TestServer): Promise<string> {
  const socket = net.connect(server.port, '127.0.0.1');
  return new Promise<string>((resolve, reject) => {
    let reply = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.endsWith('END\r\n') || (CRAWLER_BUSY.test(reply) && reply.endsWith('\r\n'))) resolve(reply);
    });
    // `hash` walks the hash table: `all` walks the LRUs and can miss an item that moves between
    // LRU segments during the walk (a key just written, then read).
    socket.write('lru_crawler metadump hash\r\n');
  }).finally(() => socket.destroy());
}

/**
 * The live keys on one memcached server, sorted, read over a raw connection of its own with
 * `lru_crawler metadump hash`, which leaves out expired and flushed items (`stats` `curr_items`
 * still counts flushed items until memcached reclaims them, so it would change by itself).
 */
export async function liveKeys(server: TestServer): Promise<string[]> {
  for (;;) {
    const reply = await metadump(server);
    if (!CRAWLER_BUSY.test(reply)) return [...reply.matchAll(/^key=(\S+) /gm)].map(([, key]) => decodeURIComponent(key!)).sort();
    await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
  }
}

/** How many live items one memcached server holds (see `liveKeys`). */
export async function liveItemCount(server: TestServer): Promise<number> {
  return (await liveKeys(server)).length;
}
