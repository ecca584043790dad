// HTTP/1.1 over a bare socket: the request target and headers go out byte for byte as written
// (fetch() and undici would normalise the target, merge headers and refuse odd values).
import { connect } from 'node:net';

/** A header as sent or received: name and value, in order, repeats kept. */
export type RawHeader = readonly [name: string, value: string];

export interface RawRequest {
  method: string;
  /** The request target exactly as it goes on the request line. */
  target: string;
  headers?: readonly RawHeader[];
  body?: string;
}

export interface RawResponse {
  status: number;
  headers: RawHeader[];
  /** The body, de-chunked. */
  body: Buffer;
}

/**
 * The request's bytes: request line, the headers in order, `Connection: close` (and a
 * `Content-Length` when there is a body). Strings go out as Latin-1, one byte per character.
 */
export function requestBytes({ method, target, headers = [], body }: RawRequest): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`, 'latin1');
}

/** The first value of a header (case-insensitive name), or `null`. */
export function headerValue(response: RawResponse, name: string): string | null {
  const wanted = name.toLowerCase();
  return response.headers.find(([header]) => header.toLowerCase() === wanted)?.[1] ?? null;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) throw new Error('truncated chunked body');
    const size = parseInt(data.toString('latin1', offset, lineEnd).split(';')[0]!, 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** Parses a whole response (the server closed the connection after it). */
export function parseResponse(data: Buffer, method: string): RawResponse {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`incomplete response head: ${JSON.stringify(data.toString('latin1'))}`);
  const [statusLine, ...headerLines] = data.toString('latin1', 0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (!status) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`);
  const headers = headerLines.map((line): RawHeader => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const rest = data.subarray(headEnd + 4);
  const response: RawResponse = { status: Number(status[1]), headers, body: rest };
  if (method === 'HEAD') response.body = Buffer.alloc(0);
  else if (headerValue(response, 'transfer-encoding')?.toLowerCase() === 'chunked') response.body = dechunk(rest);
  return response;
}

/** Sends the request to `host:port` and reads until the server closes the connection. */
export function sendRaw(port: number, request: RawRequest, host = '127.0.0.1', timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no complete response from ${host}:${port} in ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(requestBytes(request)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (hadError) return;
      try {
        resolve(parseResponse(Buffer.concat(chunks), request.method));
      } catch (error) {
        reject(error);
      }
    });
  });
}
