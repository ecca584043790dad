import { hostPort } from './env.js';
import { exchange } from './probe.js';
import type { Endpoint } from './types.js';

/**
 * Just enough RESP2 to send one command and read its one reply, without a client library or a
 * redis-cli process per call (health checks poll several nodes many times a second).
 */
type Reply = string | number | null | Reply[] | ReplyError;

class ReplyError extends Error {}

const COMMAND_TIMEOUT_MS = 10_000;

const encodeCommand = (args: readonly string[]): string =>
  `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

interface Parsed {
  reply: Reply;
  end: number;
}

/** The reply that starts at `start`, or undefined while it has not all arrived. */
function parseReply(buffer: Buffer, start = 0): Parsed | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const end = lineEnd + 2;
  switch (buffer.toString('latin1', start, start + 1)) {
    case '+':
      return { reply: line, end };
    case '-':
      return { reply: new ReplyError(line), end };
    case ':':
      return { reply: Number(line), end };
    case '$':
      return parseBulk(buffer, Number(line), end);
    case '*':
      return parseArray(buffer, Number(line), end);
    default: // never thrown: this runs in the socket's data handler
      return { reply: new ReplyError(`a reply that is not RESP: ${JSON.stringify(buffer.toString('latin1', start, end))}`), end };
  }
}

function parseBulk(buffer: Buffer, length: number, start: number): Parsed | undefined {
  if (length < 0) return { reply: null, end: start };
  if (buffer.length < start + length + 2) return undefined;
  return { reply: buffer.toString('utf8', start, start + length), end: start + length + 2 };
}

function parseArray(buffer: Buffer, count: number, start: number): Parsed | undefined {
  if (count < 0) return { reply: null, end: start };
  const items: Reply[] = [];
  let end = start;
  while (items.length < count) {
    const item = parseReply(buffer, end);
    if (!item) return undefined;
    items.push(item.reply);
    end = item.end;
  }
  return { reply: items, end };
}

/** As `redis-cli --raw` prints a reply: arrays one element a line, nil as an empty string. */
function replyText(reply: Reply): string {
  if (Array.isArray(reply)) return reply.map(replyText).join('\n');
  if (reply instanceof ReplyError) return reply.message;
  return reply === null ? '' : String(reply);
}

/** Sends one command; resolves with the reply's text, rejects on an error reply or no reply. */
export async function redisCommand(target: Endpoint, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  const raw = await exchange(target, encodeCommand(args), (received) => parseReply(received) !== undefined, timeoutMs);
  const parsed = raw && parseReply(raw);
  if (!parsed) throw new Error(`${hostPort(target)} gave no reply to ${args.join(' ')} (refused, closed, or silent for ${timeoutMs / 1000} s)`);
  if (parsed.reply instanceof ReplyError) throw new Error(`${hostPort(target)} answered ${args.join(' ')} with ${parsed.reply.message}`);
  return replyText(parsed.reply);
}

/** `value` of a `field:value` line in INFO or CLUSTER INFO. */
export const infoField = (text: string, field: string): string | undefined => new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
