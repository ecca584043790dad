const ERROR_KINDS = Symbol.for('cachette.errorKinds');

/**
 * Base class of every error Cachette throws.
 *
 * `instanceof` checks compare class names recorded on the instance rather than object identity,
 * so an error thrown by the CommonJS copy of this package is still recognised by code that
 * imported the ES module copy (the dual-package hazard a registry that `require`s backends
 * would otherwise create).
 */
export class CacheError extends Error {
  declare readonly [ERROR_KINDS]: readonly string[];

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    const kinds: string[] = [];
    for (let type: unknown = new.target; typeof type === 'function' && type !== Error; type = Object.getPrototypeOf(type)) {
      kinds.push((type as { name: string }).name);
    }
    Object.defineProperty(this, ERROR_KINDS, { value: kinds });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as { [ERROR_KINDS]?: unknown })[ERROR_KINDS];
    return Array.isArray(kinds) && kinds.includes(this.name);
  }
}

/** A cache configuration names a backend that cannot be loaded, or an alias that is not configured. */
export class InvalidCacheBackendError extends CacheError {}

/**
 * A configuration names an option, setting key or URL query parameter the backend does not know
 * (a typo, most often): refused rather than ignored, so the cache never runs on defaults the
 * user did not choose. The message names the unknown name, the nearest known one when one is
 * close, and every known name.
 */
export class UnknownCacheOptionError extends InvalidCacheBackendError {
  constructor(
    /** The name given. */
    readonly unknownName: string,
    /** Every name known where it was given. */
    readonly knownNames: readonly string[],
    /** The known name closest to the unknown one, when one is close enough to be a likely typo. */
    readonly suggestion: string | undefined,
    /** What was given and where: `option for LocMemCache`, `query parameter in the cache URL '…'`. */
    where: { kind: string; place: string },
  ) {
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    super(`Unknown ${where.kind} '${unknownName}' ${where.place}${hint}. Known ${where.kind}s: ${knownNames.join(', ') || 'none'}`);
  }
}

/** A key the backend cannot store safely (memcached: too long, whitespace or control characters). */
export class InvalidCacheKey extends CacheError {}

/**
 * Emitted through `process.emitWarning` (type `CacheKeyWarning`) for keys that would break on
 * memcached. Silence it with `node --disable-warning=CacheKeyWarning`.
 */
export class CacheKeyWarning extends CacheError {}

/** `incr`, `decr`, `incrVersion` or `decrVersion` on a key that is missing or expired (Django: ValueError). */
export class KeyNotFoundError extends CacheError {
  constructor(readonly key: string) {
    super(`Key '${key}' not found`);
  }
}

/** `incr`/`decr` on a value that is not an integer, or a result outside the safe integer range. */
export class NonNumericValueError extends CacheError {
  constructor(readonly key: string, detail = 'the stored value is not an integer') {
    super(`Cannot increment key '${key}': ${detail}`);
  }
}

/** A value the configured serializer cannot store (functions, symbols, …), or stored bytes it cannot read. */
export class SerializationError extends CacheError {}

/** A value larger than the backend accepts; nothing was stored and no stale value is left behind. */
export class ValueTooLargeError extends CacheError {}

/** An operation the backend cannot do, because its store cannot answer it (`ttl` on memcached's binary protocol). */
export class NotSupportedError extends CacheError {}

/** The backend's server could not be reached, or the connection was lost before a reply arrived. */
export class CacheConnectionError extends CacheError {}

/** The backend did not answer within the configured time. */
export class CacheTimeoutError extends CacheError {}

/** The backend answered something the protocol does not allow, or an error reply. */
export class CacheProtocolError extends CacheError {}

/** A template tag that cannot render or parse (Django's `TemplateSyntaxError`), e.g. `{% cache %}` with a bad timeout. */
export class TemplateSyntaxError extends CacheError {}

/**
 * A request whose `Host` is malformed or not allowed (Django's `DisallowedHost`); answered with
 * 400. `status` and `statusCode` say so to frameworks' error handlers (Express, Fastify).
 */
export class DisallowedHost extends CacheError {
  readonly status = 400;
  readonly statusCode = 400;
}
