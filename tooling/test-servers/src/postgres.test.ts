import { describe, expect, it } from 'vitest';
import { serverSkipReason, startPostgres } from './index.js';
import { ask, connectOutcome, portIsFree, processesWith } from './test-helpers.js';

const skip = await serverSkipReason('postgres');

const PROTOCOL_3_0 = 196608;

/** A v3 StartupMessage: length, protocol, then NUL-terminated name/value pairs and a final NUL. */
function startupMessage(parameters: Record<string, string>): Buffer {
  const pairs = Buffer.from(`${Object.entries(parameters).flat().join('\0')}\0\0`);
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + pairs.length, 0);
  header.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([header, pairs]);
}

/** AuthenticationOk is 'R', length 8, code 0. */
const AUTHENTICATION_OK = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);

describe.skipIf(skip)(`startPostgres${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('starts a server that lets postgres log in without a password and is gone after stop', async () => {
    const server = await startPostgres();
    try {
      expect(server).toMatchObject({ kind: 'postgres', source: 'local', host: '127.0.0.1', url: `postgres://postgres@127.0.0.1:${server.port}/postgres` });
      const reply = await ask(server, startupMessage({ user: 'postgres', database: 'postgres' }), (received) => received.length >= 9);
      expect(reply.subarray(0, 9)).toEqual(AUTHENTICATION_OK);
      expect(processesWith('postgres', `-p`, String(server.port))).not.toEqual([]);
    } finally {
      await server.stop();
    }
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    expect(await portIsFree(server.port)).toBe(true);
    expect(processesWith('postgres', '-p', String(server.port))).toEqual([]);
  });
});
