import type { BaseCache } from '@cachette/cache-core';
import type { BenchCase, Candidate } from './harness';

/**
 * The workload the network suites share: a fixed key set, batches of 100 keys for getMany, and
 * one shape of client ("contender") so a case lists candidates by name only.
 */

// A power of two, so candidates pick keys with a mask instead of a division.
export const KEY_COUNT = 1024;
export const KEY_MASK = KEY_COUNT - 1;
export const MANY_SIZE = 100;

export const benchKeys = Array.from({ length: KEY_COUNT }, (_, index) => `bench:${index}`);
export const manyKeys = Array.from({ length: KEY_COUNT }, (_, start) =>
  Array.from({ length: MANY_SIZE }, (_, offset) => benchKeys[(start + offset) & KEY_MASK]!),
);

/** The same operations on every client; `Value` is what the suite stores (a string or a Buffer). */
export interface Contender<Value> {
  name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: Value): Promise<unknown>;
  getMany(keys: string[]): Promise<unknown>;
}

/** A Cachette cache as a contender: values never expire, so every read of the set stays a hit. */
export function cacheContender<Value>(name: string, cache: BaseCache): Contender<Value> {
  return { name, get: (key) => cache.get(key), set: (key, value) => cache.set(key, value, null), getMany: (batch) => cache.getMany(batch) };
}

export function candidates<Value>(
  contenders: ReadonlyArray<Contender<Value>>,
  operation: (contender: Contender<Value>) => Candidate['run'],
): Candidate[] {
  return contenders.map((contender) => ({ name: contender.name, run: operation(contender) }));
}

/** Each call reads the next key of the set. */
export function getEachKey<Value>(contender: Contender<Value>): Candidate['run'] {
  return (i) => contender.get(benchKeys[i & KEY_MASK]!);
}

/** Each call writes `value` under the next key of the set. */
export function setEachKey<Value>(value: Value): (contender: Contender<Value>) => Candidate['run'] {
  return (contender) => (i) => contender.set(benchKeys[i & KEY_MASK]!, value);
}

/** Each call reads the next batch of MANY_SIZE keys. */
export function getManyEachBatch<Value>(contender: Contender<Value>): Candidate['run'] {
  return (i) => contender.getMany(manyKeys[i & KEY_MASK]!);
}

/** Who a case compares against and what it must reach. */
interface Comparison {
  baseline: string;
  target: { candidate: string; minRatio: number };
}

export const IN_FLIGHT = 50;

/**
 * The four 100-byte cases every network suite measures (the issues' targets: one at a time at
 * least the fastest peer, 50 in flight at least 1.2× it).
 */
export function smallValueCases<Value>(
  contenders: ReadonlyArray<Contender<Value>>,
  smallValue: Value,
  oneAtATime: Comparison,
  inFlight: Comparison,
): BenchCase[] {
  const set = setEachKey(smallValue);
  return [
    { name: 'GET 100 B, one at a time', ...oneAtATime, candidates: candidates(contenders, getEachKey) },
    { name: 'SET 100 B, one at a time', ...oneAtATime, candidates: candidates(contenders, set) },
    { name: `GET 100 B, ${IN_FLIGHT} in flight`, ...inFlight, concurrency: IN_FLIGHT, candidates: candidates(contenders, getEachKey) },
    { name: `SET 100 B, ${IN_FLIGHT} in flight`, ...inFlight, concurrency: IN_FLIGHT, candidates: candidates(contenders, set) },
  ];
}

/** The culling case's cap: below the key set, so writes keep culling once the store is full. */
export const CULLING_MAX_ENTRIES = 512;

/**
 * The four cases of the suites over a local store (file, SQLite), each against one peer: get,
 * set and getMany of 100 B values, and set by a cache capped at `CULLING_MAX_ENTRIES` (`culling`,
 * a contender named `cachette culling`) against the peer's plain set, as the peers never cull.
 * Every case targets at least the peer's rate.
 */
export function localStoreCases(cachette: Contender<string>, culling: Contender<string>, peer: Contender<string>, value: string): BenchCase[] {
  const target = { candidate: cachette.name, minRatio: 1 };
  const contenders = [cachette, peer];
  return [
    { name: 'get 100 B hit', baseline: peer.name, target, candidates: candidates(contenders, getEachKey) },
    { name: 'set 100 B', baseline: peer.name, target, candidates: candidates(contenders, setEachKey(value)) },
    { name: `getMany of ${MANY_SIZE} hits`, baseline: peer.name, target, candidates: candidates(contenders, getManyEachBatch) },
    {
      name: `set 100 B, culling at maxEntries ${CULLING_MAX_ENTRIES}`,
      baseline: peer.name,
      target: { candidate: culling.name, minRatio: 1 },
      candidates: candidates([culling, peer], setEachKey(value)),
    },
  ];
}
