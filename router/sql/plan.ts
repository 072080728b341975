/**
 * Shard-mode plans: what the SQL front end does with one statement, as plain data (Vitess's
 * engine primitives in miniature). `resolvePlan` binds a cached Shape to one statement's literal
 * values and the current shard map; `planStatement` is the whole pure pipeline (tokenize, digest,
 * cache lookup, analysis on a miss, resolution).
 *
 * Plan kinds beyond single/shards/all/all-in-order/error: `session` (SET/USE: the front end's
 * session-state replay handles them, see session-statement.ts) and `transaction` (BEGIN, COMMIT,
 * ROLLBACK, savepoints: the TxTracker names the shards, see tx-tracker.ts).
 */
import type { DigestView } from './digest-view.js'
import { rebasedView, streamView } from './digest-view.js'
import { makeTemplate, probeOf } from './template.js'
import { digest as digestOf } from './digest.js'
import type { TokenizeOptions } from './tokenize.js'
import { analyze } from './analyze.js'
import type { PlanCache } from './plan-cache.js'
import type { ColumnAgg, ColumnRef, KeyExpr, MergeShape, Shape, StatementKind } from './shape.js'
import type { KeyVia, ShardSchema } from './shard-schema.js'
import { noShard, syntaxError, unplaced, unsupported, type ShardError } from './shard-errors.js'
import { rendezvousCell } from '../rendezvous.js'

export type ShardId = string

export interface ShardInfo {
  readonly id: ShardId
  /** auto_increment_offset of the shard's server (1-based as MySQL's; id % increment names it). */
  readonly offset: number
  /** New instances and hosts are placed on enabled shards only; existing rows stay reachable. */
  readonly enabled: boolean
  /** Relative capacity for least-loaded placement (default 1). */
  readonly weight?: number
}

/** The facts a plan is resolved against: a snapshot, read synchronously (no I/O here). */
export interface ShardMap {
  /** Every shard, in the fixed order DDL and reference writes use. */
  readonly shards: readonly ShardInfo[]
  /** auto_increment_increment, the same on every shard (M in id % M). */
  readonly increment: number
  instanceShard(uuid: string): ShardId | undefined
  hostShard(host: string): ShardId | undefined
  /** Operator's availability zone → shard map (sql-routing.md §2.5 step 2). */
  azShard?(az: string): ShardId | undefined
  /** Instances currently placed on a shard (least-loaded placement). */
  instanceCount?(shard: ShardId): number
}

export interface SessionFacts {
  /** The shard the open transaction writes to, if any (TxTracker.writeShard). */
  readonly writeShard: ShardId | null
  /** The shard that ran the session's previous statement. */
  readonly lastShard: ShardId | null
}

/** A mapping row the front end must store (autocommit) before it forwards the statement. */
/**
 * Key values this process's map does not know (another cellgate process may have placed them): the
 * one an INSERT was refused for, or those that made a read or write scatter.
 */
export type UnknownKeys = { readonly kind: 'instance' | 'host'; readonly names: readonly string[] }

export type MappingRecord =
  | { readonly kind: 'instance'; readonly uuid: string; readonly shard: ShardId }
  | { readonly kind: 'host'; readonly host: string; readonly shard: ShardId }

export interface SortKey {
  readonly column: ColumnRef
  readonly desc: boolean
}

/** How per-shard result sets become one (merge.ts). */
export interface RowMerge {
  readonly kind: 'rows'
  readonly orderBy: readonly SortKey[]
  /** Rows to return after the offset; null for all. */
  readonly limit: number | null
  readonly offset: number
  readonly aggregates: readonly ColumnAgg[] | null
  readonly groupBy: readonly ColumnRef[]
  readonly distinct: boolean
  /**
   * joinedload: the LIMIT was inside the leading derived table, so it counts parents (distinct
   * ORDER BY key tuples), not rows; `limit`/`offset` above are then null/0.
   */
  readonly parents: {
    readonly limit: number
    readonly offset: number
    /** Leading ORDER BY keys that identify a parent (the rest order its children); absent: all. */
    readonly keys?: number
  } | null
  /** Trailing columns cellgate added (sort/group keys not selected); dropped after merging. */
  readonly hiddenColumns: number
}

/** OK packets of a multi-shard write: affected rows add up; at most one shard may match rows
 *  inside a transaction that is not autocommit (TxTracker.settleScatterWrite). */
export interface WriteMerge {
  readonly kind: 'write'
}

export type Merge = RowMerge | WriteMerge

export interface SequenceRewrite {
  readonly table: string
  /** How many ids to take from the reference-table sequence (one per row). */
  readonly count: number
  /** Source offsets where `, id` (column list) and `, <id>` (each row) are inserted. */
  readonly columnsAt: number
  readonly rowsAt: readonly number[]
}

interface PlanCommon {
  readonly statement: StatementKind
  readonly tables: readonly string[]
}

export type Plan = PlanCommon &
  (
    | {
        readonly kind: 'single'
        readonly shard: ShardId
        /** A write, or a locking read (FOR UPDATE): it pins the transaction's write shard. */
        readonly write: boolean
        readonly sql: string | null
        readonly records: readonly MappingRecord[]
        readonly reason: string
      }
    | {
        readonly kind: 'shards'
        readonly shards: readonly ShardId[]
        readonly merge: Merge
        readonly write: boolean
        /** Rewritten text for every shard (LIMIT pushed down, hidden columns), or null. */
        readonly sql: string | null
        /** Per-shard text (a multi-row INSERT split by shard), or null. */
        readonly perShard: ReadonlyMap<ShardId, string> | null
        readonly records: readonly MappingRecord[]
      }
    | {
        readonly kind: 'all'
        readonly merge: Merge
        readonly write: boolean
        readonly sql: string | null
        /** Set when it scatters because the map does not know these key values. */
        readonly unknown?: UnknownKeys
      }
    | {
        readonly kind: 'all-in-order'
        /** DDL (false) or a reference-table write (true). */
        readonly reference: boolean
        readonly sequence: SequenceRewrite | null
        /** The database an ALTER DATABASE names (source offsets): each shard runs it with its own database there. */
        readonly database: { readonly start: number; readonly end: number; readonly name: string } | null
        readonly reason: string
      }
    | { readonly kind: 'session' }
    | { readonly kind: 'transaction'; readonly verb: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to'; readonly savepoint: string | null }
    | ({ readonly kind: 'error'; readonly missing?: UnknownKeys } & ShardError)
  )

// ---- key resolution ----

type ShardSet = { readonly all: true; readonly unknown?: UnknownKeys } | { readonly all: false; readonly shards: ReadonlySet<ShardId> }
const ALL: ShardSet = { all: true }

function slotValues(d: DigestView, slot: number): readonly string[] | null {
  const s = d.slots[slot]
  if (s === undefined) return null
  const items = s.kind === 'list' ? s.items : [s]
  if (items.some((l) => l.kind === 'param')) return null
  return items.map((l) => l.value)
}

/** The shard of one key value, or undefined when the map does not know it. */
function shardOfValue(via: KeyVia, value: string, map: ShardMap): ShardId | undefined {
  if (via === 'instance') return map.instanceShard(value)
  if (via === 'host') return map.hostShard(value)
  if (!/^\d+$/.test(value) || map.increment <= 0) return undefined
  const residue = Number(BigInt(value) % BigInt(map.increment))
  return map.shards.find((s) => s.offset % map.increment === residue)?.id
}

/** Everywhere, because of these values of an instance or host key the map does not know. */
function unknownIn(via: KeyVia, values: readonly string[], map: ShardMap): ShardSet {
  if (via !== 'instance' && via !== 'host') return ALL
  return { all: true, unknown: { kind: via, names: values.filter((v) => shardOfValue(via, v, map) === undefined) } }
}

function resolveKey(k: KeyExpr, d: DigestView, map: ShardMap): ShardSet {
  switch (k.t) {
    case 'all':
      return ALL
    case 'none':
      return { all: false, shards: new Set() }
    case 'key': {
      const values = slotValues(d, k.slot)
      if (values === null) return ALL
      const out = new Set<ShardId>()
      for (const v of values) {
        const s = shardOfValue(k.via, v, map)
        // An unknown value may still match rows somewhere (or nowhere): look everywhere.
        if (s === undefined) return unknownIn(k.via, values, map)
        out.add(s)
      }
      return { all: false, shards: out }
    }
    case 'or': {
      const out = new Set<ShardId>()
      for (const x of k.items) {
        const r = resolveKey(x, d, map)
        if (r.all) return r
        for (const s of r.shards) out.add(s)
      }
      return { all: false, shards: out }
    }
    case 'and': {
      let acc: ShardSet = ALL
      let unknown: UnknownKeys | undefined
      for (const x of k.items) {
        const r = resolveKey(x, d, map)
        if (r.all) {
          unknown ??= r.unknown
          continue
        }
        acc = acc.all ? r : { all: false, shards: new Set([...acc.shards].filter((s) => r.shards.has(s))) }
      }
      return acc.all && unknown !== undefined ? { all: true, unknown } : acc
    }
  }
}

// ---- rewriting ----

interface Edit {
  readonly start: number
  readonly end: number
  readonly text: string
}

export function applyEdits(sql: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end)
  let out = ''
  let at = 0
  for (const e of sorted) {
    out += sql.slice(at, e.start) + e.text
    at = e.end
  }
  return out + sql.slice(at)
}

function sourceOf(d: DigestView, sql: string, from: number, to: number): string {
  const a = d.startOf(from)
  const b = d.endOf(to - 1)
  return a < 0 || b < 0 ? '' : sql.slice(a, b)
}

function offsetOf(d: DigestView, index: number, sql: string): number {
  const at = d.startOf(index)
  return at < 0 ? sql.length : at
}

/** The largest LIMIT MySQL accepts: "no limit" for shard queries whose limit is applied after merging. */
const NO_LIMIT = '18446744073709551615'

function intSlot(d: DigestView, slot: number | null): number | null {
  if (slot === null) return 0
  const v = slotValues(d, slot)
  if (v === null || v.length !== 1 || !/^\d+$/.test(v[0]!)) return null
  return Number(v[0])
}

interface Scatter {
  readonly merge: Merge
  readonly sql: string | null
}

/** The merge and shard query of a scatter read, or the reason it cannot be scattered. */
function scatterRead(m: MergeShape, d: DigestView, sql: string): Scatter | ShardError {
  if (m.scatterError !== null) return unsupported(`${m.scatterError} (the statement needs several shards)`)
  const edits: Edit[] = []
  let limit: number | null = null
  let offset = 0
  let parents: RowMerge['parents'] = null
  if (m.limit !== null) {
    const n = intSlot(d, m.limit.count)
    const o = intSlot(d, m.limit.offset)
    if (n === null || o === null) return unsupported('a LIMIT whose value is not a number')
    const countSlot = d.slots[m.limit.count]!
    const offsetSlot = m.limit.offset === null ? null : d.slots[m.limit.offset]!
    const grouped = m.aggregates !== null
    // Every shard returns its first offset+limit rows (all of them when groups must be merged
    // first); the merge skips the offset once and cuts at the limit.
    const replace = (at: { start: number; end: number }, text: string): void => {
      if (sql.slice(at.start, at.end) !== text) edits.push({ start: at.start, end: at.end, text })
    }
    replace(countSlot, grouped ? NO_LIMIT : String(n + o))
    if (offsetSlot) replace(offsetSlot, '0')
    if (m.limit.where === 'derived') parents = m.parentKeys === undefined ? { limit: n, offset: o } : { limit: n, offset: o, keys: m.parentKeys }
    else {
      limit = n
      offset = o
    }
  }
  if (m.hidden.length > 0) {
    const at = offsetOf(d, m.itemsEnd, sql)
    const cols = m.hidden.map((h, k) => `, ${sourceOf(d, sql, h.from, h.to)} AS __cellgate_k${k}`).join('')
    edits.push({ start: at, end: at, text: cols + ' ' })
  }
  return {
    merge: { kind: 'rows', orderBy: m.orderBy, limit, offset, aggregates: m.aggregates, groupBy: m.groupBy, distinct: m.distinct, parents, hiddenColumns: m.hidden.length },
    sql: edits.length ? applyEdits(sql, edits) : null,
  }
}

// ---- placement ----

function enabledShards(map: ShardMap): readonly ShardInfo[] {
  return map.shards.filter((s) => s.enabled)
}

/**
 * Where a new instance goes (sql-routing.md §2.5): the operator's AZ map, else its host's shard,
 * else the least-loaded enabled shard by instances per weight (ties: shard order).
 */
export function placeInstance(hints: { readonly az: string | null; readonly host: string | null }, map: ShardMap): ShardId | undefined {
  const enabled = enabledShards(map)
  const ok = (s: ShardId | undefined): s is ShardId => s !== undefined && enabled.some((e) => e.id === s)
  const byAz = hints.az === null ? undefined : map.azShard?.(hints.az)
  if (ok(byAz)) return byAz
  const byHost = hints.host === null ? undefined : map.hostShard(hints.host)
  if (ok(byHost)) return byHost
  let best: ShardInfo | undefined
  let bestLoad = Infinity
  for (const s of enabled) {
    const load = (map.instanceCount?.(s.id) ?? 0) / (s.weight ?? 1)
    if (load < bestLoad) {
      best = s
      bestLoad = load
    }
  }
  return best?.id
}

/** Where a new host goes: rendezvous over the enabled shards, so every cellgate agrees unasked. */
export function placeHost(host: string, map: ShardMap): ShardId | undefined {
  return rendezvousCell(host, enabledShards(map).map((s) => s.id))
}

// ---- resolution ----

// Plans are built with `statement: common.statement, tables: common.tables` rather than
// `{ ...common, … }`: on Node 20 a spread followed by more properties took ~10 µs per object
// (measured by bench/sql-router-cpu.ts), half the routing budget of a cached statement.

function anyShard(map: ShardMap, session: SessionFacts): ShardId | undefined {
  return session.writeShard ?? session.lastShard ?? map.shards[0]?.id
}

function errorPlan(common: PlanCommon, e: ShardError, missing?: UnknownKeys): Plan {
  const plan: Plan = { statement: common.statement, tables: common.tables, kind: 'error', ...e }
  return missing === undefined ? plan : { ...plan, missing }
}

function toPlan(common: PlanCommon, set: ShardSet, write: boolean, map: ShardMap, session: SessionFacts, scatter: () => Scatter | ShardError, reason: string): Plan {
  if (!set.all && set.shards.size <= 1) {
    const shard = set.shards.size === 1 ? [...set.shards][0]! : anyShard(map, session)
    if (shard === undefined) return errorPlan(common, noShard())
    return { statement: common.statement, tables: common.tables, kind: 'single', shard, write, sql: null, records: [], reason: set.shards.size === 1 ? reason : 'no row can match; any shard answers' }
  }
  const s = scatter()
  if ('code' in s) return errorPlan(common, s)
  if (set.all) {
    if (set.unknown === undefined) return { statement: common.statement, tables: common.tables, kind: 'all', merge: s.merge, write, sql: s.sql }
    return { statement: common.statement, tables: common.tables, kind: 'all', merge: s.merge, write, sql: s.sql, unknown: set.unknown }
  }
  const order = map.shards.map((x) => x.id).filter((id) => set.shards.has(id))
  return { statement: common.statement, tables: common.tables, kind: 'shards', shards: order, merge: s.merge, write, sql: s.sql, perShard: null, records: [] }
}

export function resolvePlan(shape: Shape, d: DigestView, sql: string, map: ShardMap, session: SessionFacts): Plan {
  const common: PlanCommon = { statement: shape.statement, tables: shape.tables }
  const single = (shard: ShardId | undefined | null, reason: string, write = false): Plan =>
    shard == null ? errorPlan(common, noShard()) : { statement: common.statement, tables: common.tables, kind: 'single', shard, write, sql: null, records: [], reason }
  switch (shape.kind) {
    case 'error':
      return errorPlan(common, shape.error)
    case 'session':
      return { statement: common.statement, tables: common.tables, kind: 'session' }
    case 'transaction':
      return { statement: common.statement, tables: common.tables, kind: 'transaction', verb: shape.verb, savepoint: shape.savepoint }
    case 'any':
      return single(anyShard(map, session), shape.reason)
    case 'last':
      return single(session.lastShard ?? anyShard(map, session), shape.reason)
    case 'lock':
      return single(map.shards[0]?.id, shape.reason)
    case 'broadcast': {
      let sequence: SequenceRewrite | null = null
      if (shape.sequence) {
        const sq = shape.sequence
        sequence = { table: sq.table, count: sq.rowCloses.length, columnsAt: offsetOf(d, sq.columnsClose, sql), rowsAt: sq.rowCloses.map((r) => offsetOf(d, r, sql)) }
      }
      let database: { start: number; end: number; name: string } | null = null
      const named = shape.database === undefined ? undefined : d.tokenAt(shape.database)
      if (named !== undefined) database = { start: d.startOf(shape.database!), end: d.endOf(shape.database!), name: named.text }
      return { statement: common.statement, tables: common.tables, kind: 'all-in-order', reference: shape.reference, sequence, database, reason: shape.reason }
    }
    case 'read':
      return toPlan(common, resolveKey(shape.key, d, map), shape.lock, map, session, () => scatterRead(shape.merge, d, sql), 'shard key')
    case 'write':
      return toPlan(
        common,
        resolveKey(shape.key, d, map),
        true,
        map,
        session,
        () => (shape.scatterError !== null ? unsupported(`${shape.scatterError} (the statement needs several shards)`) : { merge: { kind: 'write' }, sql: null }),
        'shard key',
      )
    case 'insert':
      return resolveInsert(common, shape, d, sql, map)
  }
}

function resolveInsert(common: PlanCommon, shape: Shape & { kind: 'insert' }, d: DigestView, sql: string, map: ShardMap): Plan {
  const records: MappingRecord[] = []
  const placed = new Map<string, ShardId>()
  const rowShards: ShardId[] = []
  const value = (slot: number | null): string | null => {
    if (slot === null) return null
    const v = slotValues(d, slot)
    return v === null || v.length !== 1 ? null : v[0]!
  }
  // Every row's value of that key the map does not know: one lookup in the shards can find them all.
  const unknownValues = (via: KeyVia): string[] =>
    shape.rows.flatMap((r) => {
      const v = r.key !== null && r.key.via === via ? value(r.key.slot) : null
      return v !== null && shardOfValue(via, v, map) === undefined ? [v] : []
    })
  for (const row of shape.rows) {
    if (row.key === null) return errorPlan(common, unsupported(`INSERT into ${shape.table} without a shard key value (${shape.group === 'host' ? 'host' : 'instance uuid'})`))
    const v = value(row.key.slot)
    if (v === null) return errorPlan(common, unsupported(`INSERT into ${shape.table} whose shard key is a placeholder`))
    let shard = placed.get(`${row.key.via}:${v}`) ?? shardOfValue(row.key.via, v, map)
    if (shard === undefined) {
      if (row.key.via === 'instance' && shape.places === 'instance') {
        shard = placeInstance({ az: value(row.az), host: value(row.host) }, map)
        if (shard === undefined) return errorPlan(common, noShard())
        records.push({ kind: 'instance', uuid: v, shard })
      } else if (row.key.via === 'host' && shape.places === 'host') {
        shard = placeHost(v, map)
        if (shard === undefined) return errorPlan(common, noShard())
        records.push({ kind: 'host', host: v, shard })
      } else if (row.key.via === 'instance') return errorPlan(common, unplaced(`instance ${v} (insert its instances row first)`), { kind: 'instance', names: unknownValues('instance') })
      else if (row.key.via === 'host') return errorPlan(common, unplaced(`host ${v}`), { kind: 'host', names: unknownValues('host') })
      else return errorPlan(common, unplaced(`id ${v} (no shard has auto_increment_offset ≡ ${v} mod ${map.increment})`))
      placed.set(`${row.key.via}:${v}`, shard)
    }
    rowShards.push(shard)
  }
  const distinct = [...new Set(rowShards)]
  if (distinct.length === 1) return { statement: common.statement, tables: common.tables, kind: 'single', shard: distinct[0]!, write: true, sql: null, records, reason: 'shard key of the new row' }
  // Rows for several shards: one INSERT per shard with that shard's rows.
  const first = shape.rows[0]!
  const last = shape.rows[shape.rows.length - 1]!
  const head = sql.slice(0, offsetOf(d, first.span.from, sql))
  const tail = sql.slice(offsetOf(d, last.span.to, sql))
  const perShard = new Map<ShardId, string>()
  for (const shard of distinct) {
    const rows = shape.rows.filter((_, i) => rowShards[i] === shard).map((r) => sourceOf(d, sql, r.span.from, r.span.to))
    perShard.set(shard, head + rows.join(', ') + tail)
  }
  const order = map.shards.map((s) => s.id).filter((id) => perShard.has(id))
  return { statement: common.statement, tables: common.tables, kind: 'shards', shards: order, merge: { kind: 'write' }, write: true, sql: null, perShard, records }
}

/** Adds the sequence ids of a reference-table INSERT to its text (one id per row, in order). */
export function withSequenceIds(sql: string, seq: SequenceRewrite, ids: readonly (number | bigint)[]): string {
  if (ids.length !== seq.count) throw new RangeError(`need ${seq.count} ids, got ${ids.length}`)
  return applyEdits(sql, [
    { start: seq.columnsAt, end: seq.columnsAt, text: ', id' },
    ...seq.rowsAt.map((at, i) => ({ start: at, end: at, text: `, ${ids[i]!}` })),
  ])
}

// ---- the whole pipeline ----

export interface PlanContext {
  readonly schema: ShardSchema
  readonly map: ShardMap
  readonly session: SessionFacts
  readonly cache?: PlanCache
  /** Part of the cache key: the session's default database. */
  readonly database?: string | null
  readonly tokenize?: TokenizeOptions
}

export function planStatement(sql: string, ctx: PlanContext): Plan {
  const escapes = ctx.tokenize?.noBackslashEscapes !== true
  const cache = ctx.cache
  const group = cache === undefined ? '' : `${ctx.database ?? ''}\u0000${escapes ? '' : 'N'}\u0000${probeOf(sql)}`
  const hit = cache?.matchTemplate(group, sql, escapes)
  if (hit !== undefined) return resolvePlan(hit.template.shape, rebasedView(hit.template.digest, hit.template.slotEnds, hit.slots), sql, ctx.map, ctx.session)
  const dr = digestOf(sql, ctx.tokenize)
  if (!dr.ok) return { statement: 'other', tables: [], kind: 'error', ...syntaxError(`${dr.reason} at offset ${dr.at}`) }
  const d = dr.digest
  const key = `${ctx.database ?? ''}\u0000${d.text}`
  let shape = cache?.get(key)
  if (shape === undefined) {
    shape = analyze(d, ctx.schema)
    cache?.set(key, shape)
  }
  if (cache !== undefined) {
    const template = makeTemplate(sql, d, shape, escapes)
    if (template !== null) cache.addTemplate(key, group, template)
  }
  return resolvePlan(shape, streamView(d), sql, ctx.map, ctx.session)
}
