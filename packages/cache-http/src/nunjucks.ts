/**
 * Django's `{% cache %}` template tag for Nunjucks:
 * `{% cache timeout fragment_name vary_on... using="alias" %}…{% endcache %}`, storing the body
 * under Django's `makeTemplateFragmentKey`, so a Django site and this one share fragments.
 *
 * The cache is asynchronous, so the tag is too: render with a callback (`env.render(name, ctx, cb)`,
 * `env.renderString(src, ctx, cb)`) or with `renderAsync`/`renderStringAsync`. Nunjucks's
 * synchronous API cannot wait for an asynchronous tag and raises no error either: it returns
 * `null` (nunjucks 3.2.4), and an error the tag meets afterwards becomes an unhandled rejection.
 * Nunjucks turns `for` and `if` around the tag into their asynchronous forms itself; macros stay
 * synchronous, so a `{% cache %}` inside a macro renders nothing.
 *
 * Arguments are split at whitespace (or commas) outside brackets, as Django splits them;
 * parenthesise an argument that needs spaces: `(user.id ~ "-" ~ lang)`.
 */
import type { Environment, Extension } from 'nunjucks';
import { InvalidCacheBackendError, TemplateSyntaxError, pyRepr, pyStr, type BaseCache } from '@cachette/cache-core';
import { cacheFragment, fragmentCache } from '@cachette/cache-http';

/**
 * What a `{% cache %}` tag that cannot render throws (from `@cachette/cache-core`). Nunjucks wraps
 * it in its own Template render error, whose message includes this one; with `dev: true` it is the `cause`.
 */
export { TemplateSyntaxError };

// The parts of nunjucks's undocumented parser API used here (nunjucks/src/parser.js, lexer.js, nodes.js).
interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
type Node = object;
type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => Node;
interface Nodes {
  Literal: NodeClass;
  Array: NodeClass;
  Dict: NodeClass;
  Pair: NodeClass;
  NodeList: NodeClass;
  CallExtensionAsync: new (extension: Extension, method: string, args: Node, contentArgs: Node[]) => Node;
}
interface Parser {
  nextToken(withWhitespace?: boolean): Token | null;
  peekToken(): Token | null;
  pushToken(token: Token | null): void;
  fail(message: string, lineno?: number, colno?: number): never;
  parseExpression(): Node;
  parseUntilBlocks(...names: string[]): Node;
  advanceAfterBlockEnd(name?: string): Token;
}
type ParserClass = new (tokens: { nextToken(): Token | null }) => Parser;
type Callback = (error: unknown, output?: string) => void;
type Body = (callback: (error: unknown, output?: string | null) => void) => void;

/** What the compiled template passes to `CacheExtension.run` for one tag. */
interface CacheTagArguments {
  name: string;
  timeout: unknown;
  timeoutSource: string;
  varyOn: unknown[];
  using?: unknown;
  usingSource?: string;
}

const OPENING = new Set(['left-paren', 'left-bracket', 'left-curly']);
const CLOSING = new Set(['right-paren', 'right-bracket', 'right-curly']);

/** The tag's arguments, each a list of tokens (a quoted string is already one token). */
function readArguments(parser: Parser): Token[][] {
  const args: Token[][] = [[]];
  let depth = 0;
  let token = parser.nextToken(true);
  for (; token && token.type !== 'block-end'; token = parser.nextToken(true)) {
    if (depth === 0 && (token.type === 'whitespace' || token.type === 'comma')) args.push([]);
    else {
      if (OPENING.has(token.type)) depth += 1;
      else if (CLOSING.has(token.type)) depth -= 1;
      args.at(-1)!.push(token);
    }
  }
  // Give back the block end (or the template's end) for advanceAfterBlockEnd to check.
  parser.pushToken(token);
  return args.filter((tokens) => tokens.length > 0);
}

/** One argument parsed as a nunjucks expression, by a parser of nunjucks's own class reading only it. */
function expression(parser: Parser, tokens: Token[]): Node {
  const queue = [...tokens];
  const own = new (parser.constructor as ParserClass)({ nextToken: () => queue.shift() ?? null });
  const node = own.parseExpression();
  const extra = own.peekToken();
  if (extra) own.fail(`unexpected token in "cache" tag argument: ${extra.value}`, extra.lineno, extra.colno);
  return node;
}

/** The argument as written, for error messages. */
function sourceOf(tokens: Token[]): string {
  return tokens.map((token) => (token.type === 'string' ? JSON.stringify(token.value) : token.value)).join('');
}

/** The value of a final `using=…` argument, or undefined when the argument is not one. */
function usingValue(tokens: Token[]): Token[] | undefined {
  const [key, equals, ...value] = tokens;
  const isUsing = key?.type === 'symbol' && key.value === 'using' && equals?.type === 'operator' && equals.value === '=';
  return isUsing ? value : undefined;
}

/** The compiled template calls `run` with one object literal: build it from the tag's arguments. */
function tagArguments(parser: Parser, nodes: Nodes, args: Token[][], at: Token): Node {
  const using = args.length > 2 ? usingValue(args.at(-1)!) : undefined;
  const [timeout, name, ...varyOn] = using ? args.slice(0, -1) : args;
  const literal = (value: string): Node => new nodes.Literal(at.lineno, at.colno, value);
  const fields: Record<keyof CacheTagArguments, Node | undefined> = {
    // Django never resolves the name: it is the text as written (a quoted string: its contents).
    name: literal(name!.map((token) => token.value).join('')),
    timeout: expression(parser, timeout!),
    timeoutSource: literal(sourceOf(timeout!)),
    varyOn: new nodes.Array(at.lineno, at.colno, varyOn.map((tokens) => expression(parser, tokens))),
    using: using && expression(parser, using),
    usingSource: using && literal(sourceOf(using)),
  };
  const pairs = Object.entries(fields)
    .filter((entry): entry is [string, Node] => entry[1] !== undefined)
    .map(([key, value]) => new nodes.Pair(at.lineno, at.colno, literal(key), value));
  return new nodes.Dict(at.lineno, at.colno, pairs);
}

/** Python's `repr()`, for the values Django's messages show. */
function pyReprOf(value: unknown): string {
  return typeof value === 'string' ? pyRepr(value) : pyStr(value);
}

function known(value: unknown, source: string): unknown {
  if (value === undefined) throw new TemplateSyntaxError(`"cache" tag got an unknown variable: ${pyRepr(source)}`);
  return value;
}

const PY_INT_TEXT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

/** Python's `int(value)` for the values a template can hold, or undefined where Python raises. */
function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean' || typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && PY_INT_TEXT.test(value)) return Number(value.replaceAll('_', ''));
  return undefined;
}

function timeoutOf(tag: CacheTagArguments): number | null {
  const value = known(tag.timeout, tag.timeoutSource);
  if (value === null) return null;
  const seconds = pyInt(value);
  if (seconds === undefined) throw new TemplateSyntaxError(`"cache" tag got a non-integer timeout value: ${pyReprOf(value)}`);
  return seconds;
}

function cacheOf(tag: CacheTagArguments): BaseCache {
  if (tag.usingSource === undefined) return fragmentCache();
  const alias = known(tag.using, tag.usingSource);
  const invalid = (options?: ErrorOptions) => new TemplateSyntaxError(`Invalid cache name specified for cache tag: ${pyReprOf(alias)}`, options);
  // fragmentCache would take an object for a cache instance: a template names caches by alias only.
  if (typeof alias !== 'string') throw invalid();
  try {
    return fragmentCache(alias);
  } catch (error) {
    throw error instanceof InvalidCacheBackendError ? invalid({ cause: error }) : error;
  }
}

/** A nunjucks callback-style render as a promise. */
function promised(start: (callback: (error: unknown, output?: string | null) => void) => void): Promise<string> {
  return new Promise((resolve, reject) => start((error, output) => (error ? reject(error) : resolve(output ?? ''))));
}

async function renderTag(tag: CacheTagArguments, body: Body): Promise<string> {
  const timeout = timeoutOf(tag);
  const cache = cacheOf(tag);
  // Django resolves an unknown variable to '' (string_if_invalid): the same key as a Django site.
  const varyOn = tag.varyOn.map((value) => (value === undefined ? '' : value));
  return cacheFragment(tag.name, varyOn, timeout, () => promised(body), { using: cache });
}

/** The `{% cache %}` tag; `installCacheTag(env)` adds it. */
export class CacheExtension implements Extension {
  readonly tags = ['cache'];
  // The body was escaped as it rendered: escaping the fragment again would double it.
  readonly autoescape = false;

  parse(parser: Parser, nodes: Nodes): Node {
    const tag = parser.nextToken()!;
    const args = readArguments(parser);
    parser.advanceAfterBlockEnd(tag.value);
    // Django's message, quotes doubled as its `'%r'` makes them.
    if (args.length < 2) parser.fail(`'${pyRepr(tag.value)}' tag requires at least 2 arguments.`, tag.lineno, tag.colno);
    const call = new nodes.NodeList(tag.lineno, tag.colno, [tagArguments(parser, nodes, args, tag)]);
    const body = parser.parseUntilBlocks('endcache');
    parser.advanceAfterBlockEnd();
    return new nodes.CallExtensionAsync(this, 'run', call, [body]);
  }

  /** Called by the compiled template. The template's code after the tag runs inside `callback`. */
  run(_context: unknown, tag: CacheTagArguments, body: Body, callback: Callback): void {
    renderTag(tag, body).then(
      (output) => {
        // A throw there would otherwise be an unhandled rejection and the render would never end.
        try {
          callback(null, output);
        } catch (error) {
          callback(error);
        }
      },
      (error: unknown) => callback(error),
    );
  }
}

/** Adds the `{% cache %}` tag to `env`, returned for chaining. */
export function installCacheTag(env: Environment): Environment {
  return env.addExtension('CacheExtension', new CacheExtension());
}

/** `env.render(name, context, callback)` as a promise: how templates using `{% cache %}` render. */
export function renderAsync(env: Environment, name: string, context: object = {}): Promise<string> {
  return promised((callback) => env.render(name, context, callback));
}

/** `env.renderString(source, context, callback)` as a promise. */
export function renderStringAsync(env: Environment, source: string, context: object = {}): Promise<string> {
  return promised((callback) => env.renderString(source, context, callback));
}
