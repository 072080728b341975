/**
 * Recursive-descent parser for the DML subset nova (SQLAlchemy + oslo.db on PyMySQL) sends to a
 * cell database: SELECT (joins, nested join groups, derived tables, subqueries, UNION, GROUP BY,
 * HAVING, ORDER BY, LIMIT, FOR UPDATE), INSERT/REPLACE (VALUES rows, SELECT, SET, ON DUPLICATE
 * KEY UPDATE), UPDATE and DELETE (single and multi-table). It runs on the digest stream, only on
 * a plan-cache miss.
 *
 * Why not a library: sql-routing.md §5 names node-sql-parser 5.4.0 (MariaDB build) as the
 * candidate. Tried on the statements nova 26 really emits (captured from nova.db.main.api through
 * SQLAlchemy 1.4 + PyMySQL against MariaDB 10.11) it failed on 7 of 88 distinct statements,
 * among them nova's own `INSERT INTO migrations (…, status, …)` (`status` as a column name),
 * `SAVEPOINT` / `RELEASE SAVEPOINT` / `ROLLBACK TO SAVEPOINT` (every nova savepoint), `SET NAMES`
 * and `SHOW VARIABLES LIKE`, and took 6.5 ms warm for an 8.3 KB joinedload SELECT; its AST also
 * carries no token positions, which plans need to map literals to digest slots and to rewrite
 * LIMITs. sql-parser-cst is GPL. So: this focused parser, which keeps digest-token positions and
 * refuses (with a reason) what it does not understand rather than guessing.
 *
 * Anything inside a construct the parser does not model (CASE, unusual function arguments) is
 * skipped as a balanced run; a SELECT inside such a run is refused, so no table is ever missed.
 */
import type { Assignment, Expr, InsertRow, Limit, OrderItem, Select, SelectItem, Source, Statement } from './ast.js'
import type { Digest, DigestToken } from './digest.js'

export class ParseError extends Error {
  override readonly name = 'ParseError'
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message)
  }
}

export type ParseResult = { readonly ok: true; readonly statement: Statement } | { readonly ok: false; readonly reason: string }

/** Words that end an expression or cannot be an implicit alias. */
const RESERVED = new Set([
  'FROM', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'UNION', 'ON', 'USING', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS',
  'NATURAL', 'STRAIGHT_JOIN', 'OUTER', 'FOR', 'LOCK', 'INTO', 'SET', 'VALUES', 'SELECT', 'AND', 'OR', 'XOR', 'NOT',
  'AS', 'ASC', 'DESC', 'WINDOW', 'OFFSET', 'DUPLICATE', 'USE', 'FORCE', 'IGNORE', 'PARTITION', 'WITH', 'IS', 'IN', 'LIKE',
  'BETWEEN', 'REGEXP', 'RLIKE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'EXCEPT', 'INTERSECT', 'RETURNING', 'COLLATE',
])

const COMPARISON = new Set(['=', '<=>', '!=', '<>', '<', '>', '<=', '>='])
const ARITH = new Set(['|', '&', '<<', '>>', '+', '-', '*', '/', '%', '^', '->', '->>'])

class Parser {
  private i = 0
  private opaque = false

  constructor(private readonly s: readonly DigestToken[]) {}

  // ---- token helpers ----
  private word(k = 0): string {
    const d = this.s[this.i + k]
    return d?.kind === 'token' && d.token.kind === 'word' ? d.token.upper : ''
  }
  private op(k = 0): string {
    const d = this.s[this.i + k]
    return d?.kind === 'token' && d.token.kind === 'op' ? d.token.text : ''
  }
  private atEnd(): boolean {
    return this.i >= this.s.length
  }
  private fail(msg: string): never {
    const d = this.s[this.i]
    const near = d === undefined ? 'end of statement' : d.kind === 'slot' ? 'a literal' : `'${d.token.text}'`
    throw new ParseError(`${msg} near ${near}`, this.i)
  }
  private eatWord(...ws: string[]): boolean {
    if (ws.includes(this.word())) {
      this.i++
      return true
    }
    return false
  }
  private expectWord(w: string): void {
    if (!this.eatWord(w)) this.fail(`expected ${w}`)
  }
  private eatOp(o: string): boolean {
    if (this.op() === o) {
      this.i++
      return true
    }
    return false
  }
  private expectOp(o: string): void {
    if (!this.eatOp(o)) this.fail(`expected '${o}'`)
  }
  /** An identifier (word or quoted), lower-cased. */
  private ident(): string {
    const d = this.s[this.i]
    if (d?.kind === 'token' && (d.token.kind === 'qident' || (d.token.kind === 'word' && !RESERVED.has(d.token.upper)))) {
      this.i++
      return d.token.text.toLowerCase()
    }
    return this.fail('expected an identifier')
  }
  /** After a qualifier dot any word is an identifier (`t.value`, `t.status`). */
  private dotted(): string {
    const d = this.s[this.i]
    if (d?.kind === 'token' && (d.token.kind === 'qident' || d.token.kind === 'word')) {
      this.i++
      return d.token.text.toLowerCase()
    }
    return this.fail('expected an identifier')
  }
  private isIdent(k = 0): boolean {
    const d = this.s[this.i + k]
    return d?.kind === 'token' && (d.token.kind === 'qident' || (d.token.kind === 'word' && !RESERVED.has(d.token.upper)))
  }
  /** Skips a balanced run up to (not including) the `)` that closes the current level. */
  private skipBalanced(): void {
    let depth = 0
    while (!this.atEnd()) {
      const o = this.op()
      if (o === '(') depth++
      else if (o === ')') {
        if (depth === 0) return
        depth--
      } else if (this.word() === 'SELECT') this.fail('unsupported construct around a subquery')
      this.i++
    }
  }

  // ---- statements ----
  statement(): Statement {
    const w = this.word()
    let st: Statement
    if (w === 'SELECT' || this.op() === '(') st = { t: 'select', q: this.selectWithUnion() }
    else if (w === 'INSERT' || w === 'REPLACE') st = this.insert()
    else if (w === 'UPDATE') st = this.update()
    else if (w === 'DELETE') st = this.delete()
    else this.fail('not a DML statement')
    if (!this.atEnd()) this.fail('unexpected text after the statement')
    return st
  }

  private selectWithUnion(): Select {
    const first = this.selectTerm()
    const union: Select[] = []
    while (this.eatWord('UNION')) {
      this.eatWord('ALL', 'DISTINCT')
      union.push(this.selectTerm())
    }
    if (union.length === 0) return first
    // A trailing ORDER BY / LIMIT after a union applies to the whole union.
    const orderBy = this.word() === 'ORDER' ? this.orderBy() : []
    const limit = this.word() === 'LIMIT' ? this.limit() : null
    return { ...first, union, orderBy: orderBy.length ? orderBy : first.orderBy, limit: limit ?? first.limit }
  }

  private selectTerm(): Select {
    if (this.eatOp('(')) {
      const q = this.selectWithUnion()
      this.expectOp(')')
      return q
    }
    return this.select()
  }

  private select(): Select {
    this.expectWord('SELECT')
    let distinct = false
    for (;;) {
      const w = this.word()
      if (w === 'DISTINCT' || w === 'DISTINCTROW') distinct = true
      else if (!(w === 'ALL' || w === 'HIGH_PRIORITY' || w === 'STRAIGHT_JOIN' || w.startsWith('SQL_'))) break
      this.i++
    }
    const items: SelectItem[] = []
    do {
      const from = this.i
      if (this.eatOp('*')) {
        items.push({ expr: { t: 'star', qualifier: null }, alias: null, span: { from, to: this.i } })
        continue
      }
      const expr = this.expr()
      const to = this.i
      let alias: string | null = null
      if (this.eatWord('AS')) alias = this.aliasName()
      else if (this.isIdent() || this.isStringSlot()) alias = this.aliasName()
      items.push({ expr, alias, span: { from, to } })
    } while (this.eatOp(','))
    const itemsEnd = this.i
    let from: Source[] = []
    const innerOn: Expr[] = []
    const outerOn: Expr[] = []
    if (this.eatWord('FROM')) {
      if (this.word() === 'DUAL') this.i++
      else from = this.tableRefs(innerOn, outerOn)
    }
    const where = this.eatWord('WHERE') ? this.expr() : null
    let groupBy: OrderItem[] = []
    if (this.word() === 'GROUP') {
      this.i++
      this.expectWord('BY')
      groupBy = this.orderList()
      if (this.eatWord('WITH')) this.expectWord('ROLLUP')
    }
    const having = this.eatWord('HAVING') ? this.expr() : null
    if (this.word() === 'WINDOW') this.fail('window clauses are not supported')
    const orderBy = this.word() === 'ORDER' ? this.orderBy() : []
    const limit = this.word() === 'LIMIT' ? this.limit() : null
    let lock: Select['lock'] = null
    if (this.word() === 'FOR' && this.word(1) === 'UPDATE') {
      this.i += 2
      lock = 'update'
    } else if (this.word() === 'FOR' && this.word(1) === 'SHARE') {
      this.i += 2
      lock = 'share'
    } else if (this.word() === 'LOCK' && this.word(1) === 'IN') {
      this.i += 2
      this.expectWord('SHARE')
      this.expectWord('MODE')
      lock = 'share'
    }
    if (lock !== null) {
      if (this.eatWord('NOWAIT')) {
        // fine
      } else if (this.word() === 'SKIP' && this.word(1) === 'LOCKED') this.i += 2
      else if (this.eatWord('WAIT')) this.primary()
    }
    if (this.word() === 'INTO') this.fail('SELECT … INTO is not supported')
    return { distinct, items, itemsEnd, from, innerOn, outerOn, where, groupBy, having, orderBy, limit, lock, union: [], opaque: this.opaque }
  }

  private isStringSlot(): boolean {
    const d = this.s[this.i]
    return d?.kind === 'slot'
  }

  private aliasName(): string {
    if (this.isStringSlot()) {
      this.i++
      return '?'
    }
    return this.ident()
  }

  private orderBy(): OrderItem[] {
    this.expectWord('ORDER')
    this.expectWord('BY')
    return this.orderList()
  }

  private orderList(): OrderItem[] {
    const out: OrderItem[] = []
    do {
      const from = this.i
      const expr = this.expr()
      const to = this.i
      let desc = false
      if (this.eatWord('DESC')) desc = true
      else this.eatWord('ASC')
      out.push({ expr, desc, span: { from, to } })
    } while (this.eatOp(','))
    return out
  }

  private limitValue(): number | null {
    const d = this.s[this.i]
    if (d?.kind === 'slot') {
      this.i++
      return d.slot
    }
    this.primary()
    return null
  }

  private limit(): Limit {
    const from = this.i
    this.expectWord('LIMIT')
    const a = this.limitValue()
    if (this.eatOp(',')) {
      const b = this.limitValue()
      return { count: b, offset: a, hasOffset: true, span: { from, to: this.i } }
    }
    if (this.eatWord('OFFSET')) {
      const o = this.limitValue()
      return { count: a, offset: o, hasOffset: true, span: { from, to: this.i } }
    }
    return { count: a, offset: null, hasOffset: false, span: { from, to: this.i } }
  }

  /** table_references: comma-separated join chains, flattened. */
  private tableRefs(innerOn: Expr[], outerOn: Expr[]): Source[] {
    const out: Source[] = []
    do this.joinChain(out, innerOn, outerOn, false)
    while (this.eatOp(','))
    return out
  }

  private joinChain(out: Source[], innerOn: Expr[], outerOn: Expr[], optional: boolean): void {
    this.tableFactor(out, innerOn, outerOn, optional)
    for (;;) {
      let kind: 'inner' | 'left' | 'right' | null = null
      const w = this.word()
      if (w === 'JOIN' || w === 'STRAIGHT_JOIN') {
        this.i++
        kind = 'inner'
      } else if ((w === 'INNER' || w === 'CROSS') && this.word(1) === 'JOIN') {
        this.i += 2
        kind = 'inner'
      } else if (w === 'LEFT' || w === 'RIGHT') {
        this.i++
        this.eatWord('OUTER')
        this.expectWord('JOIN')
        kind = w === 'LEFT' ? 'left' : 'right'
      } else if (w === 'NATURAL') this.fail('NATURAL joins are not supported')
      if (kind === null) return
      const before = out.length
      this.tableFactor(out, innerOn, outerOn, optional || kind === 'left')
      if (kind === 'right') {
        // Everything joined so far becomes NULL-extendable.
        for (let k = 0; k < before; k++) out[k] = { ...out[k]!, optional: true }
      }
      const target = kind === 'inner' && !optional ? innerOn : outerOn
      if (this.eatWord('ON')) target.push(this.expr())
      else if (this.eatWord('USING')) {
        this.expectOp('(')
        do this.ident()
        while (this.eatOp(','))
        this.expectOp(')')
      }
    }
  }

  private tableFactor(out: Source[], innerOn: Expr[], outerOn: Expr[], optional: boolean): void {
    if (this.eatOp('(')) {
      if (this.word() === 'SELECT' || this.op() === '(') {
        const q = this.selectWithUnion()
        this.expectOp(')')
        this.eatWord('AS')
        const alias = this.ident()
        out.push({ kind: 'derived', q, alias, optional })
        return
      }
      // A parenthesised join group: its inner ON conditions filter only if the group is inner.
      const groupInner: Expr[] = []
      const group: Source[] = []
      do this.joinChain(group, groupInner, outerOn, optional)
      while (this.eatOp(','))
      this.expectOp(')')
      for (const g of group) out.push(g)
      for (const e of groupInner) (optional ? outerOn : innerOn).push(e)
      return
    }
    let name = this.ident()
    let schema: string | null = null
    if (this.op() === '.') {
      this.i++
      schema = name
      name = this.dotted()
    }
    if (this.eatWord('PARTITION')) {
      this.expectOp('(')
      this.skipBalanced()
      this.expectOp(')')
    }
    let alias = name
    if (this.eatWord('AS')) alias = this.ident()
    else if (this.isIdent()) alias = this.ident()
    // Index hints.
    while ((this.word() === 'USE' || this.word() === 'FORCE' || this.word() === 'IGNORE') && (this.word(1) === 'INDEX' || this.word(1) === 'KEY')) {
      this.i += 2
      if (this.eatWord('FOR')) {
        if (this.eatWord('ORDER') || this.eatWord('GROUP')) this.expectWord('BY')
        else this.eatWord('JOIN')
      }
      this.expectOp('(')
      this.skipBalanced()
      this.expectOp(')')
    }
    out.push({ kind: 'table', schema, name, alias, optional })
  }

  private insert(): Statement {
    const replace = this.word() === 'REPLACE'
    this.i++
    while (this.eatWord('LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE')) {
      // modifiers do not change routing
    }
    this.eatWord('INTO')
    let name = this.ident()
    let schema: string | null = null
    if (this.eatOp('.')) {
      schema = name
      name = this.dotted()
    }
    if (this.eatWord('PARTITION')) {
      this.expectOp('(')
      this.skipBalanced()
      this.expectOp(')')
    }
    const table = { kind: 'table' as const, schema, name, alias: name, optional: false }
    let columns: string[] | null = null
    let columnsClose: number | null = null
    const rows: InsertRow[] = []
    let select: Select | null = null
    if (this.op() === '(' && this.word(1) !== 'SELECT' && this.op(1) !== '(') {
      this.i++
      columns = []
      if (this.op() !== ')') {
        do columns.push(this.columnName())
        while (this.eatOp(','))
      }
      columnsClose = this.i
      this.expectOp(')')
    }
    if (this.eatWord('VALUES') || this.eatWord('VALUE')) {
      do {
        const from = this.i
        this.expectOp('(')
        const values: Expr[] = []
        if (this.op() !== ')') {
          do values.push(this.expr())
          while (this.eatOp(','))
        }
        const close = this.i
        this.expectOp(')')
        rows.push({ values, close, span: { from, to: this.i } })
      } while (this.eatOp(','))
    } else if (this.eatWord('SET')) {
      const from = this.i
      const assignments = this.assignments()
      columns = assignments.map((a) => a.column.name)
      rows.push({ values: assignments.map((a) => a.value), close: -1, span: { from, to: this.i } })
    } else if (this.word() === 'SELECT' || this.op() === '(') {
      select = this.selectWithUnion()
    } else this.fail('expected VALUES, SET or SELECT')
    if (this.eatWord('AS')) this.ident()
    let onDuplicate: Assignment[] = []
    if (this.eatWord('ON')) {
      this.expectWord('DUPLICATE')
      this.expectWord('KEY')
      this.expectWord('UPDATE')
      onDuplicate = this.assignments()
    }
    if (this.word() === 'RETURNING') this.fail('INSERT … RETURNING is not supported')
    return { t: 'insert', replace, table, columns, columnsClose, rows, select, onDuplicate }
  }

  /** A column name in an INSERT list, possibly qualified (the qualifier is dropped). */
  private columnName(): string {
    let name = this.ident()
    while (this.eatOp('.')) name = this.dotted()
    return name
  }

  private assignments(): Assignment[] {
    const out: Assignment[] = []
    do {
      let qualifier: string | null = null
      let name = this.ident()
      while (this.eatOp('.')) {
        qualifier = name
        name = this.dotted()
      }
      this.expectOp('=')
      out.push({ column: { qualifier, name }, value: this.expr() })
    } while (this.eatOp(','))
    return out
  }

  private update(): Statement {
    this.expectWord('UPDATE')
    while (this.eatWord('LOW_PRIORITY', 'IGNORE')) {
      // modifiers do not change routing
    }
    const innerOn: Expr[] = []
    const from = this.tableRefs(innerOn, [])
    this.expectWord('SET')
    const set = this.assignments()
    const where = this.eatWord('WHERE') ? this.expr() : null
    const orderBy = this.word() === 'ORDER' ? this.orderBy() : []
    const limit = this.word() === 'LIMIT' ? this.limit() : null
    return { t: 'update', from, innerOn, set, where, orderBy, limit }
  }

  private delete(): Statement {
    this.expectWord('DELETE')
    while (this.eatWord('LOW_PRIORITY', 'QUICK', 'IGNORE')) {
      // modifiers do not change routing
    }
    const innerOn: Expr[] = []
    let targets: string[] = []
    let from: Source[]
    if (this.eatWord('FROM')) {
      if (this.isIdent() && (this.op(1) === ',' || this.word(1) === 'USING' || (this.op(1) === '.' && this.op(3) === '*'))) {
        // DELETE FROM t1, t2 USING …
        targets = this.targetList()
        this.expectWord('USING')
        from = this.tableRefs(innerOn, [])
      } else {
        from = this.tableRefs(innerOn, [])
        if (from.length === 1) targets = [from[0]!.alias]
        else this.fail('expected a single table')
      }
    } else {
      targets = this.targetList()
      this.expectWord('FROM')
      from = this.tableRefs(innerOn, [])
    }
    const where = this.eatWord('WHERE') ? this.expr() : null
    const orderBy = this.word() === 'ORDER' ? this.orderBy() : []
    const limit = this.word() === 'LIMIT' ? this.limit() : null
    return { t: 'delete', targets, from, innerOn, where, orderBy, limit }
  }

  private targetList(): string[] {
    const out: string[] = []
    do {
      let name = this.ident()
      if (this.eatOp('.')) {
        if (this.eatOp('*')) {
          // t.* names t
        } else name = this.dotted()
      }
      out.push(name)
    } while (this.eatOp(','))
    return out
  }

  // ---- expressions (MySQL precedence, collapsed where routing does not care) ----
  expr(): Expr {
    const items = [this.xorExpr()]
    while (this.eatWord('OR') || this.eatOp('||')) items.push(this.xorExpr())
    return items.length === 1 ? items[0]! : { t: 'or', items }
  }
  private xorExpr(): Expr {
    let e = this.andExpr()
    while (this.eatWord('XOR')) e = { t: 'other', parts: [e, this.andExpr()] }
    return e
  }
  private andExpr(): Expr {
    const items = [this.notExpr()]
    while (this.eatWord('AND') || this.eatOp('&&')) items.push(this.notExpr())
    return items.length === 1 ? items[0]! : { t: 'and', items }
  }
  private notExpr(): Expr {
    if (this.eatWord('NOT')) return { t: 'other', parts: [this.notExpr()] }
    return this.predicate()
  }
  private predicate(): Expr {
    const l = this.arith()
    for (;;) {
      const o = this.op()
      if (COMPARISON.has(o)) {
        this.i++
        if (this.word() === 'ANY' || this.word() === 'ALL' || this.word() === 'SOME') {
          this.i++
          return { t: 'other', parts: [l, this.arith()] }
        }
        return { t: 'bin', op: o === '<=>' ? '=' : o, l, r: this.arith() }
      }
      const w = this.word()
      if (w === 'IS') {
        this.i++
        this.eatWord('NOT')
        if (!this.eatWord('NULL', 'TRUE', 'FALSE', 'UNKNOWN')) this.fail('expected NULL, TRUE, FALSE or UNKNOWN')
        return { t: 'other', parts: [l] }
      }
      const not = w === 'NOT' && ['IN', 'BETWEEN', 'LIKE', 'REGEXP', 'RLIKE'].includes(this.word(1))
      if (not) this.i++
      const w2 = this.word()
      if (w2 === 'IN') {
        this.i++
        this.expectOp('(')
        if (this.word() === 'SELECT' || this.op() === '(') {
          const q = this.selectWithUnion()
          this.expectOp(')')
          return { t: 'other', parts: [l, { t: 'sub', q }] }
        }
        const list: Expr[] = []
        if (this.op() !== ')') {
          do list.push(this.expr())
          while (this.eatOp(','))
        }
        this.expectOp(')')
        return { t: 'in', e: l, not, list }
      }
      if (w2 === 'BETWEEN') {
        this.i++
        const a = this.arith()
        this.expectWord('AND')
        return { t: 'other', parts: [l, a, this.arith()] }
      }
      if (w2 === 'LIKE' || w2 === 'REGEXP' || w2 === 'RLIKE') {
        this.i++
        const r = this.arith()
        const parts: Expr[] = [l, r]
        if (this.eatWord('ESCAPE')) parts.push(this.arith())
        return { t: 'other', parts }
      }
      if (w2 === 'SOUNDS' && this.word(1) === 'LIKE') {
        this.i += 2
        return { t: 'other', parts: [l, this.arith()] }
      }
      if (not) this.fail('unexpected NOT')
      return l
    }
  }
  private arith(): Expr {
    let l = this.unary()
    for (;;) {
      const o = this.op()
      const w = this.word()
      if (ARITH.has(o)) this.i++
      else if (w === 'DIV' || w === 'MOD') this.i++
      else return l
      l = { t: 'other', parts: [l, this.unary()] }
    }
  }
  private unary(): Expr {
    const o = this.op()
    if (o === '-' || o === '+' || o === '~' || o === '!') {
      this.i++
      const e = this.unary()
      // A negative literal stays a literal for routing purposes only when it is a bare slot: keep
      // it opaque, ids are never negative.
      return { t: 'other', parts: [e] }
    }
    if (this.word() === 'BINARY') {
      this.i++
      return { t: 'other', parts: [this.unary()] }
    }
    let e = this.primary()
    while (this.word() === 'COLLATE') {
      this.i++
      this.aliasName()
      e = { t: 'other', parts: [e] }
    }
    return e
  }
  primary(): Expr {
    const d = this.s[this.i]
    if (d === undefined) return this.fail('expected an expression')
    if (d.kind === 'slot') {
      this.i++
      return { t: 'slot', slot: d.slot }
    }
    const tk = d.token
    if (tk.kind === 'var' || tk.kind === 'sysvar') {
      this.i++
      if (this.op() === ':=') {
        this.i++
        return { t: 'other', parts: [{ t: 'var' }, this.expr()] }
      }
      return { t: 'var' }
    }
    if (tk.kind === 'op') {
      if (tk.text === '(') {
        this.i++
        if (this.word() === 'SELECT' || (this.op() === '(' && this.word(1) === 'SELECT')) {
          const q = this.selectWithUnion()
          this.expectOp(')')
          return { t: 'sub', q }
        }
        const items = [this.expr()]
        while (this.eatOp(',')) items.push(this.expr())
        this.expectOp(')')
        return items.length === 1 ? items[0]! : { t: 'other', parts: items }
      }
      if (tk.text === '*') {
        this.i++
        return { t: 'star', qualifier: null }
      }
      if (tk.text === '{') {
        // ODBC escape {d '…'}
        this.i++
        this.ident()
        const e = this.expr()
        this.expectOp('}')
        return { t: 'other', parts: [e] }
      }
      return this.fail('unexpected operator')
    }
    if (tk.kind === 'word') {
      const w = tk.upper
      if (w === 'NULL') {
        this.i++
        return { t: 'null' }
      }
      if (w === 'TRUE' || w === 'FALSE' || w === 'DEFAULT' || w === 'UNKNOWN') {
        this.i++
        if (w === 'DEFAULT' && this.op() === '(') return this.call('DEFAULT')
        return { t: 'other', parts: [] }
      }
      if (w === 'EXISTS') {
        this.i++
        this.expectOp('(')
        const q = this.selectWithUnion()
        this.expectOp(')')
        return { t: 'sub', q }
      }
      if (w === 'CASE') return this.caseExpr()
      if (w === 'INTERVAL') {
        this.i++
        const e = this.expr()
        this.i++ // the unit
        return { t: 'other', parts: [e] }
      }
      if ((w === 'DATE' || w === 'TIME' || w === 'TIMESTAMP') && this.s[this.i + 1]?.kind === 'slot') {
        this.i++
        return { t: 'other', parts: [this.primary()] }
      }
      if (w === 'NOT') {
        this.i++
        return { t: 'other', parts: [this.unary()] }
      }
      if (w === 'MATCH') this.fail('MATCH … AGAINST is not supported')
    }
    if (tk.kind === 'word' || tk.kind === 'qident') {
      if (tk.kind === 'word' && RESERVED.has(tk.upper) && !(this.op(1) === '(' && ['LEFT', 'RIGHT', 'INSERT', 'REPLACE', 'VALUES', 'IF'].includes(tk.upper))) {
        return this.fail('unexpected keyword')
      }
      this.i++
      if (this.op() === '(' && tk.kind === 'word') return this.call(tk.upper)
      // Column reference a[.b[.c]] or a.*.
      let qualifier: string | null = null
      let name = tk.text.toLowerCase()
      while (this.op() === '.') {
        this.i++
        if (this.eatOp('*')) return { t: 'star', qualifier: name }
        qualifier = name
        name = this.dotted()
      }
      return { t: 'col', qualifier, name }
    }
    return this.fail('unexpected token')
  }

  private call(name: string): Expr {
    this.expectOp('(')
    if (name === 'COUNT' && this.eatOp('*')) {
      this.expectOp(')')
      return { t: 'fn', name, args: [], distinct: false, star: true }
    }
    const distinct = this.eatWord('DISTINCT')
    const start = this.i
    const args: Expr[] = []
    try {
      if (this.op() !== ')') {
        do args.push(this.expr())
        while (this.eatOp(','))
      }
      if (this.op() !== ')') throw new ParseError('special argument syntax', this.i)
    } catch (e) {
      if (!(e instanceof ParseError)) throw e
      // CAST(x AS t), CONVERT(x USING c), EXTRACT(u FROM x), GROUP_CONCAT(… SEPARATOR …), TRIM(…
      // FROM …): the arguments do not matter for routing; skip them as a balanced run.
      this.i = start
      this.skipBalanced()
      this.opaque = true
      args.length = 0
    }
    this.expectOp(')')
    if (this.word() === 'OVER') this.fail('window functions are not supported')
    return { t: 'fn', name, args, distinct, star: false }
  }

  private caseExpr(): Expr {
    this.expectWord('CASE')
    const parts: Expr[] = []
    if (this.word() !== 'WHEN') parts.push(this.expr())
    while (this.eatWord('WHEN')) {
      parts.push(this.expr())
      this.expectWord('THEN')
      parts.push(this.expr())
    }
    if (this.eatWord('ELSE')) parts.push(this.expr())
    this.expectWord('END')
    return { t: 'other', parts }
  }
}

/** Parses a DML statement from its digest. */
export function parseStatement(d: Digest): ParseResult {
  try {
    return { ok: true, statement: new Parser(d.stream).statement() }
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, reason: e.message }
    throw e
  }
}
