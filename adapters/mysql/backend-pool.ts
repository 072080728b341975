/**
 * Pooled backend connections, grouped by what a client session cannot change on a live
 * connection: the server and login (host, port, user), the capability flags mirrored from the
 * client (CLIENT_FOUND_ROWS changes affected-row counts) and the handshake collation. Session
 * variables and the current database, by contrast, can be changed, so an idle connection is
 * chosen by how few round trips it needs (see pickIdle); a
 * connection carrying state the session does not have is closed rather than reset, since
 * COM_RESET_CONNECTION's effect on the handshake character set differs between servers.
 */
import type { Logger } from '../log/logger.js'
import { BackendConnection, BackendError, type BackendServer } from './backend-connection.js'

export interface BackendPoolOptions {
  /** Connections per backend server (busy + idle + connecting); more requests wait. */
  maxPerServer: number
  /** Idle connections older than this are closed. */
  idleTimeoutMs: number
  connectTimeoutMs: number
  /** How long acquire() waits for a connection of a full server before it fails with 1040. */
  waitTimeoutMs: number
  /** Largest packet a backend may send us. */
  maxPacketSize: number
}

interface Waiter {
  resolve(): void
}

/** What MySQL itself answers when it has no connection left; oslo.db does not retry it. */
function tooManyConnections(id: string, max: number, waitedMs: number): BackendError {
  return new BackendError({ code: 1040, sqlState: '08004', message: `Too many connections (cellgate: all ${max} backend connections to ${id} stayed in use for ${waitedMs} ms)` }, false)
}

interface ServerSlot {
  total: number
  idle: BackendConnection[]
  waiters: Waiter[]
}

export interface AcquireRequest {
  server: BackendServer
  /** Capability flags to log in with (mirrored from the client). */
  capabilities: number
  collation: number
  /** The session's SET statements, by variable. */
  want: ReadonlyMap<string, string>
  /** The database the statement runs in, when the caller will switch to it: connections already there are preferred. */
  database?: string | null
  /** False for a caller that already holds a connection (see acquire). */
  mayWait?: boolean
}

/**
 * Round trips, roughly, to bring an idle connection to a session: only more SETs (what a new
 * connection needs too) is cheap; a different database or values to undo is a conversion.
 */
const FIT_COST = { equal: 0, subset: 1, fixable: 2 } as const
const DATABASE_SWITCH_COST = 2
const CONVERSION_COST = 2

const serverId = (s: BackendServer): string => `${s.user}@${s.host}:${s.port}`

export class BackendPool {
  private readonly servers = new Map<string, ServerSlot>()
  /** Pool key of every live connection (idle or lent). */
  private readonly keys = new WeakMap<BackendConnection, string>()
  private readonly sweeper: NodeJS.Timeout
  private closing = false

  constructor(
    private readonly opts: BackendPoolOptions,
    private readonly log: Logger,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, opts.idleTimeoutMs / 2))
    this.sweeper.unref()
  }

  /**
   * A connection to `server` logged in with these flags and collation, preferring one whose
   * applied session state is closest to `want`. The caller replays what is missing and gives it
   * back with release() or discard(). Rejects with BackendError when the server is unreachable.
   *
   * `mayWait: false` is for a caller that already holds a connection (a shard session on its
   * second shard, a scatter's other shards): it gets one beyond the limit instead of waiting, since
   * sessions that wait while holding connections can wait for each other forever (hold-and-wait).
   * The limit is then exceeded by at most the shards a session spans, less one.
   */
  async acquire(req: AcquireRequest): Promise<BackendConnection> {
    if (this.closing) throw new Error('pool is closed')
    const { server, capabilities, collation, want, mayWait = true } = req
    const id = serverId(server)
    const key = `${id}|${capabilities}|${collation}`
    const slot = this.slot(id)
    for (;;) {
      const pick = this.pickIdle(slot, key, want, req.database ?? null)
      if (pick) return pick
      if (slot.total < this.opts.maxPerServer || !mayWait) break
      // Full: drop an idle connection that does not fit this key, or wait for one to come back.
      const misfit = slot.idle.shift()
      if (misfit) {
        this.dropIdle(slot, misfit)
        break
      }
      await this.wait(slot, id)
    }
    slot.total++
    try {
      const conn = await BackendConnection.connect(server, {
        capabilities,
        collation,
        database: null,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        maxPacketSize: this.opts.maxPacketSize,
      })
      this.keys.set(conn, key)
      conn.onceClosed(() => this.forget(id, conn))
      return conn
    } catch (e) {
      slot.total--
      this.wakeOne(slot)
      throw e
    }
  }

  /** Gives back a connection that is idle, outside any transaction, with no pinned state. */
  release(conn: BackendConnection): void {
    const key = this.keys.get(conn)
    if (!key || conn.closed || conn.busy || this.closing) {
      conn.destroy()
      return
    }
    const slot = this.slot(key.slice(0, key.indexOf('|')))
    conn.lastUsed = Date.now()
    slot.idle.push(conn)
    this.wakeOne(slot)
  }

  /** Closes a connection whose state cannot be trusted (lost mid-reply, pinned state left over). */
  discard(conn: BackendConnection): void {
    conn.destroy()
  }

  /** Idle connections to a server (for tests and metrics). */
  idleCount(server: BackendServer): number {
    return this.servers.get(serverId(server))?.idle.length ?? 0
  }

  async close(): Promise<void> {
    this.closing = true
    clearInterval(this.sweeper)
    for (const slot of this.servers.values()) {
      for (const c of slot.idle.splice(0)) c.quit()
      for (const w of slot.waiters.splice(0)) w.resolve()
    }
  }

  private slot(id: string): ServerSlot {
    let s = this.servers.get(id)
    if (!s) {
      s = { total: 0, idle: [], waiters: [] }
      this.servers.set(id, s)
    }
    return s
  }

  /**
   * The idle connection that needs the fewest round trips to serve `want` on `database`. One that
   * would need its state changed (another database, SETs to undo) is taken only when the server
   * has no room for a new connection: converting back and forth costs round trips on every
   * statement of sessions that alternate (shards on one server, cells' databases on one server),
   * a new connection only once, and the idle sweep closes what stops being used.
   */
  private pickIdle(slot: ServerSlot, key: string, want: ReadonlyMap<string, string>, database: string | null): BackendConnection | null {
    let best = -1
    let bestCost = Infinity
    // Most recently used first: its backend thread and caches are warm.
    for (let i = slot.idle.length - 1; i >= 0; i--) {
      const c = slot.idle[i]!
      if (this.keys.get(c) !== key) continue
      const fit = stateFit(c.appliedState, want)
      if (fit === 'other') continue
      const cost = FIT_COST[fit] + (database !== null && c.database !== database ? DATABASE_SWITCH_COST : 0)
      if (cost === 0) {
        slot.idle.splice(i, 1)
        return c
      }
      if (cost < bestCost) {
        best = i
        bestCost = cost
      }
    }
    const roomForNew = slot.total < this.opts.maxPerServer
    if (best >= 0 && (bestCost < CONVERSION_COST || !roomForNew)) return slot.idle.splice(best, 1)[0]!
    if (best >= 0) return null
    // Same key but extra state: close it to make room for a clean one.
    for (let i = 0; i < slot.idle.length; i++) {
      if (this.keys.get(slot.idle[i]!) === key && slot.total >= this.opts.maxPerServer) {
        this.dropIdle(slot, slot.idle.splice(i, 1)[0]!)
        return null
      }
    }
    return null
  }

  private dropIdle(slot: ServerSlot, c: BackendConnection): void {
    // forget() (on close) decrements total; count it now so the caller may open a new one.
    slot.total--
    this.keys.delete(c)
    c.quit()
  }

  private forget(id: string, conn: BackendConnection): void {
    const slot = this.servers.get(id)
    if (!slot) return
    const i = slot.idle.indexOf(conn)
    if (i >= 0) slot.idle.splice(i, 1)
    if (this.keys.has(conn)) {
      this.keys.delete(conn)
      slot.total--
      this.wakeOne(slot)
    }
  }

  private wait(slot: ServerSlot, id: string): Promise<void> {
    const ms = this.opts.waitTimeoutMs
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      const timer = setTimeout(() => {
        const i = slot.waiters.indexOf(waiter)
        if (i >= 0) slot.waiters.splice(i, 1)
        this.log.warn('no backend connection free', { server: id, max: this.opts.maxPerServer, waitedMs: ms })
        reject(tooManyConnections(id, this.opts.maxPerServer, ms))
      }, ms)
      slot.waiters.push(waiter)
    })
  }

  private wakeOne(slot: ServerSlot): void {
    slot.waiters.shift()?.resolve()
  }

  private sweep(): void {
    const limit = Date.now() - this.opts.idleTimeoutMs
    for (const slot of this.servers.values()) {
      for (const c of slot.idle.filter((c) => c.lastUsed < limit)) {
        slot.idle.splice(slot.idle.indexOf(c), 1)
        this.dropIdle(slot, c)
        this.log.debug('closed idle backend connection', { thread: c.threadId })
      }
    }
  }
}

/**
 * Whether `SET SESSION <key> = DEFAULT` undoes a recorded assignment. Not for the character set
 * keys: their starting value is the handshake collation, not the global default.
 */
export function resettable(key: string): boolean {
  if (key === 'names' || key === 'charset' || key === 'collation_connection' || key.startsWith('character_set_')) return false
  return /^[a-z_][a-z0-9_]*$/.test(key)
}

/**
 * How a connection's applied SET statements relate to what a session wants: equal; a subset
 * (only more SETs needed); fixable (some values differ or must be reset to DEFAULT); other (it
 * carries state that cannot be undone).
 */
export function stateFit(applied: ReadonlyMap<string, string>, want: ReadonlyMap<string, string>): 'equal' | 'subset' | 'fixable' | 'other' {
  let fixable = false
  for (const [k, v] of applied) {
    const w = want.get(k)
    if (w === v) continue
    if (w === undefined && !resettable(k)) return 'other'
    fixable = true
  }
  if (fixable) return 'fixable'
  // Keys that override each other (SET NAMES and the character_set_* variables) never coexist in
  // a session's state, so the order of the entries does not matter.
  return applied.size === want.size ? 'equal' : 'subset'
}
