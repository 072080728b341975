/**
 * One client connection of the SQL front end: connection phase (greeting, optional TLS upgrade,
 * authentication) and then the command phase, where statements are forwarded to the backend that
 * the session's default database routes to (schema mode).
 *
 * ## Decision: raw packet forwarding over cellgate's own backend client, not mysql2
 * Replies are relayed packet by packet, undecoded, from a minimal upstream client
 * (backend-connection.ts); mysql2 is not used for backend connections. Reasons:
 * - Fidelity. Re-encoding from mysql2's decoded rows cannot be byte-faithful in general (column
 *   definition flags, decimals, charsets, BIT/JSON/binary representations, warnings count, the
 *   OK packet's info text and status flags, ERR SQLSTATE); forwarding the bytes makes PyMySQL and
 *   SQLAlchemy decode exactly what they decode from MariaDB, by construction.
 * - Control of the login. CLIENT_FOUND_ROWS must be mirrored per client, DEPRECATE_EOF must stay off
 *   (PyMySQL cannot read it) and the handshake collation must match the client's; mysql2 adds
 *   IGNORE_SPACE/LOCAL_FILES/ODBC by default and exposes the rest only partly.
 * - Prepared statements. In schema mode COM_STMT_* are relayed on the session's pinned connection
 *   with the backend's own statement ids; mysql2 has no raw passthrough for them.
 * - Cost. No per-row decode/encode on the hot path (sql-routing.md §3.4, §4.4 recommendation).
 * The price is a small client implementation (login with native / caching_sha2 / auth switch,
 * reply-end tracking). mysql2 remains the right tool for admin and mapping-database work and is
 * used in the tests as a prepared-statement client.
 *
 * ## Multiplexing (ProxySQL's rules, sql-routing.md §3.2)
 * Between statements the session holds no backend connection, unless something pins it: an open
 * transaction (SERVER_STATUS_IN_TRANS in the last reply: PyMySQL never sends BEGIN), prepared
 * statements, user variables, GET_LOCK, temporary tables, LOCK TABLES, SQL_CALC_FOUND_ROWS, XA,
 * or a generated insert id during the next few statements (LAST_INSERT_ID()). Session variables
 * set with SET are recorded and replayed on whatever connection serves the next statement.
 *
 * ## Shard mode
 * A session whose default database is the shard-mode database (SqlFrontOptions.shardMode) hands
 * its statements to a ShardSession (shard-session.ts), which plans each one and runs it on one
 * connection per shard; the SET bookkeeping above is shared. Prepared statements there get
 * cellgate's own statement ids: each COM_STMT_EXECUTE is planned as its text form with the bound
 * values, a one-shard execution runs on a statement prepared on that shard's connection (closed
 * before the connection returns to the pool), writes whose reply is an OK run as bound text, and
 * a read needing several shards scatters as text and is answered with binary rows.
 */
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { TLSSocket, type SecureContext } from 'node:tls'
import { constants as cryptoConstants, privateDecrypt, type KeyObject } from 'node:crypto'
import type { Logger } from '../log/logger.js'
import { classifySession, type SessionEffect } from '../../router/sql/session-statement.js'
import type { SchemaTarget } from '../../router/sql/schema-route.js'
import { CACHING_SHA2, NATIVE, newScramble, verifyCachingSha2Fast, verifyCleartext, verifyNative, type SqlUsers } from './auth.js'
import { BackendError, type BackendConnection, type BackendServer } from './backend-connection.js'
import type { BackendPool } from './backend-pool.js'
import { authMoreDataPacket, authSwitchPacket, greetingPacket, parseHandshakeResponse, type HandshakeResponse } from './handshake.js'
import { PacketParser } from './packet-parser.js'
import { PacketWriter } from './packet-writer.js'
import { TurnBatch } from './turn-batch.js'
import { errPacket, okPacket, type SqlError } from './packets.js'
import { replaySessionState } from './session-replay.js'
import { BrokenReply, ShardSession, type ShardContext, type ShardHost } from './shard-session.js'
import { Cap, Com, DEFAULT_COLLATION, Status } from './protocol.js'
import type { ResponseKind, ResponseSummary } from './response-tracker.js'
import * as E from './sql-errors.js'
import { ProtocolDecodeError } from './wire-codec.js'

/** Capabilities cellgate offers clients. Not DEPRECATE_EOF, MULTI_STATEMENTS, SESSION_TRACK, LOCAL_FILES, COMPRESS. */
const SERVER_CAPS =
  Cap.LONG_PASSWORD |
  Cap.FOUND_ROWS |
  Cap.LONG_FLAG |
  Cap.CONNECT_WITH_DB |
  Cap.IGNORE_SPACE |
  Cap.PROTOCOL_41 |
  Cap.TRANSACTIONS |
  Cap.SECURE_CONNECTION |
  Cap.MULTI_RESULTS |
  Cap.PS_MULTI_RESULTS |
  Cap.PLUGIN_AUTH |
  Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Cap.CONNECT_ATTRS
/** Client flags that change what the backend answers, so backend connections carry the client's value. */
const MIRRORED_CAPS = Cap.FOUND_ROWS | Cap.IGNORE_SPACE | Cap.MULTI_RESULTS | Cap.PS_MULTI_RESULTS
/** Flags every backend connection uses. */
const BACKEND_CAPS =
  Cap.LONG_PASSWORD | Cap.LONG_FLAG | Cap.PROTOCOL_41 | Cap.TRANSACTIONS | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA
/** Statements after a generated insert id during which the connection is kept (LAST_INSERT_ID()). */
const INSERT_ID_STICKY_STATEMENTS = 5

/** A backend as the session sees it: a name for logs and where to connect. */
export interface RoutedBackend {
  name: string
  server: BackendServer
  database?: string
}

export interface SessionContext {
  log: Logger
  users: SqlUsers
  pool: BackendPool
  route(database: string | null): SchemaTarget<RoutedBackend>
  serverVersion(): string
  authPlugin: typeof NATIVE | typeof CACHING_SHA2
  tls: SecureContext | null
  maxPacketSize: number
  /** RSA key pair for caching_sha2 full authentication without TLS (created on first use). */
  rsaKeys(): { publicPem: string; privateKey: KeyObject }
  /** Shard mode, when configured. */
  shard: ShardContext | null
}

type Phase = 'handshake' | 'tls' | 'auth-switch' | 'sha2-full' | 'sha2-rsa' | 'command' | 'closed'

export class ClientSession {
  private phase: Phase = 'handshake'
  private io: Socket | TLSSocket
  private parser: PacketParser
  private readonly writer: PacketWriter
  /** Everything written to the client goes out once per event-loop turn (turn-batch.ts). */
  private readonly out = new TurnBatch(() => this.io)
  private readonly scramble = newScramble()
  private readonly log: Logger
  private hello: HandshakeResponse | null = null
  private capabilities = 0
  private backendCaps = BACKEND_CAPS
  private collation = DEFAULT_COLLATION
  private database: string | null = null
  /** SET statements to replay, by state key, in order. */
  private readonly vars = new Map<string, string>()
  /** Why the session may not give its backend connection back (besides IN_TRANS). */
  private readonly pins = new Set<string>()
  private readonly prepared = new Set<number>()
  private insertIdSticky = 0
  /** Status flags of the last reply (client-visible). */
  private status: number = Status.AUTOCOMMIT
  /** The backend connection kept between statements, when pinned. */
  private held: BackendConnection | null = null
  /** The backend connection a command is running on. */
  private active: BackendConnection | null = null
  private queue: Promise<void> = Promise.resolve()
  private clientWaiting = false
  /** The client socket has closed (commands still queued finish against the backend, then clean up). */
  private gone = false
  /** Shard-mode state, created when the session first uses the shard-mode database. */
  private shards: ShardSession | null = null

  constructor(
    private readonly socket: Socket,
    private readonly ctx: SessionContext,
    readonly connectionId: number,
  ) {
    this.io = socket
    this.log = ctx.log.child({ conn: `sql-${connectionId}` })
    this.writer = new PacketWriter(this.out)
    this.parser = this.newParser()
    socket.setNoDelay(true)
    socket.on('data', this.onRawData)
    socket.on('error', (err) => this.log.debug('client socket error', { err: err.message }))
    socket.on('close', () => this.onClose())
    const caps = SERVER_CAPS | (ctx.tls ? Cap.SSL : 0)
    this.writer.seq = 0
    this.writer.write(
      greetingPacket({
        serverVersion: ctx.serverVersion(),
        connectionId,
        scramble: this.scramble,
        capabilities: caps,
        collation: DEFAULT_COLLATION,
        status: Status.AUTOCOMMIT,
        authPlugin: ctx.authPlugin,
      }),
    )
  }

  /** Ends the session from the server side (shutdown). */
  shutdown(): void {
    this.io.destroy()
  }

  private readonly onRawData = (chunk: Buffer): void => this.parser.push(chunk)

  private newParser(): PacketParser {
    return new PacketParser(
      {
        onPacket: (p, first, last) => this.onPacket(p, first, last),
        onPacketError: (kind) => this.fatal(kind === 'too-large' ? E.packetTooLarge() : E.packetsOutOfOrder()),
      },
      this.ctx.maxPacketSize,
    )
  }

  private onPacket(p: Buffer, firstSeq: number, lastSeq: number): void {
    try {
      if (this.phase === 'command') {
        if (firstSeq !== 0) {
          this.writer.continueAfter(lastSeq)
          this.fatal(E.packetsOutOfOrder())
          return
        }
        this.queue = this.queue.then(() => this.command(p, lastSeq)).catch((e: unknown) => this.internalError(e))
        return
      }
      this.writer.continueAfter(lastSeq)
      this.connectionPhase(p)
    } catch (e) {
      if (e instanceof ProtocolDecodeError) this.fatal(this.phase === 'command' ? E.malformedPacket(e.message) : E.badHandshake())
      else this.internalError(e)
    }
  }

  // ---- connection phase -------------------------------------------------------------------

  private connectionPhase(p: Buffer): void {
    switch (this.phase) {
      case 'handshake': {
        const hello = parseHandshakeResponse(p)
        if (hello.sslRequest) {
          if (!this.ctx.tls) return this.fatal(E.badHandshake())
          return this.startTls()
        }
        if (this.ctx.tls === null || this.io instanceof TLSSocket || !(hello.capabilities & Cap.SSL)) return this.authenticate(hello)
        return this.fatal(E.badHandshake())
      }
      case 'auth-switch':
        return this.finishAuth(verifyNative(this.user()!, this.scramble, p))
      case 'sha2-full':
        if (p.length === 1 && p[0] === 0x02) {
          // The client has no TLS and asks for our public key to encrypt the password with.
          this.phase = 'sha2-rsa'
          this.writer.write(authMoreDataPacket(Buffer.from(this.ctx.rsaKeys().publicPem, 'ascii')))
          return
        }
        if (!(this.io instanceof TLSSocket)) return this.finishAuth(false)
        return this.finishAuth(verifyCleartext(this.user()!, stripNul(p).toString('utf8')))
      case 'sha2-rsa': {
        let clear: Buffer
        try {
          clear = privateDecrypt({ key: this.ctx.rsaKeys().privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING }, p)
        } catch {
          return this.finishAuth(false)
        }
        for (let i = 0; i < clear.length; i++) clear[i]! ^= this.scramble[i % this.scramble.length]!
        return this.finishAuth(verifyCleartext(this.user()!, stripNul(clear).toString('utf8')))
      }
      default:
        return this.fatal(E.badHandshake())
    }
  }

  private startTls(): void {
    this.phase = 'tls'
    this.out.flush()
    const old = this.parser
    old.detach()
    const raw = this.socket
    raw.off('data', this.onRawData)
    // The parser keeps what followed the SSLRequest in its chunk (PyMySQL sends its ClientHello
    // without waiting) only once this packet's handler has returned: decide after that, before
    // any more I/O is read.
    queueMicrotask(() => {
      const early = old.leftover
      const tls = early.length === 0 ? new TLSSocket(raw, { isServer: true, secureContext: this.ctx.tls! }) : this.tlsOverPipe(raw, early)
      tls.on('error', (err) => {
        this.log.info('TLS handshake failed', { err: err.message })
        raw.destroy()
      })
      this.io = tls
      this.parser = this.newParser()
      tls.on('data', (c: Buffer) => this.parser.push(c))
      this.phase = 'handshake'
    })
  }

  /**
   * The ClientHello arrived in the same segment as the SSLRequest: the TLS layer then reads
   * through a stream fed from the socket (starting with those bytes) instead of taking over the
   * socket's handle, which would lose them.
   */
  private tlsOverPipe(raw: Socket, early: Buffer): TLSSocket {
    const pipe = new Duplex({
      read: () => raw.resume(),
      write: (chunk: Buffer, _enc, cb) => raw.write(chunk, cb),
      final: (cb) => {
        raw.end()
        cb()
      },
      destroy: (err, cb) => {
        raw.destroy()
        cb(err)
      },
    })
    pipe.push(early)
    raw.on('data', (c: Buffer) => {
      if (!pipe.push(c)) raw.pause()
    })
    raw.on('end', () => pipe.push(null))
    return new TLSSocket(pipe, { isServer: true, secureContext: this.ctx.tls! })
  }

  private user(): { password?: string; nativePasswordHash?: string } | undefined {
    const name = this.hello?.user ?? ''
    return Object.prototype.hasOwnProperty.call(this.ctx.users, name) ? this.ctx.users[name] : undefined
  }

  private authenticate(hello: HandshakeResponse): void {
    this.hello = hello
    this.capabilities = hello.capabilities & (SERVER_CAPS | (this.ctx.tls ? Cap.SSL : 0))
    this.backendCaps = BACKEND_CAPS | (this.capabilities & MIRRORED_CAPS)
    this.collation = hello.collation || DEFAULT_COLLATION
    this.database = hello.database
    const u = this.user()
    if (!u) return this.finishAuth(false)
    const plugin = hello.capabilities & Cap.PLUGIN_AUTH ? (hello.authPlugin ?? NATIVE) : NATIVE
    if (plugin === NATIVE) return this.finishAuth(verifyNative(u, this.scramble, hello.authToken))
    if (plugin === CACHING_SHA2) {
      const fast = verifyCachingSha2Fast(u, this.scramble, hello.authToken)
      if (fast === false) return this.finishAuth(false)
      if (fast === true) {
        this.writer.write(authMoreDataPacket(Buffer.from([0x03])))
        return this.finishAuth(true)
      }
      // Only a hash is configured: ask for the password itself (over TLS, or RSA-encrypted).
      this.phase = 'sha2-full'
      this.writer.write(authMoreDataPacket(Buffer.from([0x04])))
      return
    }
    // A plugin cellgate does not implement (sha256_password, ed25519, ...): switch to native.
    this.phase = 'auth-switch'
    this.writer.write(authSwitchPacket(NATIVE, this.scramble))
  }

  private finishAuth(ok: boolean): void {
    const hello = this.hello!
    if (!ok) {
      this.log.info('access denied', { user: hello.user })
      const usedPassword = hello.authToken.length > 0 || this.phase !== 'handshake'
      return this.fatal(E.accessDenied(hello.user, this.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown', usedPassword))
    }
    this.phase = 'command'
    this.log.debug('client authenticated', { user: hello.user, db: hello.database ?? undefined })
    if (this.database === null) {
      this.writer.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
      return
    }
    // The initial database must exist, as on a real server: check it on its backend first.
    const db = this.database
    const seq = this.writer.seq
    this.queue = this.queue
      .then(async () => {
        this.database = null
        const err = await this.switchDatabase(db, () => {})
        this.writer.seq = seq
        if (err && err.code !== 2003) return this.fatal(err)
        if (err) this.log.warn('backend unreachable at login; statements will fail until it is back', { db })
        this.database = db
        this.writer.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
      })
      .catch((e: unknown) => this.internalError(e))
  }

  // ---- command phase ----------------------------------------------------------------------

  private async command(p: Buffer, lastSeq: number): Promise<void> {
    if (this.phase !== 'command') return
    this.writer.continueAfter(lastSeq)
    const cmd = p[0]
    switch (cmd) {
      case Com.QUIT:
        this.out.flush()
        this.io.end()
        return
      case Com.PING:
        if (this.held) return this.forward(p, 'simple', null)
        if (this.shardMode()) this.status = this.shardSession().status
        return this.writeOk()
      case Com.INIT_DB: {
        const err = await this.switchDatabase(p.subarray(1).toString('utf8'), (pkt) => this.writer.write(pkt))
        if (err) this.writeErr(err)
        return
      }
      case Com.QUERY:
        return this.query(p)
      case Com.FIELD_LIST:
        if (this.database === null) return this.writeErr(E.noDatabaseSelected())
        if (this.shardMode()) return this.inShards(() => this.shardSession().fieldList(p))
        return this.forward(p, 'field-list', null)
      case Com.STMT_PREPARE:
        if (this.shardMode()) return this.inShards(() => this.shardSession().prepare(p))
        return this.forward(p, 'prepare', null)
      case Com.STMT_EXECUTE:
      case Com.STMT_FETCH:
      case Com.STMT_RESET:
      case Com.STMT_CLOSE:
      case Com.STMT_SEND_LONG_DATA:
        return this.statementCommand(cmd, p)
      case Com.RESET_CONNECTION:
        return this.resetConnection()
      default:
        return this.writeErr(E.unknownCommand())
    }
  }

  private async query(p: Buffer): Promise<void> {
    const effect = classifySession(p.subarray(1).toString('utf8'))
    if (effect.kind === 'use') {
      const err = await this.switchDatabase(effect.database, (pkt) => this.writer.write(pkt))
      if (err) this.writeErr(err)
      return
    }
    if (this.shardMode()) {
      const sql = p.subarray(1).toString('utf8')
      return this.inShards(() => this.shardSession().query(p, sql, effect))
    }
    return this.forward(p, 'query', effect)
  }

  private async statementCommand(cmd: number, p: Buffer): Promise<void> {
    if (this.shardMode()) return this.inShards(async () => this.shardStatementCommand(cmd, p))
    const id = p.length >= 5 ? p.readUInt32LE(1) : -1
    const noReply = cmd === Com.STMT_CLOSE || cmd === Com.STMT_SEND_LONG_DATA
    if (!this.prepared.has(id) || !this.held) {
      if (noReply) return
      const name = cmd === Com.STMT_EXECUTE ? 'mysqld_stmt_execute' : cmd === Com.STMT_FETCH ? 'mysqld_stmt_fetch' : 'mysqld_stmt_reset'
      return this.writeErr({ code: 1243, sqlState: 'HY000', message: `Unknown prepared statement handler (${id}) given to ${name}` })
    }
    if (noReply) {
      this.held.send(p)
      if (cmd === Com.STMT_CLOSE) {
        this.prepared.delete(id)
        this.maybeRelease()
      }
      return
    }
    return this.forward(p, cmd === Com.STMT_RESET ? 'simple' : cmd === Com.STMT_FETCH ? 'fetch' : 'execute', null)
  }

  /** COM_STMT_* in shard mode: cellgate's own statement ids (shard-session.ts). */
  private async shardStatementCommand(cmd: number, p: Buffer): Promise<void> {
    const shards = this.shardSession()
    switch (cmd) {
      case Com.STMT_EXECUTE:
        return shards.executeStatement(p)
      case Com.STMT_CLOSE:
        return shards.closeStatement(p)
      case Com.STMT_RESET:
        return shards.resetStatement(p)
      case Com.STMT_SEND_LONG_DATA:
        return shards.longData(p)
      default:
        return shards.fetch(p)
    }
  }

  private async resetConnection(): Promise<void> {
    if (this.shards) {
      await this.shards.close(true)
      this.shards = null
    }
    if (this.held) {
      // A pinned connection carries state (transaction, locks, temporary tables) that must not
      // reach another session; closing it is the simplest way to be sure.
      this.ctx.pool.discard(this.held)
      this.held = null
    }
    this.vars.clear()
    this.pins.clear()
    this.prepared.clear()
    this.insertIdSticky = 0
    this.status = Status.AUTOCOMMIT | (this.status & Status.NO_BACKSLASH_ESCAPES)
    this.writeOk()
  }

  /**
   * Runs a command on the session's backend and relays the reply. `effect` is the COM_QUERY's
   * session effect, applied once the backend accepted the statement.
   */
  private async forward(p: Buffer, kind: ResponseKind, effect: SessionEffect | null): Promise<void> {
    const conn = await this.backend()
    if (!isConnection(conn)) return this.writeErr(conn)
    let sent = 0
    let summary: ResponseSummary
    this.active = conn
    try {
      summary = await conn.request(p, kind, (pkt, framed) => {
        sent++
        this.relay(pkt, conn, framed)
      })
    } catch (e) {
      this.active = null
      this.dropBackend(conn)
      const err = e instanceof BackendError ? e.sqlError : E.backendLost()
      // Mid-reply, an ERR would not be read as one: the client's view of the reply is broken.
      if (sent > 0) return this.fatal(err)
      return this.writeErr(err)
    } finally {
      this.active = null
    }
    this.status = summary.status
    if (summary.error === null) {
      if (effect) this.applyEffect(effect, conn)
      if (summary.statementId !== null) this.prepared.add(summary.statementId)
    }
    if (this.insertIdSticky > 0) this.insertIdSticky--
    if (summary.ok && summary.ok.lastInsertId > 0) this.insertIdSticky = INSERT_ID_STICKY_STATEMENTS
    this.held = conn
    this.maybeRelease()
    if (this.gone) this.onClose()
  }

  private applyEffect(effect: SessionEffect, conn: BackendConnection): void {
    if (effect.kind === 'set') {
      for (const a of effect.assignments) {
        for (const k of [...a.clears, a.key]) {
          this.vars.delete(k)
          conn.appliedState.delete(k)
        }
        this.vars.set(a.key, a.sql)
        conn.appliedState.set(a.key, a.sql)
      }
      if (effect.pin) this.pins.add(effect.pin)
    } else if (effect.kind === 'other') {
      if (effect.pin) this.pins.add(effect.pin)
      if (effect.tableLock) this.pins.add('LOCK TABLES')
      if (effect.unlockTables) this.pins.delete('LOCK TABLES')
    }
  }

  private pinReason(): string | null {
    if (this.status & Status.IN_TRANS) return 'open transaction'
    if (this.prepared.size > 0) return 'prepared statements'
    const first = this.pins.values().next()
    if (!first.done) return first.value
    if (this.insertIdSticky > 0) return 'recent insert id'
    return null
  }

  private maybeRelease(): void {
    if (!this.held || this.pinReason() !== null) return
    const conn = this.held
    this.held = null
    this.ctx.pool.release(conn)
  }

  /** Writes a relayed packet; stops reading the backend while the client is not keeping up. */
  private relay(pkt: Buffer, conn: BackendConnection, framed?: Buffer): void {
    this.writer.relay(pkt, framed)
    if (this.io.writableNeedDrain && !this.clientWaiting) {
      this.clientWaiting = true
      conn.pause()
      this.io.once('drain', () => {
        this.clientWaiting = false
        conn.resume()
      })
    }
  }

  /** The connection for the next statement: the held one, or a pooled one brought up to date. */
  private async backend(): Promise<BackendConnection | SqlError> {
    if (this.held) return this.held
    const target = this.ctx.route(this.database)
    const conn = await this.acquire(target)
    if (!isConnection(conn)) return conn
    if (target.database !== null && conn.database !== target.database) {
      const err = await this.runSilently(conn, (c) => c.initDb(target.database!))
      if (err) return err
      conn.database = target.database
    }
    return conn
  }

  /** A pooled connection with the session's SET statements replayed, or the error to report. */
  private async acquire(target: SchemaTarget<RoutedBackend>): Promise<BackendConnection | SqlError> {
    let conn: BackendConnection
    try {
      conn = await this.ctx.pool.acquire({ server: target.backend.server, capabilities: this.backendCaps, collation: this.collation, want: this.vars, database: target.database })
    } catch (e) {
      const s = target.backend.server
      const err = e instanceof BackendError ? e.sqlError : E.backendUnreachable(`${s.host}:${s.port}`, (e as Error).message)
      this.log.info('backend unavailable', { backend: target.backend.name, err: err.message })
      return err
    }
    try {
      const err = await replaySessionState(conn, this.vars)
      if (err) {
        this.ctx.pool.release(conn)
        return err
      }
    } catch (e) {
      this.dropBackend(conn)
      return e instanceof BackendError ? e.sqlError : E.backendLost()
    }
    return conn
  }

  /** Runs a bookkeeping command whose reply the client does not see; returns its error, if any. */
  private async runSilently(conn: BackendConnection, run: (c: BackendConnection) => Promise<ResponseSummary>): Promise<SqlError | null> {
    try {
      const s = await run(conn)
      if (s.error) {
        this.ctx.pool.release(conn)
        return s.error
      }
      return null
    } catch (e) {
      this.dropBackend(conn)
      return e instanceof BackendError ? e.sqlError : E.backendLost()
    }
  }

  /**
   * COM_INIT_DB / USE: checks the database on the backend it routes to (relaying that backend's
   * OK through `relayReply`) and makes it the session's default. Returns the error to report.
   */
  private async switchDatabase(db: string, relayReply: (p: Buffer) => void): Promise<SqlError | null> {
    if (this.shards?.holding && db !== this.database) return E.cannotSwitchBackend(db, 'open transaction on shards')
    if (this.ctx.shard !== null && db === this.ctx.shard.database) {
      // The shard-mode database exists on every shard under the shard's own name; nothing to check here.
      if (this.held) return E.cannotSwitchBackend(db, this.pinReason() ?? 'pinned')
      this.database = db
      relayReply(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.shardSession().status, warnings: 0 }))
      return null
    }
    const target = this.ctx.route(db)
    const name = target.database ?? db
    if (this.held) {
      // The pinned connection can change database only on its own server.
      const current = this.ctx.route(this.database).backend.server
      const next = target.backend.server
      if (current.host !== next.host || current.port !== next.port || current.user !== next.user) {
        return E.cannotSwitchBackend(db, this.pinReason() ?? 'pinned')
      }
    }
    const conn = this.held ?? (await this.acquire(target))
    if (!isConnection(conn)) return conn
    let summary: ResponseSummary
    try {
      summary = await conn.request(Buffer.concat([Buffer.from([Com.INIT_DB]), Buffer.from(name, 'utf8')]), 'simple', relayReply)
    } catch (e) {
      this.dropBackend(conn)
      return e instanceof BackendError ? e.sqlError : E.backendLost()
    }
    if (summary.error === null) {
      this.database = db
      conn.database = name
    }
    this.status = summary.status
    this.held = conn
    this.maybeRelease()
    if (this.gone) this.onClose()
    return null
  }

  /** Forgets a backend connection that failed; its transaction (if any) is gone with it. */
  private dropBackend(conn: BackendConnection): void {
    if (this.held === conn) {
      this.held = null
      this.pins.clear()
      this.prepared.clear()
      this.insertIdSticky = 0
    }
    this.status &= ~Status.IN_TRANS
    this.ctx.pool.discard(conn)
  }

  private shardMode(): boolean {
    return this.ctx.shard !== null && this.database === this.ctx.shard.database
  }

  private shardSession(): ShardSession {
    if (this.shards === null) {
      const host: ShardHost = {
        log: this.log,
        pool: this.ctx.pool,
        backendCaps: () => this.backendCaps,
        collation: () => this.collation,
        vars: () => this.vars,
        pinned: () => this.pins.size > 0,
        write: (pkt) => this.writer.write(pkt),
        relay: (pkt, conn, framed) => this.relay(pkt, conn, framed),
        applyEffect: (effect, conn) => this.applyEffect(effect, conn),
        holdReplies: () => this.out.hold(),
      }
      this.shards = new ShardSession(this.ctx.shard!, host)
    }
    return this.shards
  }

  /** Runs a shard-mode command; a reply broken after its first packet ends the connection. */
  private async inShards(run: () => Promise<void>): Promise<void> {
    try {
      await run()
    } catch (e) {
      if (e instanceof BrokenReply) return this.fatal(e.sqlError)
      throw e
    } finally {
      if (this.shards) this.status = this.shards.status
    }
  }

  private writeOk(): void {
    this.writer.write(okPacket({ affectedRows: 0, lastInsertId: 0, status: this.status, warnings: 0 }))
  }

  private writeErr(e: SqlError): void {
    this.writer.write(errPacket(e))
  }

  /** Replies with an ERR and closes the connection (protocol violations, failed auth). */
  private fatal(e: SqlError): void {
    if (this.phase === 'closed') return
    this.phase = 'closed'
    this.log.info('closing client connection', { code: e.code, err: e.message })
    this.writer.write(errPacket(e))
    this.out.flush()
    this.io.end()
    setTimeout(() => this.io.destroy(), 1000).unref()
  }

  private internalError(e: unknown): void {
    this.log.error('internal error in SQL session', { err: e instanceof Error ? (e.stack ?? e.message) : String(e) })
    this.fatal({ code: 1105, sqlState: 'HY000', message: 'cellgate internal error' })
  }

  /**
   * The client is gone. A backend connection in the middle of a reply is closed; a pinned one is
   * rolled back and pooled again only if nothing else (locks, temporary tables, variables,
   * prepared statements) is attached to it.
   */
  private onClose(): void {
    this.phase = 'closed'
    this.gone = true
    const shards = this.shards
    this.shards = null
    if (shards) this.queue = this.queue.then(() => shards.close(false))
    if (this.active) {
      this.ctx.pool.discard(this.active)
      this.active = null
    }
    const conn = this.held
    this.held = null
    if (!conn || conn.closed) return
    const permanent = this.pins.size > 0 || this.prepared.size > 0
    if (permanent) return this.ctx.pool.discard(conn)
    // Queue behind whatever command is still running on it.
    this.queue = this.queue.then(async () => {
      if (conn.busy || conn.closed) return this.ctx.pool.discard(conn)
      try {
        const s = await conn.query('ROLLBACK')
        if (s.error || s.status & Status.IN_TRANS) this.ctx.pool.discard(conn)
        else this.ctx.pool.release(conn)
      } catch {
        this.ctx.pool.discard(conn)
      }
    })
  }
}

function isConnection(x: BackendConnection | SqlError): x is BackendConnection {
  return !('code' in x && 'sqlState' in x)
}

function stripNul(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b
}
