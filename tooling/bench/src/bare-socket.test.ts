import { encodeCommand } from '@cachette/cache-redis/client';
import { serverSkipReason, startRedis } from '@cachette/test-servers';
import { describe, expect, it } from 'vitest';
import { BareSocket, bulkReplyLength, respRequest } from './bare-socket';

const skip = await serverSkipReason('redis');

describe('respRequest', () => {
  it('writes the same bytes as the client encoder', () => {
    const value = Buffer.from([0, 13, 10, 255]);
    expect(respRequest('SET', 'clé', value)).toEqual(encodeCommand(['SET', 'clé', value]));
    expect(bulkReplyLength(100)).toBe('$100\r\n'.length + 100 + 2);
  });
});

describe.skipIf(skip)(`BareSocket against a real server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('resolves once the whole reply has arrived, and rejects when the server goes away', async () => {
    const server = await startRedis();
    const bare = await BareSocket.open(server);
    try {
      const value = 'v'.repeat(200_000);
      await bare.exchange(respRequest('SET', 'k', value), '+OK\r\n'.length);
      await bare.exchange(respRequest('GET', 'k'), bulkReplyLength(value.length));
      // Nothing is owed after a complete exchange: the next one gets exactly its own reply.
      await bare.exchange(respRequest('PING'), '+PONG\r\n'.length);
      const stalled = expect(bare.exchange(respRequest('GET', 'k'), bulkReplyLength(value.length) + 1)).rejects.toThrow(/closed/);
      await server.stop();
      await stalled;
    } finally {
      bare.close();
      await server.stop();
    }
  });
});
