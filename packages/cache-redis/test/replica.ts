import { startRedis, type RedisTestServer } from '@cachette/test-servers';
import { RedisClient } from '../src/client';

/** A real replica of `primary`, returned once its initial sync is done. */
export async function startReplica(primary: RedisTestServer): Promise<RedisTestServer> {
  const replica = await startRedis({ args: ['--replicaof', primary.host, String(primary.port)] });
  const client = new RedisClient({ url: replica.url });
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await client.info('replication')).includes('master_link_status:up')) return replica;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Redis replica ${replica.url} did not sync with ${primary.url} within 10 s`);
  } finally {
    await client.close();
  }
}
