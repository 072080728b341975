/**
 * Shapes cached by digest (and default database): a Map with an LRU bound and no clock. A hit
 * moves the entry to the back; when full, the least recently used entry goes. nova emits a bounded
 * set of shapes, but a client can invent digests without limit, and memory must not follow it.
 * Hit/miss counters feed the operator view (ProxySQL's stats_mysql_query_digest in miniature).
 *
 * Each shape also keeps the statement templates (template.ts) made for it, which let a repeated
 * statement text skip tokenizing. They are found by the start of their text (their group), most
 * recently matched first; a template hit is a hit on its shape, and a shape's eviction takes its
 * templates with it.
 */
import type { Slot } from './digest.js'
import type { Shape } from './shape.js'
import { matchTemplate, type StatementTemplate } from './template.js'

/** Templates tried per group before a statement falls back to the full path. */
const GROUP_LIMIT = 16
/** Statement texts per shape (the same digest written with other spacing or case). */
const TEXTS_PER_SHAPE = 4

export interface TemplateHit {
  readonly template: StatementTemplate
  readonly slots: readonly Slot[]
}

interface Entry {
  readonly shape: Shape
  readonly templates: Array<{ readonly group: string; readonly template: StatementTemplate }>
}

export class PlanCache {
  private readonly entries = new Map<string, Entry>()
  private readonly groups = new Map<string, Array<{ readonly key: string; readonly template: StatementTemplate }>>()
  private templateCount = 0
  private hitCount = 0
  private missCount = 0

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be ≥ 1 (got ${maxEntries})`)
  }

  get size(): number {
    return this.entries.size
  }

  get templates(): number {
    return this.templateCount
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
    return v.shape
  }

  set(key: string, shape: Shape): void {
    const old = this.entries.get(key)
    if (old !== undefined) this.evict(key, old)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.entries().next()
      if (oldest.done !== true) this.evict(oldest.value[0], oldest.value[1])
    }
    this.entries.set(key, { shape, templates: [] })
  }

  /** The template in `group` that `sql` matches, counted as a hit on its shape; else undefined. */
  matchTemplate(group: string, sql: string, escapes: boolean): TemplateHit | undefined {
    const list = this.groups.get(group)
    if (list === undefined) return undefined
    for (let i = 0; i < list.length; i++) {
      const item = list[i]!
      const slots = matchTemplate(item.template, sql, escapes)
      if (slots === null) continue
      if (i > 0) {
        list.splice(i, 1)
        list.unshift(item)
      }
      const entry = this.entries.get(item.key)!
      this.entries.delete(item.key)
      this.entries.set(item.key, entry)
      this.hitCount++
      return { template: item.template, slots }
    }
    return undefined
  }

  /** Keeps `template` for the shape cached under `key` (a no-op if that shape is not cached). */
  addTemplate(key: string, group: string, template: StatementTemplate): void {
    const entry = this.entries.get(key)
    if (entry === undefined || entry.templates.length >= TEXTS_PER_SHAPE) return
    const list = this.groups.get(group) ?? []
    if (list.length >= GROUP_LIMIT) this.dropTemplate(list[list.length - 1]!.key, group, list[list.length - 1]!.template)
    list.unshift({ key, template })
    this.groups.set(group, list)
    entry.templates.push({ group, template })
    this.templateCount++
  }

  /** Shapes depend on the ShardSchema only; call this when the schema (not the map) changes. */
  clear(): void {
    this.entries.clear()
    this.groups.clear()
    this.templateCount = 0
  }

  private evict(key: string, entry: Entry): void {
    this.entries.delete(key)
    for (const t of [...entry.templates]) this.dropTemplate(key, t.group, t.template)
  }

  private dropTemplate(key: string, group: string, template: StatementTemplate): void {
    const list = this.groups.get(group)
    const at = list?.findIndex((x) => x.template === template) ?? -1
    if (list === undefined || at < 0) return
    list.splice(at, 1)
    if (list.length === 0) this.groups.delete(group)
    const entry = this.entries.get(key)
    if (entry !== undefined) entry.templates.splice(entry.templates.findIndex((x) => x.template === template), 1)
    this.templateCount--
  }
}
