/**
 * A memo with a hard size bound and no clock: when full, the oldest entry goes (insertion
 * order). Routing keys are few in a healthy cloud (topics × hosts), but a client can invent
 * keys without limit, and memory must not follow it.
 */
export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>()

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be ≥ 1 (got ${maxEntries})`)
  }

  get size(): number {
    return this.entries.size
  }

  get(key: K, compute: (key: K) => V): V {
    const hit = this.entries.get(key)
    if (hit !== undefined || this.entries.has(key)) return hit as V
    const value = compute(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (oldest.done !== true) this.entries.delete(oldest.value)
    }
    this.entries.set(key, value)
    return value
  }

  clear(): void {
    this.entries.clear()
  }
}
