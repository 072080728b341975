/**
 * Statement analysis: from a digest to a cacheable Shape (shape.ts). Non-DML statements are
 * classified from their leading words with a fixed list of cases (sql-routing.md §5.5); DML is
 * parsed (parse.ts) and its tables, shard-key conditions and merge needs are worked out here.
 *
 * Routing rules (sql-routing.md §2.2–2.8):
 * - Key conditions come from WHERE and inner-join ON conjuncts (`key = v`, `key IN (…)`, OR of
 *   those) and from a leading derived table's own WHERE (SQLAlchemy's joinedload wrapper).
 * - Sharded tables of different colocation groups (instance-keyed, host-keyed, unknown) in one
 *   statement are refused: such a join is not shard-local. Reference and catalog tables join
 *   anything.
 * - Reads that need several shards get a merge shape; a read that cannot be merged correctly
 *   (AVG, COUNT(DISTINCT), HAVING, LIMIT in a subquery, ordinals…) records why, and is refused
 *   only if it really resolves to more than one shard.
 */
import type { Expr, OrderItem, Select, SelectItem, Source, Span, Statement } from './ast.js'
import type { Digest, DigestToken } from './digest.js'
import { parseStatement } from './parse.js'
import type { ColumnAgg, ColumnRef, InsertRowShape, KeyExpr, MergeShape, Shape, StatementKind } from './shape.js'
import { CATALOG_SCHEMAS, type KeyVia, type ShardSchema, type TableRule } from './shard-schema.js'
import { emptyQuery, unsupported } from './shard-errors.js'

const SESSION_FUNCTIONS = new Set(['LAST_INSERT_ID', 'ROW_COUNT', 'FOUND_ROWS'])
const LOCK_FUNCTIONS = new Set(['GET_LOCK', 'RELEASE_LOCK', 'IS_FREE_LOCK', 'IS_USED_LOCK', 'RELEASE_ALL_LOCKS'])
const MERGEABLE_AGGREGATES = new Set(['COUNT', 'SUM', 'MIN', 'MAX'])
const AGGREGATES = new Set([
  'COUNT', 'SUM', 'MIN', 'MAX', 'AVG', 'GROUP_CONCAT', 'STD', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE',
  'VAR_POP', 'VAR_SAMP', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG',
])
/** Statements that do not run against table data: any shard answers the same. */
const SHOW_LAST = new Set(['WARNINGS', 'ERRORS', 'COUNT', 'PROFILE', 'PROFILES'])

function words(d: Digest): string[] {
  const out: string[] = []
  for (const t of d.stream) {
    if (out.length >= 4) break
    out.push(t.kind === 'token' && t.token.kind === 'word' ? t.token.upper : t.kind === 'token' ? t.token.text : '?')
  }
  return out
}

function tokenText(t: DigestToken | undefined): string {
  if (t === undefined) return ''
  if (t.kind === 'slot') return '?'
  return t.token.kind === 'word' ? t.token.upper : t.token.text.toLowerCase()
}

const err = (statement: StatementKind, why: string): Shape => ({ statement, tables: [], kind: 'error', error: unsupported(why) })

/** The shape of a statement, given its digest. Pure; the result depends on the digest text only. */
export function analyze(d: Digest, schema: ShardSchema): Shape {
  const [w0 = '', w1 = '', w2 = '', w3 = ''] = words(d)
  if (d.stream.length === 0) return { statement: 'other', tables: [], kind: 'error', error: emptyQuery() }
  switch (w0) {
    case 'SELECT':
    case '(':
    case 'INSERT':
    case 'REPLACE':
    case 'UPDATE':
    case 'DELETE':
      return analyzeDml(d, schema)
    case 'WITH':
      return err('select', 'WITH (common table expressions)')
    case 'SET': {
      const autoInc = d.stream.some(
        (t) => t.kind === 'token' && (t.token.kind === 'word' || t.token.kind === 'sysvar') && /^((session|global|local)\.)?auto_increment_(increment|offset)$/i.test(t.token.text),
      )
      if (autoInc) return err('set', 'auto_increment_increment and auto_increment_offset are fixed per shard (they make ids globally unique)')
      return { statement: 'set', tables: [], kind: 'session' }
    }
    case 'USE':
      return { statement: 'use', tables: [], kind: 'session' }
    case 'BEGIN':
      return { statement: 'begin', tables: [], kind: 'transaction', verb: 'begin', savepoint: null }
    case 'START':
      if (w1 === 'TRANSACTION') return { statement: 'begin', tables: [], kind: 'transaction', verb: 'begin', savepoint: null }
      break
    case 'COMMIT':
      return { statement: 'commit', tables: [], kind: 'transaction', verb: 'commit', savepoint: null }
    case 'ROLLBACK': {
      const toAt = w1 === 'WORK' ? 2 : 1
      if ((toAt === 1 ? w1 : w2) === 'TO') {
        return { statement: 'rollback', tables: [], kind: 'transaction', verb: 'rollback-to', savepoint: savepointName(d, toAt + 1) }
      }
      return { statement: 'rollback', tables: [], kind: 'transaction', verb: 'rollback', savepoint: null }
    }
    case 'SAVEPOINT':
      return { statement: 'savepoint', tables: [], kind: 'transaction', verb: 'savepoint', savepoint: savepointName(d, 1) }
    case 'RELEASE':
      if (w1 === 'SAVEPOINT') return { statement: 'savepoint', tables: [], kind: 'transaction', verb: 'release', savepoint: savepointName(d, 2) }
      break
    case 'XA':
      return err('other', 'XA transactions (a shard-mode transaction writes to one shard)')
    case 'SHOW': {
      const what = w1 === 'FULL' || w1 === 'GLOBAL' || w1 === 'SESSION' ? w2 : w1
      if (SHOW_LAST.has(what)) return { statement: 'show', tables: [], kind: 'last', reason: `SHOW ${what} describes the previous statement` }
      return { statement: 'show', tables: [], kind: 'any', reason: 'SHOW reads server state the shards share' }
    }
    case 'DESCRIBE':
    case 'DESC':
    case 'EXPLAIN':
      return { statement: 'other', tables: [], kind: 'any', reason: 'reflection is the same on every shard' }
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'RENAME':
    case 'TRUNCATE': {
      const rest = [w1, w2, w3]
      if (w0 === 'ALTER' && (w1 === 'DATABASE' || w1 === 'SCHEMA')) return alterDatabase(d)
      if (rest.includes('DATABASE') || rest.includes('SCHEMA')) return err('ddl', `${w0} DATABASE (shards are separate databases; create them with the shard)`)
      if (rest.includes('TEMPORARY')) return err('ddl', 'temporary tables (they would exist on one shard connection only)')
      return { statement: 'ddl', tables: [], kind: 'broadcast', reason: 'DDL runs on every shard in order', reference: false, sequence: null, rows: 0 }
    }
    case 'ANALYZE':
    case 'OPTIMIZE':
    case 'REPAIR':
    case 'CHECK':
    case 'CHECKSUM':
    case 'FLUSH':
    case 'GRANT':
    case 'REVOKE':
      return { statement: 'other', tables: [], kind: 'broadcast', reason: `${w0} applies to every shard`, reference: false, sequence: null, rows: 0 }
    case 'UNLOCK':
    case 'DO':
      return { statement: 'other', tables: [], kind: 'any', reason: `${w0} touches no table data` }
    case 'LOCK':
      return err('other', 'LOCK TABLES (locks would be taken on one shard only)')
    case 'KILL':
      return err('other', 'KILL (connection ids are per shard)')
    default:
      break
  }
  return err('other', `${w0 || 'this'} statements are not supported`)
}

/** Words that start an ALTER DATABASE option list (then no database is named: the default one). */
const ALTER_DATABASE_OPTIONS = new Set(['DEFAULT', 'CHARACTER', 'CHARSET', 'COLLATE', 'COMMENT', 'READ', 'ENCRYPTION'])

/**
 * ALTER DATABASE (nova's initial migration ends with `ALTER DATABASE <db> DEFAULT CHARACTER SET
 * utf8`): the logical database is every shard's database, so it runs on each, under the shard's
 * own name when the statement names one. `UPGRADE DATA DIRECTORY NAME` renames databases: refused.
 */
function alterDatabase(d: Digest): Shape {
  const named = d.stream[2]
  const isName = named?.kind === 'token' && (named.token.kind === 'qident' || (named.token.kind === 'word' && !ALTER_DATABASE_OPTIONS.has(named.token.upper)))
  if (d.stream.some((t) => t.kind === 'token' && t.token.kind === 'word' && t.token.upper === 'UPGRADE')) {
    return err('ddl', 'ALTER DATABASE … UPGRADE DATA DIRECTORY NAME (shard databases keep their names)')
  }
  const base = { statement: 'ddl' as const, tables: [], kind: 'broadcast' as const, reason: "ALTER DATABASE applies to every shard's database", reference: false, sequence: null, rows: 0 }
  return isName ? { ...base, database: 2 } : base
}

function savepointName(d: Digest, at: number): string | null {
  let i = at
  const t = d.stream[i]
  if (t?.kind === 'token' && t.token.kind === 'word' && t.token.upper === 'SAVEPOINT') i++
  const n = d.stream[i]
  return n?.kind === 'token' && (n.token.kind === 'word' || n.token.kind === 'qident') ? n.token.text : null
}

// ---------------------------------------------------------------------------------------------

interface TableUse {
  readonly name: string
  readonly rule: TableRule | undefined
  readonly catalog: boolean
}

/** Walks expressions, calling back on subqueries and function names. */
function walkExpr(e: Expr, onSub: (q: Select) => void, onFn: (name: string, fn: Expr & { t: 'fn' }) => void): void {
  switch (e.t) {
    case 'bin':
      walkExpr(e.l, onSub, onFn)
      walkExpr(e.r, onSub, onFn)
      return
    case 'and':
    case 'or':
      for (const x of e.items) walkExpr(x, onSub, onFn)
      return
    case 'in':
      walkExpr(e.e, onSub, onFn)
      for (const x of e.list) walkExpr(x, onSub, onFn)
      return
    case 'fn':
      onFn(e.name, e)
      for (const x of e.args) walkExpr(x, onSub, onFn)
      return
    case 'sub':
      onSub(e.q)
      return
    case 'other':
      for (const x of e.parts) walkExpr(x, onSub, onFn)
      return
    default:
      return
  }
}

interface Facts {
  readonly tables: TableUse[]
  readonly functions: Set<string>
  /** Subqueries (not the leading derived table) whose result depends on all rows: LIMIT/aggregates. */
  subqueryProblem: string | null
  opaque: boolean
}

function selectExprs(q: Select): Expr[] {
  const out: Expr[] = q.items.map((i) => i.expr)
  out.push(...q.innerOn, ...q.outerOn, ...q.groupBy.map((g) => g.expr), ...q.orderBy.map((o) => o.expr))
  if (q.where) out.push(q.where)
  if (q.having) out.push(q.having)
  return out
}

function hasAggregate(e: Expr): boolean {
  let found = false
  walkExpr(e, () => undefined, (name) => {
    if (AGGREGATES.has(name)) found = true
  })
  return found
}

function collect(q: Select, schema: ShardSchema, facts: Facts, nested: boolean, leadingDerived: boolean): void {
  if (q.opaque) facts.opaque = true
  if (nested && !leadingDerived && facts.subqueryProblem === null) {
    if (q.limit) facts.subqueryProblem = 'LIMIT inside a subquery'
    else if (q.groupBy.length > 0 || q.items.some((i) => hasAggregate(i.expr))) facts.subqueryProblem = 'an aggregate inside a subquery'
  }
  q.from.forEach((s, idx) => collectSource(s, schema, facts, idx === 0 && !s.optional))
  for (const u of q.union) collect(u, schema, facts, true, false)
  for (const e of selectExprs(q)) {
    walkExpr(
      e,
      (sub) => collect(sub, schema, facts, true, false),
      (name) => facts.functions.add(name),
    )
  }
}

function collectSource(s: Source, schema: ShardSchema, facts: Facts, leading: boolean): void {
  if (s.kind === 'derived') collect(s.q, schema, facts, true, leading)
  else {
    const catalog = s.schema !== null && CATALOG_SCHEMAS.has(s.schema)
    facts.tables.push({ name: s.name, rule: catalog ? undefined : schema.rule(s.name), catalog })
  }
}

type Grouping = { readonly kind: 'none' } | { readonly kind: 'reference' } | { readonly kind: 'sharded'; readonly group: string } | { readonly kind: 'mixed'; readonly why: string }

function grouping(tables: readonly TableUse[]): Grouping {
  let group: string | null = null
  let named = ''
  let reference = false
  for (const t of tables) {
    if (t.catalog) continue
    if (t.rule?.kind === 'reference') {
      reference = true
      continue
    }
    const g = t.rule === undefined ? 'unknown' : t.rule.group
    if (group === null) {
      group = g
      named = t.name
    } else if (group !== g) {
      return { kind: 'mixed', why: `a join of ${named} (${group}-keyed) and ${t.name} (${g}-keyed) is not shard-local` }
    }
  }
  if (group !== null) return { kind: 'sharded', group }
  return reference ? { kind: 'reference' } : { kind: 'none' }
}

// ---- key conditions ----

type Scope = ReadonlyMap<string, Source>

function scopeOf(sources: readonly Source[]): Scope {
  const m = new Map<string, Source>()
  for (const s of sources) m.set(s.alias, s)
  return m
}

function keyVia(col: Expr, scope: Scope, schema: ShardSchema): KeyVia | null {
  if (col.t !== 'col') return null
  let src: Source | undefined
  if (col.qualifier !== null) src = scope.get(col.qualifier)
  else if (scope.size === 1) src = scope.values().next().value
  if (src === undefined || src.kind !== 'table') return null
  const rule = schema.rule(src.name)
  if (rule?.kind !== 'sharded') return null
  return rule.keys.find((k) => k.column === col.name)?.via ?? null
}

function and(items: KeyExpr[]): KeyExpr {
  const useful = items.filter((k) => k.t !== 'all')
  if (useful.length === 0) return { t: 'all' }
  return useful.length === 1 ? useful[0]! : { t: 'and', items: useful }
}

function keyOf(e: Expr, scope: Scope, schema: ShardSchema): KeyExpr {
  switch (e.t) {
    case 'and':
      return and(e.items.map((x) => keyOf(x, scope, schema)))
    case 'or': {
      const items = e.items.map((x) => keyOf(x, scope, schema))
      return items.some((k) => k.t === 'all') ? { t: 'all' } : { t: 'or', items }
    }
    case 'bin': {
      if (e.op !== '=') return { t: 'all' }
      const [col, val] = e.l.t === 'col' ? [e.l, e.r] : [e.r, e.l]
      const via = keyVia(col, scope, schema)
      if (via === null) return { t: 'all' }
      if (val.t === 'slot') return { t: 'key', via, slot: val.slot }
      if (val.t === 'null') return { t: 'none' }
      return { t: 'all' }
    }
    case 'in': {
      if (e.not) return { t: 'all' }
      const via = keyVia(e.e, scope, schema)
      if (via === null) return { t: 'all' }
      const items: KeyExpr[] = []
      for (const x of e.list) {
        if (x.t === 'slot') items.push({ t: 'key', via, slot: x.slot })
        else if (x.t === 'null') items.push({ t: 'none' })
        else return { t: 'all' }
      }
      return items.length === 1 ? items[0]! : { t: 'or', items }
    }
    default:
      return { t: 'all' }
  }
}

function selectKey(q: Select, schema: ShardSchema): KeyExpr {
  const scope = scopeOf(q.from)
  const parts: KeyExpr[] = []
  if (q.where) parts.push(keyOf(q.where, scope, schema))
  for (const on of q.innerOn) parts.push(keyOf(on, scope, schema))
  q.from.forEach((s, idx) => {
    // A derived table's rows are all of the outer rows' parents when it leads the FROM or is
    // inner-joined; its own conditions then narrow the whole statement.
    if (s.kind === 'derived' && !s.optional && (idx === 0 || q.from.length === 1)) parts.push(selectKey(s.q, schema))
  })
  if (q.union.length > 0) return { t: 'all' }
  return and(parts)
}

// ---- merge shape ----

function spanText(d: Digest, s: Span): string {
  let out = ''
  for (let i = s.from; i < s.to; i++) out += tokenText(d.stream[i]) + ' '
  return out
}

function mergeShape(d: Digest, q: Select): MergeShape {
  const problems: string[] = []
  if (q.union.length > 0) problems.push('UNION')
  if (q.having) problems.push('HAVING')
  const hidden: Span[] = []
  const starAt = q.items.findIndex((i) => i.expr.t === 'star')
  const texts = q.items.map((i) => spanText(d, i.span))
  type Col = { readonly visible: number } | { readonly hidden: number } | null
  /** Finds the output column of an ORDER BY / GROUP BY item, or appends a hidden column. */
  const columnOf = (o: OrderItem): Col => {
    if (o.expr.t === 'slot') {
      problems.push('ORDER BY/GROUP BY by column position')
      return null
    }
    const text = spanText(d, o.span)
    let idx = texts.indexOf(text)
    const e = o.expr
    if (idx < 0 && e.t === 'col' && e.qualifier === null) idx = q.items.findIndex((i) => i.alias === e.name)
    if (idx >= 0 && (starAt < 0 || idx < starAt)) return { visible: idx }
    const again = hidden.findIndex((h) => spanText(d, h) === text)
    if (again >= 0) return { hidden: again }
    hidden.push(o.span)
    return { hidden: hidden.length - 1 }
  }
  const orderCols = q.orderBy.map((o) => ({ col: columnOf(o), desc: o.desc }))
  const groupCols = q.groupBy.map((g) => columnOf(g))
  // Hidden columns are appended after the select list, so they are counted from the right.
  const ref = (c: Col): ColumnRef => (c === null ? 0 : 'visible' in c ? c.visible : -(hidden.length - c.hidden))
  const orderBy = orderCols.map((o) => ({ column: ref(o.col), desc: o.desc }))
  const groupBy = groupCols.map(ref)
  // Aggregates.
  let aggregates: ColumnAgg[] | null = null
  const anyAgg = q.items.some((i) => hasAggregate(i.expr))
  if (anyAgg || q.groupBy.length > 0) {
    if (starAt >= 0) problems.push('SELECT * with GROUP BY or aggregates')
    const groupTexts = q.groupBy.map((g) => spanText(d, g.span))
    aggregates = q.items.map((item: SelectItem, idx): ColumnAgg => {
      const e = item.expr
      if (e.t === 'fn' && AGGREGATES.has(e.name)) {
        if (!MERGEABLE_AGGREGATES.has(e.name)) problems.push(`${e.name}() across shards`)
        if (e.distinct) problems.push(`${e.name}(DISTINCT …) across shards`)
        return e.name === 'COUNT' ? 'count' : (e.name.toLowerCase() as ColumnAgg)
      }
      if (hasAggregate(e)) problems.push('an expression over an aggregate')
      return groupTexts.includes(texts[idx]!) || (e.t === 'col' && groupTexts.includes(spanText(d, item.span))) ? 'key' : 'first'
    })
    for (let k = 0; k < hidden.length; k++) aggregates.push('key')
    if (q.distinct) problems.push('DISTINCT with aggregates')
  }
  if (q.distinct && hidden.length > 0) problems.push('DISTINCT with ORDER BY on a column that is not selected')
  // LIMIT: the statement's own, or the leading derived table's (joinedload).
  let limit: MergeShape['limit'] = null
  if (q.limit) {
    if (q.limit.count === null || (q.limit.hasOffset && q.limit.offset === null)) problems.push('a LIMIT that is not a literal')
    else limit = { count: q.limit.count, offset: q.limit.offset, where: 'outer' }
  } else {
    const lead = q.from[0]
    if (lead?.kind === 'derived' && !lead.optional && lead.q.limit) {
      const l = lead.q.limit
      if (l.count === null || (l.hasOffset && l.offset === null)) problems.push('a LIMIT that is not a literal')
      else if (q.orderBy.length === 0) problems.push('LIMIT inside a derived table without an outer ORDER BY')
      else limit = { count: l.count, offset: l.offset, where: 'derived' }
    }
  }
  // joinedload orders by the parent's keys (qualified by the derived table) and then by the
  // children's: only the first ones tell parents apart.
  let parentKeys: number | undefined
  if (limit?.where === 'derived') {
    const alias = q.from[0]?.kind === 'derived' ? q.from[0].alias : null
    const n = q.orderBy.findIndex((o) => !(o.expr.t === 'col' && o.expr.qualifier === alias))
    parentKeys = n < 0 ? q.orderBy.length : n
    if (parentKeys === 0) problems.push("a derived-table LIMIT whose outer ORDER BY does not start with the derived table's columns")
  }
  if (aggregates !== null && limit?.where === 'derived') problems.push('aggregates over a limited derived table')
  return {
    orderBy,
    hidden,
    itemsEnd: q.itemsEnd,
    limit,
    ...(parentKeys !== undefined ? { parentKeys } : {}),
    aggregates,
    groupBy,
    distinct: q.distinct,
    scatterError: problems.length ? problems.join(', ') : null,
  }
}

// ---- DML ----

function analyzeDml(d: Digest, schema: ShardSchema): Shape {
  const parsed = parseStatement(d)
  const first = words(d)[0]
  const kind: StatementKind = first === 'INSERT' ? 'insert' : first === 'REPLACE' ? 'replace' : first === 'UPDATE' ? 'update' : first === 'DELETE' ? 'delete' : 'select'
  if (!parsed.ok) return err(kind, `the statement is not understood by the shard router (${parsed.reason})`)
  const st = parsed.statement
  switch (st.t) {
    case 'select':
      return analyzeSelect(d, st.q, schema)
    case 'insert':
      return analyzeInsert(d, st, schema, kind)
    case 'update':
    case 'delete':
      return analyzeWrite(st, schema, kind)
  }
}

function newFacts(): Facts {
  return { tables: [], functions: new Set(), subqueryProblem: null, opaque: false }
}

function analyzeSelect(d: Digest, q: Select, schema: ShardSchema): Shape {
  const facts = newFacts()
  collect(q, schema, facts, false, false)
  const tables = [...new Set(facts.tables.map((t) => t.name))]
  const lock = q.lock !== null
  for (const f of facts.functions) {
    if (LOCK_FUNCTIONS.has(f)) return { statement: 'select', tables, kind: 'lock', reason: `${f}() locks live on the first shard` }
  }
  const g = grouping(facts.tables)
  if (g.kind === 'mixed') return err('select', g.why)
  if (g.kind !== 'sharded') {
    for (const f of facts.functions) {
      if (SESSION_FUNCTIONS.has(f)) return { statement: 'select', tables, kind: 'last', reason: `${f}() reads the previous statement's shard session` }
    }
    return { statement: 'select', tables, kind: 'any', reason: g.kind === 'reference' ? 'reference tables are on every shard' : 'no table data' }
  }
  const merge = mergeShape(d, q)
  const scatterError = merge.scatterError ?? facts.subqueryProblem
  return { statement: 'select', tables, kind: 'read', key: selectKey(q, schema), merge: { ...merge, scatterError }, lock }
}

function analyzeWrite(st: Statement & { t: 'update' | 'delete' }, schema: ShardSchema, kind: StatementKind): Shape {
  const facts = newFacts()
  const pseudo: Select = {
    distinct: false,
    items: st.t === 'update' ? st.set.map((a) => ({ expr: a.value, alias: null, span: { from: 0, to: 0 } })) : [],
    itemsEnd: 0,
    from: st.from,
    innerOn: st.innerOn,
    outerOn: [],
    where: st.where,
    groupBy: [],
    having: null,
    orderBy: st.orderBy,
    limit: null,
    lock: null,
    union: [],
    opaque: false,
  }
  collect(pseudo, schema, facts, false, false)
  const tables = [...new Set(facts.tables.map((t) => t.name))]
  const g = grouping(facts.tables)
  if (g.kind === 'mixed') return err(kind, g.why)
  const scope = scopeOf(st.from)
  const targets = st.t === 'delete' ? st.targets.map((a) => scope.get(a)).filter((s): s is Source => s !== undefined) : st.from
  const targetRules = targets.map((s) => (s.kind === 'table' ? schema.rule(s.name) : undefined))
  const refTargets = targetRules.filter((r) => r?.kind === 'reference').length
  if (refTargets > 0) {
    if (st.from.length > 1 || g.kind === 'sharded') return err(kind, 'a write that joins reference and sharded tables')
    return { statement: kind, tables, kind: 'broadcast', reason: 'reference tables are written on every shard', reference: true, sequence: null, rows: 0 }
  }
  if (g.kind !== 'sharded') return err(kind, 'a write that names no table cellgate knows')
  if (st.t === 'update') {
    for (const a of st.set) {
      const via = keyVia({ t: 'col', qualifier: a.column.qualifier, name: a.column.name }, scope, schema)
      if (via === null) continue
      // nova's `SET id=last_insert_id(instances.id)` keeps the key; anything else moves the row.
      const v = a.value
      const same =
        (v.t === 'col' && v.name === a.column.name) ||
        (v.t === 'fn' && v.name === 'LAST_INSERT_ID' && v.args.length === 1 && v.args[0]!.t === 'col' && v.args[0]!.name === a.column.name)
      if (!same) return err(kind, `UPDATE of the shard key ${a.column.name} (rows cannot move between shards)`)
    }
  }
  const scatterProblems: string[] = []
  if (st.orderBy.length > 0 || st.limit) scatterProblems.push('ORDER BY/LIMIT in a multi-shard write')
  if (facts.subqueryProblem) scatterProblems.push(facts.subqueryProblem)
  return { statement: kind, tables, kind: 'write', key: selectKey(pseudo, schema), scatterError: scatterProblems.length ? scatterProblems.join(', ') : null }
}

function analyzeInsert(d: Digest, st: Statement & { t: 'insert' }, schema: ShardSchema, kind: StatementKind): Shape {
  const rule = schema.rule(st.table.name)
  const facts = newFacts()
  facts.tables.push({ name: st.table.name, rule, catalog: false })
  if (st.select) collect(st.select, schema, facts, false, false)
  for (const r of st.rows) for (const v of r.values) walkExpr(v, (q) => collect(q, schema, facts, true, false), () => undefined)
  const tables = [...new Set(facts.tables.map((t) => t.name))]
  const g = grouping(facts.tables)
  if (g.kind === 'mixed') return err(kind, g.why)
  if (st.onDuplicate.some((a) => rule?.kind === 'sharded' && rule.keys.some((k) => k.column === a.column.name))) {
    return err(kind, 'ON DUPLICATE KEY UPDATE of a shard key')
  }
  if (rule?.kind === 'reference') {
    if (st.select && facts.tables.some((t) => t.rule?.kind === 'sharded' || (t.rule === undefined && !t.catalog && t.name !== st.table.name))) {
      return err(kind, 'INSERT … SELECT from sharded tables into a reference table')
    }
    let sequence = null
    if (rule.autoId && !(st.columns ?? []).includes('id')) {
      if (st.columns === null || st.columnsClose === null || st.select || st.rows.some((r) => r.close < 0)) {
        return err(kind, `INSERT into reference table ${st.table.name} needs a column list and VALUES (its id must be the same on every shard)`)
      }
      sequence = { table: st.table.name, columnsClose: st.columnsClose, rowCloses: st.rows.map((r) => r.close) }
    }
    return { statement: kind, tables, kind: 'broadcast', reason: 'reference tables are written on every shard', reference: true, sequence, rows: st.rows.length }
  }
  if (rule === undefined) return err(kind, `INSERT into ${st.table.name}, a table the shard map does not know`)
  if (st.select) {
    const key = selectKey(st.select, schema)
    const m = mergeShape(d, st.select)
    const scatterError = facts.subqueryProblem ?? (st.select.limit || m.aggregates ? 'INSERT … SELECT with LIMIT or aggregates across shards' : null)
    return { statement: kind, tables, kind: 'write', key, scatterError }
  }
  const cols = st.columns
  if (cols === null) return err(kind, `INSERT into ${st.table.name} without a column list (the shard key cannot be found)`)
  const slotAt = (r: { values: readonly Expr[] }, column: string): number | null => {
    const i = cols.indexOf(column)
    const v = i < 0 ? undefined : r.values[i]
    return v?.t === 'slot' ? v.slot : null
  }
  const rows: InsertRowShape[] = st.rows.map((r) => {
    let key: InsertRowShape['key'] = null
    for (const k of rule.keys) {
      const slot = slotAt(r, k.column)
      if (slot !== null) {
        key = { via: k.via, slot }
        break
      }
    }
    return { key, az: slotAt(r, 'availability_zone'), host: slotAt(r, 'host'), span: r.span }
  })
  return { statement: kind, tables, kind: 'insert', table: st.table.name, rows, places: rule.places, group: rule.group }
}
