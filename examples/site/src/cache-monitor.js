// What the /_cache panel shows, like Django debug toolbar's cache panel: per alias, hit rate,
// operations per second and latency p50/p99 over the last minute, and the cache calls of the last
// requests. Counts come from each cache's stats() (deltas, once a second), latencies of each
// second and the calls themselves from the cachette:operation diagnostics channel.
import { caches, operationChannel } from '@cachette/cache-core';

const HISTORY_SECONDS = 60;
const RECENT_CALLS = 40;

function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)];
}

export class CacheMonitor {
  #recent = [];
  #durations = new Map();
  #previous = new Map();
  #history = new Map();
  #listeners = new Set();
  #timer;
  #handlers;

  start() {
    const settled = (context) => {
      if (context.duration === undefined) return;
      this.#record(context);
    };
    const ignore = () => {};
    this.#handlers = { start: ignore, end: settled, asyncStart: ignore, asyncEnd: settled, error: ignore };
    operationChannel.subscribe(this.#handlers);
    this.#timer = setInterval(() => this.#sample(), 1000);
    this.#timer.unref();
  }

  stop() {
    clearInterval(this.#timer);
    if (this.#handlers) operationChannel.unsubscribe(this.#handlers);
    this.#listeners.clear();
  }

  /** Called with a snapshot every second (server-sent events); returns the unsubscribe function. */
  onSample(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #record(context) {
    const alias = context.alias ?? context.backend;
    this.#recent.unshift({
      at: new Date().toISOString(),
      alias,
      operation: context.operation,
      key: context.key ?? `${context.keys} keys`,
      outcome: context.error !== undefined ? 'error' : context.hits ? 'hit' : context.misses ? 'miss' : '',
      milliseconds: Number(context.duration.toFixed(3)),
    });
    this.#recent.length = Math.min(this.#recent.length, RECENT_CALLS);
    if (!this.#durations.has(alias)) this.#durations.set(alias, []);
    this.#durations.get(alias).push(context.duration);
  }

  /** One point per alias: what happened in the last second. */
  #sample() {
    const now = Date.now();
    for (const [alias, stats] of Object.entries(caches.stats())) {
      const operations = Object.values(stats.operations).reduce((sum, operation) => sum + operation.count, 0);
      const before = this.#previous.get(alias) ?? { operations: 0, hits: 0, misses: 0 };
      this.#previous.set(alias, { operations, hits: stats.hits, misses: stats.misses });
      const hits = stats.hits - before.hits;
      const misses = stats.misses - before.misses;
      const durations = (this.#durations.get(alias) ?? []).sort((a, b) => a - b);
      this.#durations.set(alias, []);
      const point = {
        at: now,
        opsPerSecond: operations - before.operations,
        hitRate: hits + misses === 0 ? null : hits / (hits + misses),
        p50: percentile(durations, 0.5),
        p99: percentile(durations, 0.99),
      };
      const history = this.#history.get(alias) ?? [];
      history.push(point);
      if (history.length > HISTORY_SECONDS) history.shift();
      this.#history.set(alias, history);
    }
    const snapshot = this.snapshot();
    for (const listener of this.#listeners) listener(snapshot);
  }

  /** Totals and history per alias, and the latest calls. */
  snapshot() {
    const aliases = {};
    for (const [alias, stats] of Object.entries(caches.stats())) {
      const lookups = stats.hits + stats.misses;
      aliases[alias] = {
        hits: stats.hits,
        misses: stats.misses,
        sets: stats.sets,
        deletes: stats.deletes,
        errors: stats.errors,
        hitRate: lookups === 0 ? null : stats.hits / lookups,
        operations: stats.operations,
        history: this.#history.get(alias) ?? [],
      };
    }
    return { at: Date.now(), aliases, recent: this.#recent };
  }
}
