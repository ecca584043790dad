import { describe, expect, it } from 'vitest';
import { serverSkipReason, startMemcached } from './index.js';
import { ask, connectOutcome, endsWithCrlf, portIsFree, processesWith, stoppedAfterAll } from './test-helpers.js';

const skip = await serverSkipReason('memcached', { control: true, unixSocket: true });
const saslSkip = await serverSkipReason('memcached', { sasl: true });

const version = (target: { port: number } | { path: string }) => ask(target, 'version\r\n', endsWithCrlf).then(String);

const HEADER = 24;
const isWholeBinaryResponse = (received: Buffer) => received.length >= HEADER && received.length >= HEADER + received.readUInt32BE(8);

/** A binary-protocol request: 24-byte header (magic 0x80), then key and value. */
function binaryRequest(opcode: number, key: string, value = ''): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(Buffer.byteLength(key), 2);
  header.writeUInt32BE(Buffer.byteLength(key) + Buffer.byteLength(value), 8);
  return Buffer.concat([header, Buffer.from(key), Buffer.from(value)]);
}

const SASL_AUTH = 0x21;
const GET = 0x00;
const STATUS_OK = 0x0000;
const STATUS_AUTH_ERROR = 0x0020;

const binaryStatus = (server: { port: number }, request: Buffer) =>
  ask(server, request, isWholeBinaryResponse).then((reply) => reply.readUInt16BE(6));

const start = stoppedAfterAll(startMemcached);

describe.skipIf(skip)(`startMemcached${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('starts a server that answers on loopback and is gone after stop', async () => {
    const server = await start();
    expect(server).toMatchObject({ kind: 'memcached', source: 'local', host: '127.0.0.1', url: `127.0.0.1:${server.port}` });
    expect(await version(server)).toMatch(/^VERSION \d/);
    expect(processesWith('memcached', String(server.port))).toHaveLength(1);

    await server.stop();
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    expect(await portIsFree(server.port)).toBe(true);
    expect(processesWith('memcached', String(server.port))).toEqual([]);
  });

  it('restarts on the same port after a kill', async () => {
    const server = await start();
    await server.kill();
    expect(await connectOutcome(server.port)).toBe('ECONNREFUSED');
    await server.restart();
    expect(await version(server)).toMatch(/^VERSION/);
  });

  it('listens only on a unix socket when asked', async () => {
    const server = await start({ unixSocket: true });
    expect(server.url).toBe(`unix:${server.socketPath}`);
    expect(await version({ path: server.socketPath ?? '' })).toMatch(/^VERSION/);
  });

  it('passes extra args', async () => {
    const server = await start({ args: ['-I', '2m'] });
    const stats = String(await ask(server, 'stats settings\r\n', (received) => received.includes('END\r\n')));
    expect(stats).toContain('STAT item_size_max 2097152\r\n');
  });
});

describe.skipIf(saslSkip)(`startMemcached with SASL${saslSkip ? ` (skipped: ${saslSkip})` : ''}`, () => {
  it('accepts the given user with SASL PLAIN and refuses others', async () => {
    const server = await start({ sasl: { username: 'cachette', password: 'sesame' } });
    expect(await binaryStatus(server, binaryRequest(GET, 'some-key'))).toBe(STATUS_AUTH_ERROR);
    expect(await binaryStatus(server, binaryRequest(SASL_AUTH, 'PLAIN', '\0cachette\0wrong'))).toBe(STATUS_AUTH_ERROR);
    expect(await binaryStatus(server, binaryRequest(SASL_AUTH, 'PLAIN', '\0cachette\0sesame'))).toBe(STATUS_OK);
  });
});
