// One small site, written once and mounted on each framework through its adapter, so every
// adapter is held to the same scenarios (see scenarios.ts).

/** What a route answers, independent of the framework. */
export interface RouteResult {
  status?: number;
  headers?: Array<[string, string]>;
  /** A string or bytes sent at once, or chunks streamed one by one. */
  body: string | Uint8Array | { chunks: Uint8Array[] };
}

export interface SiteRequest {
  method: string;
  path: string;
  header(name: string): string | undefined;
}

export const BIG_CHUNK = new Uint8Array(256 * 1024).map((_, index) => index % 251);
export const BIG_CHUNKS = 6; // 1.5 MiB: over the default 1 MiB limit

/** How many times each route ran: a hit does not run it. */
export class Site {
  readonly calls = new Map<string, number>();

  private count(path: string): number {
    const next = (this.calls.get(path) ?? 0) + 1;
    this.calls.set(path, next);
    return next;
  }

  handle(request: SiteRequest): RouteResult {
    const call = this.count(request.path);
    switch (request.path) {
      case '/page':
        return { headers: [['Content-Type', 'text/html; charset=utf-8']], body: `<p>page ${call}</p>` };
      case '/language': {
        const language = request.header('accept-language')?.startsWith('fr') ? 'fr' : 'en';
        return { headers: [['Vary', 'Accept-Language'], ['Content-Language', language]], body: `${language === 'fr' ? 'bonjour' : 'hello'} ${call}` };
      }
      case '/user':
        return { headers: [['Vary', 'Cookie']], body: `user ${request.header('cookie') ?? 'anonymous'} ${call}` };
      case '/login':
        return { headers: [['Set-Cookie', `session=${call}; HttpOnly`], ['Set-Cookie', 'theme=dark']], body: `logged in ${call}` };
      case '/tagged':
        return { headers: [['ETag', '"v1"'], ['Link', '</a.css>; rel=preload'], ['Link', '</b.js>; rel=preload']], body: `tagged ${call}` };
      case '/big':
        return { body: { chunks: Array.from({ length: BIG_CHUNKS }, () => BIG_CHUNK) } };
      case '/chunked':
        return { body: { chunks: [new TextEncoder().encode('first '), new TextEncoder().encode(`second ${call}`)] } };
      case '/binary':
        return { headers: [['Content-Type', 'application/octet-stream']], body: Uint8Array.from({ length: 256 }, (_, index) => index) };
      case '/missing':
        return { status: 404, body: `not found ${call}` };
      default:
        return { status: 404, body: 'no such route' };
    }
  }
}

export function bodyBytes(body: RouteResult['body']): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  return Buffer.concat(body.chunks);
}
