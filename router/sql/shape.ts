/**
 * A statement's *shape*: everything routing needs that does not depend on literal values, so it
 * is computed once per digest and cached. Values enter only in `resolvePlan` (plan.ts), through
 * the slot numbers a shape names.
 */
import type { Span } from './ast.js'
import type { KeyVia } from './shard-schema.js'
import type { ShardError } from './shard-errors.js'

export type StatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'replace'
  | 'ddl'
  | 'set'
  | 'use'
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'savepoint'
  | 'show'
  | 'other'

/** A condition on shard keys: which shards can hold the rows a statement touches. */
export type KeyExpr =
  | { readonly t: 'key'; readonly via: KeyVia; readonly slot: number }
  /** No row can match (SQLAlchemy's empty IN renders as `IN (NULL)`). */
  | { readonly t: 'none' }
  | { readonly t: 'all' }
  | { readonly t: 'and'; readonly items: readonly KeyExpr[] }
  | { readonly t: 'or'; readonly items: readonly KeyExpr[] }

/** How one output column is combined across shards. */
export type ColumnAgg = 'count' | 'sum' | 'min' | 'max' | 'key' | 'first'

/** A column of the shard rows: >= 0 from the left, < 0 from the right (-1 is the last). */
export type ColumnRef = number

export interface MergeShape {
  readonly orderBy: readonly { readonly column: ColumnRef; readonly desc: boolean }[]
  /** Expressions cellgate appends to the select list (sort or group keys not selected). */
  readonly hidden: readonly Span[]
  /** Digest-token index where hidden columns are inserted (the FROM keyword). */
  readonly itemsEnd: number
  /** LIMIT of the statement (outer) or of its leading derived table (joinedload). */
  readonly limit: { readonly count: number; readonly offset: number | null; readonly where: 'outer' | 'derived' } | null
  /**
   * With a derived LIMIT: how many leading ORDER BY keys are the derived table's own columns (they
   * identify a parent row; the keys after them order its children). Absent: all keys.
   */
  readonly parentKeys?: number
  readonly aggregates: readonly ColumnAgg[] | null
  readonly groupBy: readonly ColumnRef[]
  readonly distinct: boolean
  /** Why this statement cannot be merged across shards; it still runs when one shard suffices. */
  readonly scatterError: string | null
}

export interface InsertRowShape {
  /** The key that places the row, or null when the row carries none. */
  readonly key: { readonly via: KeyVia; readonly slot: number } | null
  /** Placement hints for a new instance or host. */
  readonly az: number | null
  readonly host: number | null
  /** Source offsets are per statement; these are digest-token indexes of the row. */
  readonly span: Span
}

export interface SequenceShape {
  readonly table: string
  /** Digest-token index of the column list's `)` and of each row's `)`. */
  readonly columnsClose: number
  readonly rowCloses: readonly number[]
}

interface Common {
  readonly statement: StatementKind
  /** Tables the statement reads or writes, lower-case, without schema. */
  readonly tables: readonly string[]
}

export type Shape = Common &
  (
    | { readonly kind: 'error'; readonly error: ShardError }
    | { readonly kind: 'session' }
    | { readonly kind: 'transaction'; readonly verb: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to'; readonly savepoint: string | null }
    /** Any one shard: no table data involved, or reference/catalog tables only. */
    | { readonly kind: 'any'; readonly reason: string }
    /** The shard of the session's previous statement (SHOW WARNINGS, LAST_INSERT_ID()). */
    | { readonly kind: 'last'; readonly reason: string }
    /** Named locks (GET_LOCK): always the first shard, so every session sees the same locks. */
    | { readonly kind: 'lock'; readonly reason: string }
    /** DDL and reference-table writes: every shard, one at a time, in shard order. */
    | {
        readonly kind: 'broadcast'
        readonly reason: string
        readonly reference: boolean
        readonly sequence: SequenceShape | null
        readonly rows: number
        /** ALTER DATABASE <name>: digest-token index of the name, which each shard replaces with its own database. */
        readonly database?: number
      }
    | { readonly kind: 'read'; readonly key: KeyExpr; readonly merge: MergeShape; readonly lock: boolean }
    /** UPDATE / DELETE / INSERT … SELECT on sharded tables. */
    | { readonly kind: 'write'; readonly key: KeyExpr; readonly scatterError: string | null }
    /** INSERT … VALUES into a sharded table. */
    | { readonly kind: 'insert'; readonly table: string; readonly rows: readonly InsertRowShape[]; readonly places: KeyVia | null; readonly group: 'instance' | 'host' }
  )
