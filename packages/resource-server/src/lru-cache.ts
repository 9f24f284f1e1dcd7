/**
 * A bounded least-recently-used map with a per-entry expiry, on a Map (insertion order is the
 * recency order: a hit moves the entry to the end, eviction takes from the front).
 */
export class LruCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(max: number) {
    this.#max = Math.max(0, Math.floor(max));
  }

  get size(): number {
    return this.#entries.size;
  }

  get enabled(): boolean {
    return this.#max > 0;
  }

  /** The value, unless missing or expired at `now` (ms); an expired entry is dropped. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (this.#max === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry whose value `drop` selects. */
  deleteWhere(drop: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (drop(entry.value)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
