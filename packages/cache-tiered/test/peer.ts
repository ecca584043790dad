// The other process of the two-process tests (see peer-process.ts): a TieredCache over the Redis
// at argv[2], answering one JSON request per stdin line with one JSON reply per stdout line.
import { RedisCache } from '@cachette/cache-redis';
import { TieredCache, type TieredCacheOptions } from '../src/index';
import { roundTrip } from './round-trip';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  method: 'get' | 'set' | 'delete' | 'tierStats' | 'roundTrip';
  args: unknown[];
}

const [url, invalidation] = process.argv.slice(2) as [string, TieredCacheOptions['invalidation']];
const cache = new TieredCache({
  keyPrefix: 'two',
  options: { shared: { backend: RedisCache, location: url, options: { clientName: 'tiered-peer' } }, invalidation },
});

async function answer({ method, args }: Request): Promise<unknown> {
  switch (method) {
    case 'get':
      return (await cache.get(args[0] as string)) ?? null;
    case 'set':
      return cache.set(args[0] as string, args[1], args[2] as number | undefined);
    case 'delete':
      return cache.delete(args[0] as string);
    case 'tierStats':
      return cache.tierStats();
    case 'roundTrip':
      return roundTrip(cache).then(() => null);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request;
  answer(request).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: request.id, result: result ?? null })}\n`),
    (error: Error) => process.stdout.write(`${JSON.stringify({ id: request.id, error: `${error.name}: ${error.message}` })}\n`),
  );
}
await cache.close();
