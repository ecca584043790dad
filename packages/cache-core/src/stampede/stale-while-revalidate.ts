/**
 * A value stored with a soft expiry, by `getOrSet(..., { staleWhileRevalidate })`: past
 * `freshUntil` it is still served while one caller refreshes it. Plain data with a string key,
 * so every serializer carries it (the JSON one too); `get` and `getMany` hand out `value`.
 */
export interface StaleEnvelope {
  readonly 'cachette:swr': 1;
  readonly value: unknown;
  /** Epoch milliseconds. */
  readonly freshUntil: number;
}

const MARK = 'cachette:swr';

export function wrapStale(value: unknown, freshUntil: number): StaleEnvelope {
  return { [MARK]: 1, value, freshUntil };
}

export function isStaleEnvelope(value: unknown): value is StaleEnvelope {
  return typeof value === 'object' && value !== null && (value as { [MARK]?: unknown })[MARK] === 1;
}

/** What a reader gets of a stored value: the value inside an envelope, anything else as it is. */
export function unwrapStale(value: unknown): unknown {
  return isStaleEnvelope(value) ? value.value : value;
}
