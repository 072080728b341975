/**
 * Shard mode for one client session (sql-routing.md §2 "Mode B"): every statement is planned by
 * the pure router (router/sql/plan.ts), run on the planned shards, and answered with one coherent
 * reply:
 * - one shard: its reply relayed raw, packet by packet (the hot path; nothing decoded);
 * - a scatter read: each shard's text result set decoded, merged (router/sql/merge.ts) and
 *   re-encoded as one result set with the first shard's column definitions;
 * - a multi-shard write: the OK packets combined (affected rows and warnings added up);
 * - DDL and reference-table writes: every shard in order, stopping at the first error, whose
 *   message then says which shards already applied the statement;
 * - errors keep the server's code and SQLSTATE; cellgate's own are 9101–9104 (shard-errors.ts);
 * - prepared statements: cellgate's own statement ids, each execution planned as its bound text
 *   (see "prepared statements" below).
 *
 * Connections: one backend connection per shard, taken from the shared pool when a statement
 * needs that shard and given back as soon as the shard holds no transaction and the session no
 * pinned state. Each carries the session's SET statements plus the shard's
 * `auto_increment_increment = N, auto_increment_offset = i+1` (§2.7: ids unique across shards,
 * and `id % N` names the shard). Transactions are tracked from status flags by the TxTracker.
 */
import type { Logger } from '../log/logger.js'
import { mergeRows, type Row } from '../../router/sql/merge.js'
import type { PlanCache } from '../../router/sql/plan-cache.js'
import { planStatement, withSequenceIds, type Plan, type ShardId, type UnknownKeys } from '../../router/sql/plan.js'
import { bindLiterals, placeholders } from '../../router/sql/placeholders.js'
import type { TokenizeOptions } from '../../router/sql/tokenize.js'
import { classifySession, type SessionEffect } from '../../router/sql/session-statement.js'
import { CROSS_SHARD_WRITE, unsupported } from '../../router/sql/shard-errors.js'
import type { ShardSchema } from '../../router/sql/shard-schema.js'
import { TxTracker } from '../../router/sql/tx-tracker.js'
import { BackendError, type BackendConnection } from './backend-connection.js'
import { CURSOR_FLAGS, closePacket, executePacket, literal, parseExecute, preparePacket, type ExecuteRequest } from './binary-params.js'
import type { BackendPool } from './backend-pool.js'
import { errPacket, okPacket, type OkFields, type SqlError } from './packets.js'
import { Com, Status } from './protocol.js'
import type { ResponseKind, ResponseSummary } from './response-tracker.js'
import { encodeBinaryResultSet } from './binary-rows.js'
import { combineOk, decodeReply, encodeResultSet, type DecodedReply, type ResultRows } from './result-set.js'
import { recordName, type ShardDirectory } from './shard-directory.js'
import { replaySessionState } from './session-replay.js'
import { backendLost, malformedPacket } from './sql-errors.js'
import { ProtocolDecodeError } from './wire-codec.js'

/** What a front end shares between its shard-mode sessions. */
export interface ShardContext {
  /** The logical database whose sessions are in shard mode. */
  readonly database: string
  readonly directory: ShardDirectory
  readonly schema: ShardSchema
  readonly cache: PlanCache
}

/** What a shard session needs from its client session. */
export interface ShardHost {
  readonly log: Logger
  readonly pool: BackendPool
  backendCaps(): number
  collation(): number
  /** The session's SET statements, by state key, in order. */
  vars(): ReadonlyMap<string, string>
  /** Something besides a transaction keeps the session on its connections (user variables, locks). */
  pinned(): boolean
  write(payload: Buffer): void
  /** Writes a relayed backend packet (framed: see PacketWriter.relay), pausing that backend while the client is slow. */
  relay(payload: Buffer, conn: BackendConnection, framed?: Buffer): void
  applyEffect(effect: SessionEffect, conn: BackendConnection): void
  /** Holds replies back from the client until the returned release is called (TurnBatch.hold). */
  holdReplies(): () => void
}

/** A reply could not be completed after part of it reached the client: the connection must end. */
export class BrokenReply extends Error {
  constructor(readonly sqlError: SqlError) {
    super(sqlError.message)
  }
}

/** Statements after a generated insert id during which its shard connection is kept (LAST_INSERT_ID()). */
const INSERT_ID_STICKY_STATEMENTS = 5
/** Placement lookups one statement may make (each asks for all the unknown values of one key). */
const MAX_LOOKUP_ROUNDS = 8

/** What a plan needs looked up: the key an INSERT was refused for, or the values a statement scattered for. */
function unknownKeysOf(plan: Plan): UnknownKeys | undefined {
  if (plan.kind === 'error') return plan.missing
  if (plan.kind === 'all') return plan.unknown
  return undefined
}
const ESCAPES: TokenizeOptions = Object.freeze({})
const NO_ESCAPES: TokenizeOptions = Object.freeze({ noBackslashEscapes: true })

/** A statement prepared by the client; shards prepare it lazily, on their connection, at first execute. */
interface Prepared {
  /** The statement as the client sent it (COM_STMT_PREPARE's payload after the command byte). */
  readonly text: Buffer
  readonly sql: string
  /** Offsets of its `?` placeholders in `sql`. */
  readonly offsets: readonly number[]
  /** Types of the last execution (reused when the client sends new-params-bound = 0). */
  types: Buffer | null
  /** COM_STMT_SEND_LONG_DATA chunks per parameter, until the next execute or reset. */
  readonly longData: Map<number, Buffer[]>
}

const unknownStatement = (id: number, command: string): SqlError => ({
  code: 1243,
  sqlState: 'HY000',
  message: `Unknown prepared statement handler (${id}) given to ${command}`,
})

type Collected = { readonly shard: ShardId; readonly reply: DecodedReply; readonly status: number }

const quoteIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``

const queryPayload = (sql: string): Buffer => Buffer.concat([Buffer.from([Com.QUERY]), Buffer.from(sql, 'utf8')])

export class ShardSession {
  private readonly held = new Map<ShardId, BackendConnection>()
  private readonly tx: TxTracker
  private lastShard: ShardId | null = null
  /** BEGIN / START TRANSACTION seen and not yet ended: the client believes a transaction is open. */
  private begun = false
  private stickyShard: ShardId | null = null
  private sticky = 0
  /** Status flags the client last saw (local OKs reuse them). */
  status: number = Status.AUTOCOMMIT
  /** The session's prepared statements, by the id cellgate gave the client. */
  private readonly statements = new Map<number, Prepared>()
  private nextStatementId = 1
  /** Per shard connection: cellgate statement id → that shard's own statement id. */
  private readonly onShard = new WeakMap<BackendConnection, Map<number, number>>()

  constructor(
    private readonly ctx: ShardContext,
    private readonly host: ShardHost,
  ) {
    this.tx = new TxTracker(ctx.directory.shards.map((s) => s.id))
  }

  /** Shard connections are held (an open transaction or pinned state). */
  get holding(): boolean {
    return this.held.size > 0
  }

  plan(sql: string): Plan {
    return planStatement(sql, {
      schema: this.ctx.schema,
      map: this.ctx.directory,
      session: { writeShard: this.tx.writeShard, lastShard: this.lastShard },
      cache: this.ctx.cache,
      database: this.ctx.database,
      tokenize: this.lexing(),
    })
  }

  /**
   * A plan refused or scattered for keys this process does not know: looks them up in the shards'
   * placement tables (another cellgate process may have placed them) and plans again, until the
   * plan needs no unknown key or the shards do not have them either.
   */
  private async learn(first: Plan, sql: string): Promise<Plan> {
    let plan = first
    for (let round = 0; round < MAX_LOOKUP_ROUNDS; round++) {
      const keys = unknownKeysOf(plan)
      if (keys === undefined) return plan
      if ((await this.ctx.directory.lookup(keys, plan.kind === 'error' ? 'ask' : 'skip')) === 0) return plan
      plan = this.plan(sql)
    }
    return plan
  }

  /** How the server reads this session's string literals: sql_mode NO_BACKSLASH_ESCAPES, from the last status flags. */
  private lexing(): TokenizeOptions {
    return (this.status & Status.NO_BACKSLASH_ESCAPES) !== 0 ? NO_ESCAPES : ESCAPES
  }

  /** Runs one COM_QUERY (`payload`, its text `sql`) and writes the reply. */
  async query(payload: Buffer, sql: string, effect: SessionEffect): Promise<void> {
    let plan = this.plan(sql)
    if (unknownKeysOf(plan) !== undefined) plan = await this.learn(plan, sql)
    try {
      switch (plan.kind) {
        case 'error':
          return this.writeErr(plan)
        case 'session':
          return await this.session(payload, effect)
        case 'transaction':
          return await this.transaction(plan, payload)
        default:
          return await this.execute(plan, payload, sql, effect)
      }
    } finally {
      this.settle()
    }
  }

  /** COM_FIELD_LIST: the table's columns are the same on every shard. */
  async fieldList(payload: Buffer): Promise<void> {
    const shard = this.lastShard ?? this.ctx.directory.shards[0]!.id
    try {
      await this.relayOn(shard, payload, 'field-list')
    } finally {
      this.settle()
    }
  }

  // ---- prepared statements (binary protocol) ----
  //
  // Each execution is planned as the text statement it stands for (its values rendered as
  // literals), so it goes exactly where that text would go, under the same transaction rules:
  // - one shard: the statement is prepared on that shard's connection (once per connection) and
  //   the execute relayed with the shard's statement id; the binary result set comes back raw;
  // - replies that are only an OK (multi-shard writes, DDL, reference-table writes, transaction
  //   verbs, SET): the bound text runs the text way; an OK reads the same in both protocols;
  // - rows from several shards: the bound text scatters and merges as a text query would, and
  //   the merged rows are re-encoded as binary rows (binary-rows.ts);
  // - maintenance statements on every shard (their rows are text) and cursors: refused (9102).
  // Shard-side statements never outlive the connection's time with this session: they are
  // closed before it goes back to the pool (settle, close) and die with a discarded one.

  /** COM_STMT_PREPARE: one shard's metadata (parameters, columns) under a cellgate statement id. */
  async prepare(payload: Buffer): Promise<void> {
    const shard = this.lastShard ?? this.ctx.directory.shards[0]!.id
    try {
      const sql = payload.subarray(1).toString('utf8')
      const conn = await this.conn(shard)
      if (!isConnection(conn)) return this.writeErr(conn)
      const packets: Buffer[] = []
      let s: ResponseSummary
      try {
        s = await conn.request(payload, 'prepare', (p) => packets.push(Buffer.from(p)))
      } catch (e) {
        this.lose(shard, conn)
        return this.writeErr(e instanceof BackendError ? e.sqlError : backendLost())
      }
      if (s.error !== null || s.statementId === null) {
        for (const p of packets) this.host.write(p)
        return
      }
      // Only the metadata was wanted: executions prepare on the shard they route to.
      conn.send(closePacket(s.statementId))
      const ph = placeholders(sql, this.lexing())
      if (!ph.ok) return this.writeErr(unsupported(`a prepared statement cellgate cannot tokenize (${ph.reason})`))
      const params = packets[0]!.readUInt16LE(7)
      if (ph.offsets.length !== params) return this.writeErr(unsupported(`the server counts ${params} parameters in the prepared statement, cellgate ${ph.offsets.length}`))
      const id = this.nextStatementId++
      this.statements.set(id, { text: Buffer.from(payload.subarray(1)), sql, offsets: ph.offsets, types: null, longData: new Map() })
      packets[0]!.writeUInt32LE(id, 1)
      for (const p of packets) this.host.write(p)
    } finally {
      this.settle()
    }
  }

  /** COM_STMT_EXECUTE. */
  async executeStatement(payload: Buffer): Promise<void> {
    const id = payload.length >= 5 ? payload.readUInt32LE(1) : -1
    const st = this.statements.get(id)
    if (st === undefined) return this.writeErr(unknownStatement(id, 'mysqld_stmt_execute'))
    if ((payload[5] ?? 0) & CURSOR_FLAGS) return this.writeErr(unsupported('a prepared statement executed with a cursor (COM_STMT_FETCH); execute it without one'))
    let req: ExecuteRequest | SqlError
    try {
      req = parseExecute(payload, st.offsets.length, st.types, st.longData)
    } catch (e) {
      if (e instanceof ProtocolDecodeError) return this.writeErr(malformedPacket(e.message))
      throw e
    } finally {
      st.longData.clear()
    }
    if ('code' in req) return this.writeErr(req)
    st.types = req.types
    const noEsc = (this.status & Status.NO_BACKSLASH_ESCAPES) !== 0
    const literals: Buffer[] = []
    for (const p of req.params) {
      const l = literal(p, noEsc)
      if (!Buffer.isBuffer(l)) return this.writeErr(l)
      literals.push(l)
    }
    const sql = bindLiterals(
      st.sql,
      st.offsets,
      literals.map((l) => l.toString('utf8')),
    )
    const effect = classifySession(sql)
    if (effect.kind === 'use') return this.writeErr(unsupported('USE as a prepared statement; use COM_INIT_DB or a text USE'))
    let plan = this.plan(sql)
    if (unknownKeysOf(plan) !== undefined) plan = await this.learn(plan, sql)
    if (plan.kind === 'single' && plan.sql === null) {
      try {
        return await this.execute(plan, payload, sql, effect, (p) => this.executeOn(p.shard, id, st, req))
      } finally {
        this.settle()
      }
    }
    if (plan.kind === 'error') return this.writeErr(plan)
    if (plan.kind === 'single') return this.writeErr(unsupported('a prepared statement the router rewrites for its shard; run it as a text query'))
    if ((plan.kind === 'shards' || plan.kind === 'all') && plan.merge.kind === 'rows') {
      // The shards run the bound text; their merged text rows are re-encoded as binary rows.
      try {
        return await this.execute(plan, queryPayload(sql), sql, effect, undefined, true)
      } finally {
        this.settle()
      }
    }
    if (plan.kind === 'all-in-order' && plan.statement === 'other') {
      return this.writeErr(unsupported('a prepared maintenance statement that runs on every shard (its rows would be text); run it as a text query'))
    }
    return this.query(queryPayload(sql), sql, effect)
  }

  /** Runs an execution on one shard: the shard's own statement (prepared on first use), relayed raw. */
  private async executeOn(shard: ShardId, id: number, st: Prepared, req: ExecuteRequest): Promise<ResponseSummary | null> {
    const conn = await this.conn(shard)
    if (!isConnection(conn)) {
      this.writeErr(conn)
      return null
    }
    let ids = this.onShard.get(conn)
    if (ids === undefined) {
      ids = new Map()
      this.onShard.set(conn, ids)
    }
    let backendId = ids.get(id)
    if (backendId === undefined) {
      let s: ResponseSummary
      try {
        s = await conn.request(preparePacket(st.text), 'prepare', () => {})
      } catch (e) {
        this.lose(shard, conn)
        this.writeErr(e instanceof BackendError ? e.sqlError : backendLost())
        return null
      }
      if (s.error !== null || s.statementId === null) {
        this.writeErr(s.error ?? backendLost())
        return null
      }
      backendId = s.statementId
      ids.set(id, backendId)
    }
    return this.relayOn(shard, executePacket(backendId, req), 'execute')
  }

  /** COM_STMT_CLOSE (no reply): forgets the statement and closes it on every shard that prepared it. */
  closeStatement(payload: Buffer): void {
    const id = payload.length >= 5 ? payload.readUInt32LE(1) : -1
    if (!this.statements.delete(id)) return
    for (const conn of this.held.values()) {
      const ids = this.onShard.get(conn)
      const backendId = ids?.get(id)
      if (backendId === undefined) continue
      ids!.delete(id)
      conn.send(closePacket(backendId))
    }
  }

  /** COM_STMT_RESET: drops long data; there are no cursors to close (executes never open one). */
  resetStatement(payload: Buffer): void {
    const id = payload.length >= 5 ? payload.readUInt32LE(1) : -1
    const st = this.statements.get(id)
    if (st === undefined) return this.writeErr(unknownStatement(id, 'mysqld_stmt_reset'))
    st.longData.clear()
    this.host.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
  }

  /** COM_STMT_SEND_LONG_DATA (no reply): kept until the next execute, which sends it inline. */
  longData(payload: Buffer): void {
    if (payload.length < 7) return
    const st = this.statements.get(payload.readUInt32LE(1))
    const param = payload.readUInt16LE(5)
    if (st === undefined || param >= st.offsets.length) return
    const chunks = st.longData.get(param) ?? []
    chunks.push(Buffer.from(payload.subarray(7)))
    st.longData.set(param, chunks)
  }

  /** COM_STMT_FETCH: executes never open a cursor in shard mode, so there is nothing to fetch. */
  fetch(payload: Buffer): void {
    const id = payload.length >= 5 ? payload.readUInt32LE(1) : -1
    if (!this.statements.has(id)) return this.writeErr(unknownStatement(id, 'mysqld_stmt_fetch'))
    this.writeErr(unsupported('COM_STMT_FETCH (prepared statements run without cursors in shard mode)'))
  }

  /** Closes this session's statements on a shard connection before it leaves the session. */
  private closeShardStatements(conn: BackendConnection): void {
    const ids = this.onShard.get(conn)
    if (ids === undefined) return
    this.onShard.delete(conn)
    for (const backendId of ids.values()) conn.send(closePacket(backendId))
  }

  // ---- statement kinds ----

  /** SET: run on one shard (its reply relayed), then on every other held shard connection. */
  private async session(payload: Buffer, effect: SessionEffect): Promise<void> {
    const shard = this.lastShard ?? this.ctx.directory.shards[0]!.id
    const s = await this.relayOn(shard, payload, 'query')
    if (s === null || s.error !== null) return
    const first = this.held.get(shard)!
    this.host.applyEffect(effect, first)
    for (const [other, conn] of this.held) {
      if (other === shard) continue
      const r = await this.silently(other, conn, payload)
      if (r === null || r.error === null) this.host.applyEffect(effect, conn)
    }
  }

  private async transaction(plan: Plan & { kind: 'transaction' }, payload: Buffer): Promise<void> {
    const endpoints = this.tx.endpoints(plan)
    this.tx.admit(plan)
    if (plan.verb === 'begin') this.begun = true
    if (plan.verb === 'commit' || plan.verb === 'rollback') this.begun = false
    if (endpoints.length === 0) {
      // Nothing open on any shard (e.g. the ROLLBACK SQLAlchemy sends on every pool return).
      this.status = this.clientStatus(this.status)
      this.host.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
      return
    }
    if (endpoints.length === 1) {
      await this.relayOn(endpoints[0]!, payload, 'query')
      return
    }
    let error: SqlError | null = null
    let last = this.status
    for (const shard of endpoints) {
      if (error !== null && plan.verb === 'commit') {
        // The write shard comes last: once anything failed, it must not commit.
        await this.silently(shard, this.held.get(shard) ?? null, queryPayload('ROLLBACK'))
        continue
      }
      const r = await this.collect(shard, payload)
      last = r.status
      if (r.reply.kind === 'err' && error === null) error = r.reply.error
    }
    if (error !== null) return this.writeErr(error)
    this.status = this.clientStatus(last)
    this.host.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
  }

  /**
   * `single` runs a one-shard plan instead of relaying `payload` (a prepared statement's execute);
   * admission, placement records and preludes are the same for both protocols.
   */
  private async execute(
    plan: Exclude<Plan, { kind: 'error' | 'session' | 'transaction' }>,
    payload: Buffer,
    sql: string,
    effect: SessionEffect,
    single?: (plan: Plan & { kind: 'single' }) => Promise<ResponseSummary | null>,
    binary = false,
  ): Promise<void> {
    const admission = this.tx.admit(plan)
    if (!admission.ok) {
      if (admission.error.code === CROSS_SHARD_WRITE) await this.rollbackAll()
      return this.writeErr(admission.error)
    }
    if (plan.kind === 'single' && plan.records.length > 0) return this.executePlacing(plan, admission.prelude, payload, effect, single)
    if (plan.kind === 'shards' && plan.records.length > 0) {
      const err = await this.ctx.directory.record(plan.records)
      if (err) return this.writeErr(err)
    }
    return this.run(plan, admission.prelude, payload, sql, effect, single, binary)
  }

  /**
   * A one-shard INSERT that places new instances or hosts: the placement rows are stored while the
   * statement runs (not before it: that cost a commit round trip per new instance), and the reply
   * is held until they are, so a client that has its OK finds the placement in the table. If the
   * statement succeeded but the placement could not be stored, the row is still where the plan put
   * it: this process keeps the mapping and says so in the log (after a restart its reads scatter).
   */
  private async executePlacing(
    plan: Plan & { kind: 'single' },
    prelude: ReadonlyMap<ShardId, readonly string[]>,
    payload: Buffer,
    effect: SessionEffect,
    single: ((plan: Plan & { kind: 'single' }) => Promise<ResponseSummary | null>) | undefined,
  ): Promise<void> {
    const placing = this.ctx.directory.record(plan.records)
    const release = this.host.holdReplies()
    try {
      const ran = (await this.runPrelude(prelude)) && (await this.runSingle(plan, payload, effect, single))
      const err = await placing
      if (err !== null && ran) {
        this.ctx.directory.assume(plan.records)
        this.host.log.warn('placement not stored; kept in memory only (reads of these keys scatter after a restart)', {
          shard: plan.shard,
          keys: plan.records.map(recordName).join(','),
          err: err.message,
        })
      }
    } finally {
      await placing
      release()
    }
  }

  private async run(
    plan: Exclude<Plan, { kind: 'error' | 'session' | 'transaction' }>,
    prelude: ReadonlyMap<ShardId, readonly string[]>,
    payload: Buffer,
    sql: string,
    effect: SessionEffect,
    single: ((plan: Plan & { kind: 'single' }) => Promise<ResponseSummary | null>) | undefined,
    binary: boolean,
  ): Promise<void> {
    if (!(await this.runPrelude(prelude))) return
    switch (plan.kind) {
      case 'single':
        await this.runSingle(plan, payload, effect, single)
        return
      case 'shards':
      case 'all': {
        const shards = plan.kind === 'shards' ? plan.shards : this.ctx.directory.shards.map((s) => s.id)
        const textFor = (shard: ShardId): Buffer => {
          const own = plan.kind === 'shards' ? plan.perShard?.get(shard) : undefined
          return own !== undefined ? queryPayload(own) : plan.sql !== null ? queryPayload(plan.sql) : payload
        }
        // The first connection is taken alone (it may wait for the pool); the others then never
        // wait, because this session holds one (see BackendPool.acquire).
        if (this.held.size === 0 && shards.length > 1) {
          const first = await this.conn(shards[0]!)
          if (!isConnection(first)) return this.writeErr(first)
        }
        const results = await Promise.all(shards.map((s) => this.collect(s, textFor(s))))
        if (plan.merge.kind === 'rows') return this.replyMerged(results, plan.merge, binary)
        return await this.replyScatterWrite(results)
      }
      case 'all-in-order':
        return await this.broadcast(plan, payload, sql)
    }
  }

  /** Statements a transaction's admission needs first on its shards (SAVEPOINTs); false when one failed (its error is written). */
  private async runPrelude(prelude: ReadonlyMap<ShardId, readonly string[]>): Promise<boolean> {
    for (const [shard, statements] of prelude) {
      for (const s of statements) {
        const r = await this.collect(shard, queryPayload(s))
        if (r.reply.kind === 'err') {
          this.writeErr(r.reply.error)
          return false
        }
      }
    }
    return true
  }

  /** Runs a one-shard plan, its reply relayed; whether the statement succeeded. */
  private async runSingle(
    plan: Plan & { kind: 'single' },
    payload: Buffer,
    effect: SessionEffect,
    single: ((plan: Plan & { kind: 'single' }) => Promise<ResponseSummary | null>) | undefined,
  ): Promise<boolean> {
    const s = single ? await single(plan) : await this.relayOn(plan.shard, plan.sql === null ? payload : queryPayload(plan.sql), 'query')
    if (s === null || s.error !== null) return false
    this.host.applyEffect(effect, this.held.get(plan.shard)!)
    if (s.ok && s.ok.lastInsertId > 0) {
      this.stickyShard = plan.shard
      this.sticky = INSERT_ID_STICKY_STATEMENTS
    }
    return true
  }

  /** A scatter read: one result set from all the shards' result sets (binary rows for a prepared statement). */
  private replyMerged(results: readonly Collected[], merge: Extract<Plan, { kind: 'all' }>['merge'] & { kind: 'rows' }, binary: boolean): void {
    const err = results.find((r) => r.reply.kind === 'err')
    if (err && err.reply.kind === 'err') return this.writeErr(err.reply.error)
    const sets = results.map((r) => r.reply).filter((r): r is ResultRows => r.kind === 'rows')
    if (sets.length !== results.length) return this.writeErr(unsupported('the shards answered a read with something other than rows'))
    const merged = mergeRows(sets, merge)
    if (!merged.ok) return this.writeErr(unsupported(`cannot merge the shards' rows: ${merged.reason}`))
    const status = this.clientStatus(results[results.length - 1]!.status)
    this.status = status
    const warnings = Math.min(0xffff, sets.reduce((n, s) => n + s.warnings, 0))
    const defs = sets[0]!.defs.slice(0, merged.columns.length)
    const packets = binary ? encodeBinaryResultSet(defs, merged.rows as Row[], status, warnings) : encodeResultSet(defs, merged.rows as Row[], status, warnings)
    if (!Array.isArray(packets)) return this.writeErr(packets)
    for (const p of packets) this.host.write(p)
  }

  /**
   * A write that ran on several shards. Inside a transaction, shards that matched no rows leave it
   * (rolled back: they changed nothing); more than one shard with matched rows is error 9101 and
   * the whole transaction is rolled back.
   */
  private async replyScatterWrite(results: readonly Collected[]): Promise<void> {
    const err = results.find((r) => r.reply.kind === 'err')
    if (err && err.reply.kind === 'err') return this.writeErr(err.reply.error)
    const oks: OkFields[] = []
    const matched = new Map<ShardId, number>()
    for (const r of results) {
      if (r.reply.kind !== 'ok') return this.writeErr(unsupported('a write answered with rows'))
      oks.push(r.reply.ok)
      matched.set(r.shard, r.reply.matched)
    }
    const inTransaction = results.some((r) => r.status & Status.IN_TRANS)
    if (inTransaction && results.length > 1) {
      const settled = this.tx.settleScatterWrite(matched)
      if (settled.error) {
        await this.rollbackAll()
        return this.writeErr(settled.error)
      }
      for (const shard of settled.release) {
        const conn = this.held.get(shard)
        if (conn) await this.silently(shard, conn, queryPayload('ROLLBACK'))
      }
    }
    const last = results[results.length - 1]!.status
    this.status = this.clientStatus(last)
    this.host.write(okPacket(combineOk(oks, this.status)))
  }

  /** DDL and reference-table writes: every shard, in order, stopping at the first error. */
  private async broadcast(plan: Plan & { kind: 'all-in-order' }, payload: Buffer, sql: string): Promise<void> {
    let text = payload
    let ids: number[] | null = null
    if (plan.sequence !== null) {
      const got = await this.ctx.directory.sequence(plan.sequence.table, plan.sequence.count)
      if (!Array.isArray(got)) return this.writeErr(got)
      ids = got
      text = queryPayload(withSequenceIds(sql, plan.sequence, got))
    }
    const named = plan.database
    if (named !== null && named.name !== this.ctx.database) {
      return this.writeErr(unsupported(`ALTER DATABASE ${named.name} from a session on ${this.ctx.database} (only the shard-mode database itself)`))
    }
    const shards = this.ctx.directory.shards.map((s) => s.id)
    const done: Collected[] = []
    for (const shard of shards) {
      const own = named === null ? text : queryPayload(sql.slice(0, named.start) + quoteIdent(this.ctx.directory.target(shard).database) + sql.slice(named.end))
      const r = await this.collect(shard, own)
      if (r.reply.kind === 'err') {
        const e = r.reply.error
        if (done.length === 0) return this.writeErr(e)
        const rest = shards.slice(done.length + 1)
        const progress = `cellgate: applied on shard ${done.map((d) => d.shard).join(', ')}; failed on shard ${shard}${rest.length ? `; not run on shard ${rest.join(', ')}` : ''}`
        return this.writeErr({ ...e, message: `${e.message} (${progress})` })
      }
      done.push(r)
    }
    const status = this.clientStatus(done[done.length - 1]!.status)
    this.status = status
    const first = done[0]!.reply
    if (first.kind === 'rows') {
      // Maintenance statements (CHECK/ANALYZE TABLE …) report per shard: all their rows, in shard order.
      const rows = done.flatMap((d) => (d.reply.kind === 'rows' ? d.reply.rows : []))
      for (const p of encodeResultSet(first.defs, rows, status, 0)) this.host.write(p)
      return
    }
    const ok = first.kind === 'ok' ? first.ok : { affectedRows: 0, lastInsertId: 0, status, warnings: 0 }
    // Reference rows are copies: the client wrote them once, with the sequence's ids.
    this.host.write(okPacket({ affectedRows: ok.affectedRows, lastInsertId: ids?.[0] ?? ok.lastInsertId, status, warnings: ok.warnings }))
  }

  // ---- connections ----

  /** The session's connection to `shard`, taken from the pool and brought up to date if needed. */
  private async conn(shard: ShardId): Promise<BackendConnection | SqlError> {
    const held = this.held.get(shard)
    if (held && !held.closed) return held
    const target = this.ctx.directory.target(shard)
    const want = new Map(this.host.vars())
    want.set('auto_increment_increment', `SET SESSION auto_increment_increment = ${this.ctx.directory.increment}`)
    want.set('auto_increment_offset', `SET SESSION auto_increment_offset = ${target.offset}`)
    let conn: BackendConnection
    try {
      conn = await this.host.pool.acquire({
        server: target.server,
        capabilities: this.host.backendCaps(),
        collation: this.host.collation(),
        want,
        database: target.database,
        mayWait: this.held.size === 0,
      })
    } catch (e) {
      const s = target.server
      const err = e instanceof BackendError ? e.sqlError : { code: 2003, sqlState: 'HY000', message: `Can't connect to MySQL server on '${s.host}:${s.port}' (${(e as Error).message})` }
      this.host.log.info('shard unavailable', { shard, err: err.message })
      return { ...err, message: `${err.message} (cellgate: shard ${shard})` }
    }
    try {
      const err = await replaySessionState(conn, want)
      if (err === null && conn.database !== target.database) {
        const s = await conn.initDb(target.database)
        if (s.error) {
          this.host.pool.release(conn)
          return s.error
        }
        conn.database = target.database
      }
      if (err !== null) {
        this.host.pool.release(conn)
        return err
      }
    } catch (e) {
      this.host.pool.discard(conn)
      return e instanceof BackendError ? e.sqlError : backendLost()
    }
    this.held.set(shard, conn)
    return conn
  }

  /** Runs `payload` on `shard` and relays its reply raw; null when it failed (the error is written). */
  private async relayOn(shard: ShardId, payload: Buffer, kind: ResponseKind): Promise<ResponseSummary | null> {
    const conn = await this.conn(shard)
    if (!isConnection(conn)) {
      this.writeErr(conn)
      return null
    }
    let sent = 0
    let s: ResponseSummary
    try {
      s = await conn.request(payload, kind, (p, framed) => {
        sent++
        this.host.relay(p, conn, framed)
      })
    } catch (e) {
      this.lose(shard, conn)
      const err = e instanceof BackendError ? e.sqlError : backendLost()
      if (sent > 0) throw new BrokenReply(err)
      this.writeErr(err)
      return null
    }
    this.lastShard = shard
    this.tx.observe(shard, s.status)
    this.status = this.clientStatus(s.status)
    return s
  }

  /** Runs `payload` on `shard` and keeps its whole reply for merging. */
  private async collect(shard: ShardId, payload: Buffer): Promise<Collected> {
    const conn = await this.conn(shard)
    if (!isConnection(conn)) return { shard, reply: { kind: 'err', error: conn }, status: this.status }
    const packets: Buffer[] = []
    try {
      const s = await conn.request(payload, 'query', (p) => packets.push(Buffer.from(p)))
      this.tx.observe(shard, s.status)
      if (s.status & Status.MORE_RESULTS_EXISTS) {
        return { shard, reply: { kind: 'err', error: unsupported('several result sets from one statement') }, status: s.status }
      }
      return { shard, reply: decodeReply(packets), status: s.status }
    } catch (e) {
      this.lose(shard, conn)
      return { shard, reply: { kind: 'err', error: e instanceof BackendError ? e.sqlError : backendLost() }, status: this.status }
    }
  }

  /** A bookkeeping statement whose reply the client does not see (ROLLBACK of a released shard). */
  private async silently(shard: ShardId, conn: BackendConnection | null, payload: Buffer): Promise<ResponseSummary | null> {
    if (conn === null) return null
    try {
      const s = await conn.request(payload, 'query', () => {})
      this.tx.observe(shard, s.status)
      return s
    } catch {
      this.lose(shard, conn)
      return null
    }
  }

  /** Rolls back every shard the session holds (after error 9101, or when the client leaves). */
  private async rollbackAll(): Promise<void> {
    for (const [shard, conn] of [...this.held]) await this.silently(shard, conn, queryPayload('ROLLBACK'))
    // Forget BEGIN and savepoints too: the transaction is over on every shard.
    this.tx.admit({ statement: 'rollback', tables: [], kind: 'transaction', verb: 'rollback', savepoint: null })
    this.begun = false
    this.status = this.clientStatus(this.status & ~Status.IN_TRANS)
  }

  /** A connection that failed: its transaction is gone with it. */
  private lose(shard: ShardId, conn: BackendConnection): void {
    if (this.held.get(shard) === conn) this.held.delete(shard)
    this.onShard.delete(conn)
    this.host.pool.discard(conn)
    this.tx.observe(shard, this.status & ~Status.IN_TRANS)
  }

  /** Gives back every connection that holds no transaction, unless the session is pinned. */
  private settle(): void {
    if (this.sticky > 0) this.sticky--
    if (this.sticky === 0) this.stickyShard = null
    if (this.host.pinned()) return
    for (const [shard, conn] of [...this.held]) {
      if (conn.closed) {
        this.held.delete(shard)
        continue
      }
      if (conn.busy || conn.status & Status.IN_TRANS || shard === this.stickyShard) continue
      this.held.delete(shard)
      this.closeShardStatements(conn)
      this.host.pool.release(conn)
    }
  }

  /** The flags the client sees: the last reply's, with IN_TRANS when any shard (or BEGIN) holds a transaction. */
  private clientStatus(last: number): number {
    const open = this.begun || [...this.held.values()].some((c) => c.status & Status.IN_TRANS)
    return (last & ~(Status.IN_TRANS | Status.MORE_RESULTS_EXISTS)) | (open ? Status.IN_TRANS : 0)
  }

  private writeErr(e: SqlError): void {
    this.host.write(errPacket(e))
  }

  /**
   * Reset (COM_RESET_CONNECTION) or the client left: roll back and give back, or close, every
   * connection. A session pinned by user variables, locks or temporary tables closes them: a
   * ROLLBACK does not undo that state, and the next session must not inherit it.
   */
  async close(discard: boolean): Promise<void> {
    if (this.host.pinned()) discard = true
    this.statements.clear()
    for (const [shard, conn] of [...this.held]) {
      this.held.delete(shard)
      if (discard || conn.busy || conn.closed) {
        this.onShard.delete(conn)
        this.host.pool.discard(conn)
        continue
      }
      this.closeShardStatements(conn)
      try {
        const s = await conn.query('ROLLBACK')
        if (s.error || s.status & Status.IN_TRANS) this.host.pool.discard(conn)
        else this.host.pool.release(conn)
      } catch {
        this.host.pool.discard(conn)
      }
    }
  }
}

function isConnection(x: BackendConnection | SqlError): x is BackendConnection {
  return !('code' in x && 'sqlState' in x)
}
