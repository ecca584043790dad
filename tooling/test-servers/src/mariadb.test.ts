import { describe, expect, it } from 'vitest';
import { serverSkipReason, startMariaDb } from './index.js';
import { connectOutcome, openRaw, portIsFree, processesWith } from './test-helpers.js';

const skip = await serverSkipReason('mariadb');

const isWholePacket = (received: Buffer) => received.length >= 4 && received.length >= 4 + received.readUIntLE(0, 3);

const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SECURE_CONNECTION = 0x8000;
const UTF8_GENERAL_CI = 33;

/** A HandshakeResponse41 with an empty password, asking for `database`; sequence id 1. */
function loginPacket(user: string, database: string): Buffer {
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, 0);
  fixed.writeUInt32LE(1 << 24, 4);
  fixed[8] = UTF8_GENERAL_CI;
  const payload = Buffer.concat([fixed, Buffer.from(`${user}\0`), Buffer.from([0]), Buffer.from(`${database}\0`)]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = 1;
  return Buffer.concat([header, payload]);
}

/** Logs in over raw TCP; resolves the first payload byte of the reply: 0x00 OK, 0xff error. */
async function login(port: number, database: string): Promise<number | undefined> {
  const connection = await openRaw({ port });
  try {
    await connection.read(isWholePacket);
    connection.write(loginPacket('root', database));
    return (await connection.read(isWholePacket))[4];
  } finally {
    connection.close();
  }
}

describe.skipIf(skip)(`startMariaDb${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('starts a server where root logs into cachette_test without a password, gone after stop', async () => {
    const server = await startMariaDb();
    try {
      expect(server).toMatchObject({ kind: 'mariadb', source: 'local', host: '127.0.0.1', url: `mysql://root@127.0.0.1:${server.port}/cachette_test` });
      expect(await login(server.port, 'cachette_test')).toBe(0x00);
      expect(await login(server.port, 'no_such_database')).toBe(0xff);
      expect(processesWith(`--port=${server.port}`)).toHaveLength(1);
    } finally {
      await server.stop();
    }
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    expect(await portIsFree(server.port)).toBe(true);
    expect(processesWith(`--port=${server.port}`)).toEqual([]);
  });
});
