/**
 * Shapes cached by digest (and default database): a Map with an LRU bound and no clock. A hit
 * moves the entry to the back; when full, the least recently used entry goes. nova emits a bounded
 * set of shapes, but a client can invent digests without limit, and memory must not follow it.
 * Hit/miss counters feed the operator view (ProxySQL's stats_mysql_query_digest in miniature).
 */
import type { Shape } from './shape.js'

export class PlanCache {
  private readonly entries = new Map<string, Shape>()
  private hitCount = 0
  private missCount = 0

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be ≥ 1 (got ${maxEntries})`)
  }

  get size(): number {
    return this.entries.size
  }

  get hits(): number {
    return this.hitCount
  }

  get misses(): number {
    return this.missCount
  }

  get(key: string): Shape | undefined {
    const v = this.entries.get(key)
    if (v === undefined) {
      this.missCount++
      return undefined
    }
    this.hitCount++
    this.entries.delete(key)
    this.entries.set(key, v)
    return v
  }

  set(key: string, shape: Shape): void {
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (oldest.done !== true) this.entries.delete(oldest.value)
    }
    this.entries.set(key, shape)
  }

  /** Shapes depend on the ShardSchema only; call this when the schema (not the map) changes. */
  clear(): void {
    this.entries.clear()
  }
}
