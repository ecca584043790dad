import { describe, expect, it } from 'vitest';
import { responseProblems, wireSize, type FetchedPage } from './checks';

const BODY = '<!doctype html><p>page</p>';

function page(overrides: Partial<FetchedPage> = {}): FetchedPage {
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-length': String(BODY.length) }, body: BODY, wireBytes: 0, ...overrides };
}

describe('wireSize', () => {
  it('counts the status line, each raw header line, the empty line and the body', () => {
    const raw = ['Content-Type', 'text/html', 'Content-Length', '26'];
    const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 26\r\n\r\n';
    expect(wireSize(200, 'OK', raw, 26)).toBe(text.length + 26);
  });
});

describe('responseProblems', () => {
  it('accepts the page, from the cache or not as expected', () => {
    expect(responseProblems(page(), { body: BODY, fromCache: false })).toEqual([]);
    expect(responseProblems(page({ headers: { 'content-type': 'text/html', age: '0' } }), { body: BODY, fromCache: true })).toEqual([]);
  });

  it('rejects another status, another body or another content type', () => {
    const problems = responseProblems(page({ status: 400, body: '<h1>Bad Request (400)</h1>', headers: { 'content-type': 'text/plain' } }), { body: BODY, fromCache: false });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe('status 400, not 200');
  });

  it('rejects a hit without Age and an uncached response with it', () => {
    expect(responseProblems(page(), { body: BODY, fromCache: true })).toEqual(['no Age header: the page did not come from the cache']);
    expect(responseProblems(page({ headers: { 'content-type': 'text/html', age: '3' } }), { body: BODY, fromCache: false })).toEqual([
      'an Age header (3): the page came from a cache',
    ]);
  });

  it('rejects a chunked body', () => {
    expect(responseProblems(page({ headers: { 'content-type': 'text/html', 'transfer-encoding': 'chunked' } }), { body: BODY, fromCache: false })).toHaveLength(1);
  });
});
