/**
 * The small syntax tree shard-mode routing needs: enough structure to find shard keys, tables,
 * joins, derived tables, ORDER BY / GROUP BY / LIMIT and aggregates. Everything else parses into
 * `other` nodes that keep their children, so subqueries are never lost. Literals are digest slot
 * numbers, and ranges are digest-token indexes, both stable for every statement of one digest.
 */

/** Digest-token index range [from, to) of a piece of syntax. */
export interface Span {
  readonly from: number
  readonly to: number
}

export type Expr =
  | { readonly t: 'col'; readonly qualifier: string | null; readonly name: string }
  | { readonly t: 'slot'; readonly slot: number }
  | { readonly t: 'null' }
  | { readonly t: 'bin'; readonly op: string; readonly l: Expr; readonly r: Expr }
  | { readonly t: 'and'; readonly items: readonly Expr[] }
  | { readonly t: 'or'; readonly items: readonly Expr[] }
  | { readonly t: 'in'; readonly e: Expr; readonly not: boolean; readonly list: readonly Expr[] }
  | { readonly t: 'fn'; readonly name: string; readonly args: readonly Expr[]; readonly distinct: boolean; readonly star: boolean }
  | { readonly t: 'sub'; readonly q: Select }
  | { readonly t: 'star'; readonly qualifier: string | null }
  | { readonly t: 'var' }
  | { readonly t: 'other'; readonly parts: readonly Expr[] }

export type Source =
  | {
      readonly kind: 'table'
      readonly schema: string | null
      readonly name: string
      readonly alias: string
      /** On the NULL-extended side of an outer join. */
      readonly optional: boolean
    }
  | { readonly kind: 'derived'; readonly q: Select; readonly alias: string; readonly optional: boolean }

export interface SelectItem {
  readonly expr: Expr
  readonly alias: string | null
  readonly span: Span
}

export interface OrderItem {
  readonly expr: Expr
  readonly desc: boolean
  readonly span: Span
}

export interface Limit {
  /** Slot numbers (or null when the clause holds something other than a literal). */
  readonly count: number | null
  readonly offset: number | null
  /** Whether OFFSET was written (`LIMIT n OFFSET o` or `LIMIT o, n`). */
  readonly hasOffset: boolean
  readonly span: Span
}

export interface Select {
  readonly distinct: boolean
  readonly items: readonly SelectItem[]
  /** Digest-token index just after the select list (where hidden sort columns go). */
  readonly itemsEnd: number
  readonly from: readonly Source[]
  /** ON conditions of inner joins (they filter like WHERE). */
  readonly innerOn: readonly Expr[]
  /** ON conditions of outer joins (they only decide NULL extension). */
  readonly outerOn: readonly Expr[]
  readonly where: Expr | null
  readonly groupBy: readonly OrderItem[]
  readonly having: Expr | null
  readonly orderBy: readonly OrderItem[]
  readonly limit: Limit | null
  readonly lock: 'update' | 'share' | null
  /** Further parts of a UNION. */
  readonly union: readonly Select[]
  /** Something the parser skipped as a balanced run (CASE bodies, odd function arguments). */
  readonly opaque: boolean
}

export interface InsertRow {
  readonly values: readonly Expr[]
  /** Digest-token index of the row's closing parenthesis. */
  readonly close: number
  readonly span: Span
}

export type Statement =
  | { readonly t: 'select'; readonly q: Select }
  | {
      readonly t: 'insert'
      readonly replace: boolean
      readonly table: Source & { kind: 'table' }
      readonly columns: readonly string[] | null
      /** Digest-token index of the column list's closing parenthesis. */
      readonly columnsClose: number | null
      readonly rows: readonly InsertRow[]
      readonly select: Select | null
      readonly onDuplicate: readonly Assignment[]
    }
  | {
      readonly t: 'update'
      readonly from: readonly Source[]
      readonly innerOn: readonly Expr[]
      readonly set: readonly Assignment[]
      readonly where: Expr | null
      readonly orderBy: readonly OrderItem[]
      readonly limit: Limit | null
    }
  | {
      readonly t: 'delete'
      /** Aliases or names of the tables rows are deleted from. */
      readonly targets: readonly string[]
      readonly from: readonly Source[]
      readonly innerOn: readonly Expr[]
      readonly where: Expr | null
      readonly orderBy: readonly OrderItem[]
      readonly limit: Limit | null
    }

export interface Assignment {
  readonly column: { readonly qualifier: string | null; readonly name: string }
  readonly value: Expr
}
