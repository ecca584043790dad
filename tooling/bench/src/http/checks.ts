import type { IncomingHttpHeaders } from 'node:http';

/** A response as node's client saw it, with its size on the wire. */
export interface FetchedPage {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Status line, header lines and body, in bytes (what wrk counts as read for this response). */
  readonly wireBytes: number;
}

/**
 * The bytes of a response without chunked encoding: `HTTP/1.1 <status> <message>\r\n`, each raw
 * header as `name: value\r\n`, an empty line, the body.
 */
export function wireSize(status: number, statusMessage: string, rawHeaders: readonly string[], bodyBytes: number): number {
  let size = Buffer.byteLength(`HTTP/1.1 ${status} ${statusMessage}\r\n\r\n`);
  for (let index = 0; index < rawHeaders.length; index += 2) size += Buffer.byteLength(`${rawHeaders[index]}: ${rawHeaders[index + 1]}\r\n`);
  return size + bodyBytes;
}

export interface PageExpectation {
  readonly body: string;
  /** The response must come from the page cache (an `Age` header), or must not. */
  readonly fromCache: boolean;
}

/** Why a response is not the page the benchmark means to measure (empty when it is). */
export function responseProblems(page: FetchedPage, expected: PageExpectation): string[] {
  const problems: string[] = [];
  if (page.status !== 200) problems.push(`status ${page.status}, not 200`);
  if (!String(page.headers['content-type'] ?? '').startsWith('text/html')) problems.push(`content-type '${page.headers['content-type']}', not text/html`);
  if (page.headers['transfer-encoding'] !== undefined) problems.push(`transfer-encoding '${page.headers['transfer-encoding']}': the body should have a content-length`);
  if (page.body !== expected.body) problems.push(`a body of ${Buffer.byteLength(page.body)} bytes that is not the page (${Buffer.byteLength(expected.body)} bytes)`);
  const age = page.headers.age;
  if (expected.fromCache && age === undefined) problems.push('no Age header: the page did not come from the cache');
  if (!expected.fromCache && age !== undefined) problems.push(`an Age header (${age}): the page came from a cache`);
  return problems;
}
