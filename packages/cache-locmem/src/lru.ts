const NO_SLOT = -1;
const INITIAL_CAPACITY = 64;

/** An expiry that never comes: compares greater than every time. */
export const NEVER = Infinity;

/**
 * Entries in least-recently-used order, without an object per entry.
 *
 * Each entry lives in a numbered slot of parallel arrays (key, value, expiry, and the two links of
 * a doubly linked list kept in typed arrays); a `Map` finds a key's slot. Reading an entry and
 * marking it used only moves numbers between typed arrays, so a cache hit allocates nothing.
 * Freed slots are reused from a stack; the arrays double when every slot is taken.
 */
export class LruStore {
  private readonly slots = new Map<string, number>();
  private keys: Array<string | undefined> = [];
  /** What the cache stored: a value kept as is, or its serialized copy. Read by slot; write with `set` or `replaceValue`. */
  values: unknown[] = [];
  /**
   * A resolved Promise of the value, made by the first hit that can share it and kept until the
   * value changes, so later hits allocate no Promise.
   */
  settledValues: Array<Promise<unknown> | undefined> = [];
  /** Absolute expiry in epoch seconds, `NEVER` for none. Read by slot. */
  expiries = new Float64Array(INITIAL_CAPACITY);
  private newer = new Int32Array(INITIAL_CAPACITY);
  private older = new Int32Array(INITIAL_CAPACITY);
  private freeSlots: number[] = [];
  private unusedSlot = 0;
  private newest = NO_SLOT;
  private oldest = NO_SLOT;

  get size(): number {
    return this.slots.size;
  }

  /** The slot holding `key`, or `undefined`. Does not change the order. */
  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  /** The key held in `slot` (`undefined` for a free or unknown slot). */
  keyAt(slot: number): string | undefined {
    return this.keys[slot];
  }

  /** Stores `key` as the most recently used entry, replacing what it held; returns its slot. */
  set(key: string, value: unknown, expiry: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.takeSlot();
      this.slots.set(key, slot);
      this.keys[slot] = key;
      this.linkAsNewest(slot);
    } else {
      this.markUsed(slot);
    }
    this.replaceValue(slot, value);
    this.expiries[slot] = expiry;
    return slot;
  }

  /** Changes the value in `slot`, keeping its expiry and place. */
  replaceValue(slot: number, value: unknown): void {
    this.values[slot] = value;
    this.settledValues[slot] = undefined;
  }

  /** Makes the entry in `slot` the most recently used one. */
  markUsed(slot: number): void {
    if (slot === this.newest) return;
    this.unlink(slot);
    this.linkAsNewest(slot);
  }

  /** Removes the entry in `slot` and frees the slot. */
  remove(slot: number): void {
    this.slots.delete(this.keys[slot]!);
    this.unlink(slot);
    this.keys[slot] = undefined;
    this.replaceValue(slot, undefined);
    this.freeSlots.push(slot);
  }

  /** Removes up to `count` of the least recently used entries. */
  removeOldest(count: number): void {
    for (let removed = 0; removed < count && this.oldest !== NO_SLOT; removed++) this.remove(this.oldest);
  }

  clear(): void {
    this.slots.clear();
    this.keys = [];
    this.values = [];
    this.settledValues = [];
    this.expiries = new Float64Array(INITIAL_CAPACITY);
    this.newer = new Int32Array(INITIAL_CAPACITY);
    this.older = new Int32Array(INITIAL_CAPACITY);
    this.freeSlots = [];
    this.unusedSlot = 0;
    this.newest = this.oldest = NO_SLOT;
  }

  /** Keys from the most to the least recently used (for tests and diagnostics). */
  *keysByRecency(): IterableIterator<string> {
    for (let slot = this.newest; slot !== NO_SLOT; slot = this.older[slot]!) yield this.keys[slot]!;
  }

  private takeSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.unusedSlot === this.expiries.length) this.grow();
    return this.unusedSlot++;
  }

  private grow(): void {
    const capacity = this.expiries.length * 2;
    this.expiries = grown(this.expiries, new Float64Array(capacity));
    this.newer = grown(this.newer, new Int32Array(capacity));
    this.older = grown(this.older, new Int32Array(capacity));
  }

  private linkAsNewest(slot: number): void {
    this.newer[slot] = NO_SLOT;
    this.older[slot] = this.newest;
    if (this.newest === NO_SLOT) this.oldest = slot;
    else this.newer[this.newest] = slot;
    this.newest = slot;
  }

  private unlink(slot: number): void {
    const newer = this.newer[slot]!;
    const older = this.older[slot]!;
    if (newer === NO_SLOT) this.newest = older;
    else this.older[newer] = older;
    if (older === NO_SLOT) this.oldest = newer;
    else this.newer[older] = newer;
  }
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

// One store per location in the process, as Django's module-level dictionaries. Kept on
// globalThis so the ES module and CommonJS copies of this package share them; the symbol names
// the store layout so a copy with another layout never reads these.
const STORES = Symbol.for('cachette.locmem.stores.v1');

/** The store every LocMemCache with this location shares. */
export function storeFor(location: string): LruStore {
  const holder = globalThis as { [STORES]?: Map<string, LruStore> };
  const stores = (holder[STORES] ??= new Map());
  let store = stores.get(location);
  if (!store) stores.set(location, (store = new LruStore()));
  return store;
}
