/**
 * cellgate's own minimal MySQL client for backend connections: logs in (mysql_native_password,
 * caching_sha2_password fast path or RSA full path, auth switch), then runs one command at a time
 * and hands every reply packet, undecoded, to the caller while a ResponseTracker finds its end.
 *
 * Why not mysql2 here: see the decision note at the top of client-session.ts.
 */
import { connect, type Socket } from 'node:net'
import { constants as cryptoConstants, publicEncrypt } from 'node:crypto'
import { PacketParser } from './packet-parser.js'
import { PacketWriter } from './packet-writer.js'
import { isErr, isOk, parseErr, parseOk, type SqlError } from './packets.js'
import { Cap, Com } from './protocol.js'
import { ResponseTracker, type ResponseKind, type ResponseSummary } from './response-tracker.js'
import { CACHING_SHA2, NATIVE, scrambleCachingSha2, scrambleNative } from './auth.js'
import { PayloadBuilder, PayloadReader } from './wire-codec.js'

/** Where a backend server is and how cellgate logs in to it. */
export interface BackendServer {
  host: string
  port: number
  user: string
  password: string
}

export interface BackendLoginOptions {
  /** Capability flags to request (the server's own flags are intersected in). */
  capabilities: number
  collation: number
  database: string | null
  connectTimeoutMs: number
  maxPacketSize: number
}

/** The backend connection failed or closed; carries the error to send the client. */
export class BackendError extends Error {
  constructor(
    readonly sqlError: SqlError,
    /** True when the server answered (an ERR during login); false for network failures. */
    readonly fromServer: boolean,
  ) {
    super(sqlError.message)
  }
}

interface Pending {
  tracker: ResponseTracker | null
  onPacket: (p: Buffer, framed?: Buffer) => void
  resolve: (s: ResponseSummary) => void
  reject: (e: Error) => void
}

export class BackendConnection {
  readonly threadId: number
  readonly serverVersion: string
  /** Status flags of the last reply. */
  status: number
  /** The backend's current default database. */
  database: string | null
  /** SET statements applied on this connection, by state key, in the order they were applied. */
  readonly appliedState = new Map<string, string>()
  private pending: Pending | null = null
  private closedFlag = false
  private readonly closeListeners: Array<() => void> = []
  lastUsed = Date.now()

  private constructor(
    private readonly socket: Socket,
    private readonly parser: { setSink(s: (p: Buffer, framed?: Buffer) => void): void },
    private readonly writer: PacketWriter,
    hello: { threadId: number; serverVersion: string; status: number; database: string | null },
  ) {
    this.threadId = hello.threadId
    this.serverVersion = hello.serverVersion
    this.status = hello.status
    this.database = hello.database
    parser.setSink((p, framed) => this.onPacket(p, framed))
    socket.on('close', () => this.onClose())
  }

  get closed(): boolean {
    return this.closedFlag
  }

  get busy(): boolean {
    return this.pending !== null
  }

  onceClosed(fn: () => void): void {
    this.closeListeners.push(fn)
  }

  static async connect(server: BackendServer, opts: BackendLoginOptions): Promise<BackendConnection> {
    const where = `${server.host}:${server.port}`
    const socket = connect({ host: server.host, port: server.port })
    socket.setNoDelay(true)
    // Packets of the login phase arrive through this queue; afterwards the connection takes over.
    const inbox: Buffer[] = []
    let wake: (() => void) | null = null
    let failure: BackendError | null = null
    let sink: ((p: Buffer, framed?: Buffer) => void) | null = null
    const parser = new PacketParser(
      {
        onPacket: (p, _first, _last, framed) => {
          if (sink) sink(p, framed)
          else {
            inbox.push(p)
            wake?.()
          }
        },
        onPacketError: (_kind, message) => {
          failure = new BackendError({ code: 2027, sqlState: 'HY000', message: `Malformed packet from backend ${where}: ${message}` }, false)
          socket.destroy()
          wake?.()
        },
      },
      opts.maxPacketSize,
    )
    socket.on('data', (chunk: Buffer) => parser.push(chunk))
    const fail = (why: string): void => {
      if (!failure) failure = new BackendError({ code: 2003, sqlState: 'HY000', message: `Can't connect to MySQL server on '${where}' (${why})` }, false)
      wake?.()
    }
    socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
    socket.on('close', () => fail('connection closed during login'))
    socket.setTimeout(opts.connectTimeoutMs, () => {
      fail('timed out')
      socket.destroy()
    })
    const next = async (): Promise<Buffer> => {
      for (;;) {
        const p = inbox.shift()
        if (p) return p
        if (failure) throw failure
        await new Promise<void>((r) => (wake = r))
        wake = null
      }
    }
    const writer = new PacketWriter(socket)
    try {
      const greeting = await next()
      if (isErr(greeting)) throw new BackendError(parseErr(greeting), true)
      const g = parseGreeting(greeting)
      const caps = (opts.capabilities & g.capabilities) | Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION
      let plugin = g.authPlugin === CACHING_SHA2 ? CACHING_SHA2 : NATIVE
      let scramble = g.scramble
      const token = plugin === CACHING_SHA2 ? scrambleCachingSha2(server.password, scramble) : scrambleNative(server.password, scramble)
      const response = new PayloadBuilder()
        .u32(caps | (opts.database ? Cap.CONNECT_WITH_DB : 0))
        .u32(opts.maxPacketSize)
        .u8(opts.collation)
        .zeros(23)
        .nulStr(server.user)
      if (caps & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) response.lenencBytes(token)
      else response.u8(token.length).bytes(token)
      if (opts.database) response.nulStr(opts.database)
      if (caps & Cap.PLUGIN_AUTH) response.nulStr(plugin)
      writer.seq = 1
      writer.write(response.build())
      for (;;) {
        const p = await next()
        writer.seq = (writer.seq + 1) & 0xff
        if (isOk(p)) {
          socket.setTimeout(0)
          const ok = parseOk(p)
          const conn = new BackendConnection(socket, { setSink: (s) => (sink = s) }, writer, {
            threadId: g.threadId,
            serverVersion: g.serverVersion,
            status: ok.status,
            database: opts.database,
          })
          socket.removeAllListeners('error')
          socket.on('error', () => socket.destroy())
          for (const q of inbox.splice(0)) sink!(q)
          return conn
        }
        if (isErr(p)) throw new BackendError(parseErr(p), true)
        if (p[0] === 0xfe) {
          // AuthSwitchRequest: plugin name, then its data (a new scramble).
          const r = new PayloadReader(p, 1)
          plugin = r.nulString()
          scramble = r.rest()
          if (scramble[scramble.length - 1] === 0) scramble = scramble.subarray(0, scramble.length - 1)
          if (plugin === NATIVE) writer.write(scrambleNative(server.password, scramble))
          else if (plugin === CACHING_SHA2) writer.write(scrambleCachingSha2(server.password, scramble))
          else throw new BackendError({ code: 1251, sqlState: '08004', message: `backend ${where} asks for auth plugin ${plugin}, which cellgate does not implement` }, true)
          continue
        }
        if (p[0] === 0x01 && plugin === CACHING_SHA2) {
          if (p[1] === 0x03) continue // fast auth succeeded; OK follows
          if (p[1] === 0x04) {
            writer.write(Buffer.from([0x02])) // request the server's RSA public key
            continue
          }
          // The public key: encrypt (password + NUL) XOR scramble with it.
          const pem = p.subarray(1)
          const clear = Buffer.from(server.password + '\0', 'utf8')
          for (let i = 0; i < clear.length; i++) clear[i]! ^= scramble[i % scramble.length]!
          writer.write(publicEncrypt({ key: pem, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING }, clear))
          continue
        }
        throw new BackendError({ code: 2027, sqlState: 'HY000', message: `unexpected packet 0x${(p[0] ?? 0).toString(16)} during backend login` }, false)
      }
    } catch (e) {
      socket.destroy()
      throw e
    }
  }

  /**
   * Sends one command and streams its reply to onPacket (with the packet's framed bytes when the
   * parser has them, for PacketWriter.relay). Resolves with the reply's summary; rejects with
   * BackendError(2013) if the connection dies first.
   */
  request(payload: Buffer, kind: ResponseKind, onPacket: (p: Buffer, framed?: Buffer) => void): Promise<ResponseSummary> {
    if (this.closedFlag) return Promise.reject(new BackendError({ code: 2013, sqlState: 'HY000', message: 'Lost connection to MySQL server during query' }, false))
    if (this.pending) return Promise.reject(new Error('backend connection is busy'))
    return new Promise<ResponseSummary>((resolve, reject) => {
      this.pending = { tracker: new ResponseTracker(kind, this.status), onPacket, resolve, reject }
      this.lastUsed = Date.now()
      this.writer.seq = 0
      this.writer.write(payload)
    })
  }

  /** A command without a reply (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA). */
  send(payload: Buffer): void {
    if (this.closedFlag) return
    this.writer.seq = 0
    this.writer.write(payload)
  }

  /** A COM_QUERY whose reply is only needed as a summary (state replay, rollback). */
  query(sql: string): Promise<ResponseSummary> {
    return this.request(Buffer.concat([Buffer.from([Com.QUERY]), Buffer.from(sql, 'utf8')]), 'query', () => {})
  }

  initDb(database: string): Promise<ResponseSummary> {
    return this.request(Buffer.concat([Buffer.from([Com.INIT_DB]), Buffer.from(database, 'utf8')]), 'simple', () => {})
  }

  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** COM_QUIT and close: the polite way out for idle pooled connections. */
  quit(): void {
    if (this.closedFlag) return
    this.send(Buffer.from([Com.QUIT]))
    this.socket.end()
  }

  private onPacket(p: Buffer, framed?: Buffer): void {
    const pending = this.pending
    if (!pending || !pending.tracker) {
      // Nothing was asked: the server says something on its own (e.g. an ERR before it closes an
      // idle connection). The connection cannot be trusted any more.
      this.socket.destroy()
      return
    }
    let last: boolean
    try {
      last = pending.tracker.push(p)
    } catch (e) {
      this.pending = null
      this.socket.destroy()
      pending.reject(new BackendError({ code: 2027, sqlState: 'HY000', message: `Malformed packet: ${(e as Error).message}` }, false))
      return
    }
    pending.onPacket(p, framed)
    if (last) {
      const s = pending.tracker.summary()
      this.status = s.status
      this.pending = null
      pending.resolve(s)
    }
  }

  private onClose(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    const pending = this.pending
    this.pending = null
    pending?.reject(new BackendError({ code: 2013, sqlState: 'HY000', message: 'Lost connection to MySQL server during query' }, false))
    for (const fn of this.closeListeners) fn()
  }
}

interface ParsedGreeting {
  serverVersion: string
  threadId: number
  scramble: Buffer
  capabilities: number
  authPlugin: string
}

function parseGreeting(p: Buffer): ParsedGreeting {
  const r = new PayloadReader(p)
  const protocol = r.u8()
  if (protocol !== 10) throw new BackendError({ code: 2027, sqlState: 'HY000', message: `backend speaks protocol ${protocol}, not 10` }, false)
  const serverVersion = r.nulString()
  const threadId = r.u32()
  const s1 = r.bytes(8)
  r.u8()
  let capabilities = r.u16()
  let authPlugin = NATIVE
  let s2: Buffer = Buffer.alloc(0)
  if (r.remaining > 0) {
    r.u8() // collation
    r.u16() // status
    capabilities |= r.u16() << 16
    const authLen = r.u8()
    r.bytes(10)
    if (capabilities & Cap.SECURE_CONNECTION) s2 = r.bytes(Math.max(13, authLen - 8) - 1)
    if (r.remaining > 0) r.u8()
    if (capabilities & Cap.PLUGIN_AUTH && r.remaining > 0) authPlugin = r.nulString()
  }
  return { serverVersion, threadId, scramble: Buffer.concat([s1, s2]), capabilities: capabilities >>> 0, authPlugin }
}
