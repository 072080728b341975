/**
 * Merging per-shard result sets (pure): k-way merge by the ORDER BY keys, re-aggregation of
 * COUNT/SUM/MIN/MAX per GROUP BY key, DISTINCT, LIMIT/OFFSET applied once, joinedload's parent
 * limit, and removal of the hidden sort columns cellgate added.
 *
 * Values are what a text-protocol reader gives (strings or Buffers, null for NULL) or JS
 * numbers/bigints; the column's `type` says how to compare them:
 * - numeric: by value (integers of any size, decimals as exact decimal strings, floats);
 * - text: utf8mb4_general_ci, *approximated* as: accents removed (NFD, marks dropped), upper-cased,
 *   trailing spaces ignored (PAD SPACE), then code point order. general_ci also weighs every
 *   character above U+FFFF the same and has a few special cases (ß = s); ties under the
 *   approximation keep shard order, as MySQL leaves tie order undefined;
 * - binary and temporal: bytewise / as written (DATETIME text sorts lexically);
 * - NULL sorts first ascending and last descending, as in MySQL.
 * MariaDB sorts GROUP BY results by the group keys when there is no ORDER BY; so does the merge.
 */
import type { ColumnRef } from './shape.js'
import type { RowMerge } from './plan.js'

export type Cell = string | number | bigint | Uint8Array | null
export type Row = readonly Cell[]

export type ColumnType = 'numeric' | 'text' | 'binary' | 'temporal'

export interface ColumnMeta {
  readonly name: string
  readonly type: ColumnType
}

export interface ShardRows {
  readonly columns: readonly ColumnMeta[]
  /** Rows in the order the shard returned them (sorted by the pushed-down ORDER BY). */
  readonly rows: readonly Row[]
}

export type MergeResult =
  | { readonly ok: true; readonly columns: readonly ColumnMeta[]; readonly rows: readonly Row[] }
  | { readonly ok: false; readonly reason: string }

const decoder = new TextDecoder()

function text(v: Cell): string {
  if (v === null) return ''
  if (v instanceof Uint8Array) return decoder.decode(v)
  return String(v)
}

/** utf8mb4_general_ci approximation (see the module comment). */
export function collationKey(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/ +$/, '')
}

/** Compares two decimal strings exactly (sign, integer length, digits, fraction). */
function compareDecimal(a: string, b: string): number {
  const na = a.startsWith('-')
  const nb = b.startsWith('-')
  if (na !== nb) return na ? -1 : 1
  const sign = na ? -1 : 1
  const [ia = '', fa = ''] = a.replace(/^[-+]/, '').split('.')
  const [ib = '', fb = ''] = b.replace(/^[-+]/, '').split('.')
  const ta = ia.replace(/^0+/, '')
  const tb = ib.replace(/^0+/, '')
  if (ta.length !== tb.length) return sign * (ta.length < tb.length ? -1 : 1)
  if (ta !== tb) return sign * (ta < tb ? -1 : 1)
  const w = Math.max(fa.length, fb.length)
  const pa = fa.padEnd(w, '0')
  const pb = fb.padEnd(w, '0')
  return pa === pb ? 0 : sign * (pa < pb ? -1 : 1)
}

const DECIMAL = /^[-+]?\d+(\.\d+)?$/

function compareNumeric(a: Cell, b: Cell): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  const sa = text(a)
  const sb = text(b)
  if (DECIMAL.test(sa) && DECIMAL.test(sb)) return compareDecimal(sa, sb)
  const x = Number(sa)
  const y = Number(sb)
  return x < y ? -1 : x > y ? 1 : 0
}

function compareBytes(a: Cell, b: Cell): number {
  const x = a instanceof Uint8Array ? a : new TextEncoder().encode(text(a))
  const y = b instanceof Uint8Array ? b : new TextEncoder().encode(text(b))
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

/** Sort key of one value, computed once per row. */
type Prepared = Cell

function prepare(v: Cell, type: ColumnType): Prepared {
  if (v === null) return null
  if (type === 'text') return collationKey(text(v))
  if (type === 'temporal') return text(v)
  return v
}

/** Compares prepared values; NULL is the smallest (MySQL's order for ASC). */
function compareValues(a: Prepared, b: Prepared, type: ColumnType): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1
  switch (type) {
    case 'numeric':
      return compareNumeric(a, b)
    case 'binary':
      return compareBytes(a, b)
    default: {
      const x = a as string
      const y = b as string
      return x < y ? -1 : x > y ? 1 : 0
    }
  }
}

function index(ref: ColumnRef, width: number): number {
  return ref >= 0 ? ref : width + ref
}

interface Keyed {
  readonly row: Row
  readonly keys: readonly Prepared[]
  readonly shard: number
}

function sortComparator(keys: readonly { readonly type: ColumnType; readonly desc: boolean }[]) {
  return (a: Keyed, b: Keyed): number => {
    for (let k = 0; k < keys.length; k++) {
      const c = compareValues(a.keys[k]!, b.keys[k]!, keys[k]!.type)
      if (c !== 0) return keys[k]!.desc ? -c : c
    }
    return a.shard - b.shard
  }
}

/** k-way merge of sorted runs with a binary heap (cursor per shard). */
function kWayMerge(runs: readonly (readonly Keyed[])[], cmp: (a: Keyed, b: Keyed) => number, take: (k: Keyed) => boolean): void {
  const heap: { run: number; at: number }[] = []
  const less = (i: number, j: number): boolean => cmp(runs[heap[i]!.run]![heap[i]!.at]!, runs[heap[j]!.run]![heap[j]!.at]!) < 0
  const swap = (i: number, j: number): void => {
    const t = heap[i]!
    heap[i] = heap[j]!
    heap[j] = t
  }
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && less(l, m)) m = l
      if (r < heap.length && less(r, m)) m = r
      if (m === i) return
      swap(i, m)
      i = m
    }
  }
  runs.forEach((run, i) => {
    if (run.length > 0) heap.push({ run: i, at: 0 })
  })
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i)
  while (heap.length > 0) {
    const top = heap[0]!
    if (!take(runs[top.run]![top.at]!)) return
    top.at++
    if (top.at >= runs[top.run]!.length) {
      heap[0] = heap[heap.length - 1]!
      heap.pop()
    }
    down(0)
  }
}

// ---- aggregation ----

function addNumbers(a: Cell, b: Cell): Cell {
  if (a === null) return b
  if (b === null) return a
  if (typeof a === 'number' && typeof b === 'number') return a + b
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b
  const sa = text(a)
  const sb = text(b)
  if (DECIMAL.test(sa) && DECIMAL.test(sb)) {
    // Exact decimal addition on scaled bigints.
    const scale = Math.max((sa.split('.')[1] ?? '').length, (sb.split('.')[1] ?? '').length)
    const toInt = (s: string): bigint => {
      const neg = s.startsWith('-')
      const [i = '0', f = ''] = s.replace(/^[-+]/, '').split('.')
      const v = BigInt(i + f.padEnd(scale, '0'))
      return neg ? -v : v
    }
    const sum = toInt(sa) + toInt(sb)
    if (scale === 0) return sum.toString()
    const neg = sum < 0n
    const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0')
    return (neg ? '-' : '') + digits.slice(0, -scale) + '.' + digits.slice(-scale)
  }
  return Number(sa) + Number(sb)
}

function groupIdentity(row: Row, cols: readonly number[], types: readonly ColumnType[]): string {
  let id = ''
  for (const c of cols) {
    const p = prepare(row[c] ?? null, types[c]!)
    // Text groups by its collation key, so 'a' and 'A' are one group as under a _ci collation.
    id += p === null ? '\u0001N' : '\u0001V' + (p instanceof Uint8Array ? Array.from(p, (b) => b.toString(16).padStart(2, '0')).join('') : String(p))
  }
  return id
}

function aggregate(rows: readonly Row[], plan: RowMerge, types: readonly ColumnType[], width: number): Row[] {
  const aggs = plan.aggregates!
  const groupCols = plan.groupBy.map((g) => index(g, width))
  const groups = new Map<string, Cell[]>()
  for (const row of rows) {
    const id = groupIdentity(row, groupCols, types)
    const acc = groups.get(id)
    if (acc === undefined) {
      groups.set(id, [...row])
      continue
    }
    for (let c = 0; c < width; c++) {
      const v = row[c] ?? null
      switch (aggs[c]) {
        case 'count':
        case 'sum':
          acc[c] = addNumbers(acc[c] ?? null, v)
          break
        case 'min':
        case 'max': {
          const cur = acc[c] ?? null
          if (v === null) break
          const cmp = cur === null ? 1 : compareValues(prepare(v, types[c]!), prepare(cur, types[c]!), types[c]!)
          if (cur === null || (aggs[c] === 'min' ? cmp < 0 : cmp > 0)) acc[c] = v
          break
        }
        default:
          break
      }
    }
  }
  return [...groups.values()]
}

/** Merges the shards' rows as `plan` says. Shards are given in shard order. */
export function mergeRows(shards: readonly ShardRows[], plan: RowMerge): MergeResult {
  const first = shards[0]
  if (first === undefined) return { ok: true, columns: [], rows: [] }
  const width = first.columns.length
  for (const s of shards) {
    if (s.columns.length !== width) return { ok: false, reason: `shards returned ${width} and ${s.columns.length} columns` }
  }
  const types = first.columns.map((c) => c.type)
  const sortKeys = plan.orderBy.map((k) => ({ col: index(k.column, width), type: types[index(k.column, width)] ?? 'text', desc: k.desc }))
  if (sortKeys.some((k) => k.col < 0 || k.col >= width)) return { ok: false, reason: 'a sort column is outside the result' }
  const keyed = (row: Row, shard: number): Keyed => ({ row, keys: sortKeys.map((k) => prepare(row[k.col] ?? null, k.type)), shard })
  const cmp = sortComparator(sortKeys)
  let out: Row[] = []

  if (plan.aggregates !== null) {
    const all = shards.flatMap((s) => s.rows)
    const grouped = aggregate(all, plan, types, width)
    // No ORDER BY: MariaDB returns groups sorted by the group keys.
    const order =
      sortKeys.length > 0
        ? sortKeys
        : plan.groupBy.map((g) => ({ col: index(g, width), type: types[index(g, width)] ?? 'text', desc: false }))
    const k = grouped.map((row, i) => ({ row, keys: order.map((o) => prepare(row[o.col] ?? null, o.type)), shard: i }))
    k.sort(sortComparator(order))
    out = k.map((x) => x.row as Row)
    out = out.slice(plan.offset, plan.limit === null ? undefined : plan.offset + plan.limit)
  } else {
    const seen = plan.distinct ? new Set<string>() : null
    const allCols = Array.from({ length: width }, (_, i) => i)
    let skipped = 0
    let parents = 0
    let lastParent: readonly Prepared[] | null = null
    const take = (k: Keyed): boolean => {
      if (seen) {
        const id = groupIdentity(k.row, allCols, types)
        if (seen.has(id)) return true
        seen.add(id)
      }
      if (plan.parents) {
        // joinedload: rows of one parent are adjacent (same sort key tuple); count parents.
        const parentKeys = plan.parents.keys ?? sortKeys.length
        const same = lastParent !== null && k.keys.every((v, i) => i >= parentKeys || compareValues(v, lastParent![i]!, sortKeys[i]!.type) === 0)
        if (!same) {
          parents++
          lastParent = k.keys
        }
        if (parents <= plan.parents.offset) return true
        if (parents > plan.parents.offset + plan.parents.limit) return false
        out.push(k.row)
        return true
      }
      if (skipped < plan.offset) {
        skipped++
        return true
      }
      if (plan.limit !== null && out.length >= plan.limit) return false
      out.push(k.row)
      return true
    }
    if (sortKeys.length === 0) {
      // No order: shard after shard.
      outer: for (let s = 0; s < shards.length; s++) {
        for (const row of shards[s]!.rows) if (!take({ row, keys: [], shard: s })) break outer
      }
    } else {
      kWayMerge(
        shards.map((s, i) => s.rows.map((r) => keyed(r, i))),
        cmp,
        take,
      )
    }
  }
  const visible = width - plan.hiddenColumns
  const columns = first.columns.slice(0, visible)
  const rows = plan.hiddenColumns > 0 ? out.map((r) => r.slice(0, visible)) : out
  return { ok: true, columns, rows }
}
