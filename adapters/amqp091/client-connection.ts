import type { Socket } from 'node:net'
import type { Logger } from '../log/logger.js'
import type { UpstreamChannel } from '../rabbit/upstream-channel.js'
import type { UpstreamConnection, UpstreamConnectionListener } from '../rabbit/upstream-connection.js'
import { AmqpError, amqpError } from './amqp-error.js'
import { MECHANISMS, parseSaslResponse, type UserDirectory, type UserRecord } from './auth.js'
import { ClientChannel, type ChannelLimits, type ChannelOwner } from './client-channel.js'
import { AmqpCodecError } from './codec-errors.js'
import { ContentAssembler } from './content-assembler.js'
import type { FieldTable } from './field-table.js'
import { FrameParser, type FrameSink } from './frame-parser.js'
import { encodeContent, encodeRawContent, HEARTBEAT_FRAME, PROTOCOL_HEADER } from './frame-writer.js'
import { Heartbeat } from './heartbeat.js'
import { TurnWriter } from './turn-writer.js'
import {
  decodeContentHeader,
  decodeMethod,
  encodeMethodFrame,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  methodInfo,
  type AmqpMethod,
  type ArgsOf,
  type BasicProperties,
} from './methods.generated.js'
import type { MessageObserver } from './observer-port.js'
import type { AmqpRouting, ConnectionRouting, FrontEndControl, QueueDeclaration } from './routing-port.js'
import { TopologyRecord } from './topology-record.js'
import { replay } from './topology-replay.js'

/** Everything a client connection needs from the running cellgate, built once at start. */
export interface ConnectionContext {
  log: Logger
  users: UserDirectory
  /** Configured client vhosts; connection.open of any other gets 530 like an unknown RabbitMQ vhost. */
  vhosts: ReadonlySet<string>
  serverProperties: FieldTable
  heartbeat: number
  frameMax: number
  channelMax: number
  limits: ChannelLimits
  /** Decides which cells a connection's queues and messages go to. */
  routing: AmqpRouting
  /** A pooled broker connection to `cell` for a new client (affinity: kept for the client's life). */
  acquireUpstream(cell: string): Promise<UpstreamConnection>
  /** False while the broker of `cell` is known to be down. */
  upstreamReachable(cell: string): boolean
  /** How long a lost broker connection may take to come back before clients are told (320). */
  upstreamLostGraceMs: number
  /** Who measures messages and connections (adapters/otel); NO_OBSERVER records nothing. */
  observer: MessageObserver
}

type Phase = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'opened' | 'closing' | 'closed'

const HANDSHAKE_TIMEOUT_MS = 10_000
const CLOSE_OK_TIMEOUT_MS = 2_000

/**
 * One client's AMQP connection: handshake (start/tune/open), frame dispatch to channels,
 * heartbeats, and the broker connection it is attached to. Errors found in the client's bytes
 * close this connection (or channel) with RabbitMQ's reply code and never touch anyone else.
 */
export class ClientConnection implements FrameSink, ChannelOwner, UpstreamConnectionListener, FrontEndControl {
  readonly log: Logger
  readonly limits: ChannelLimits
  readonly topology = new TopologyRecord()
  cancelNotify = false
  private blockedNotify = false
  private phase: Phase = 'header'
  private readonly parser: FrameParser
  private readonly channels = new Map<number, ClientChannel>()
  private readonly content = new Map<number, { args: ArgsOf<'basic.publish'>; body: ContentAssembler | null }>()
  private channelMax: number
  private frameMax: number
  private user: UserRecord | null = null
  private heartbeat: Heartbeat | null = null
  private handshakeTimer: NodeJS.Timeout | null
  private clientProperties: FieldTable = {}
  /** Set once connection.open succeeded (and counted as an open connection). */
  private opened: { vhost: string } | null = null
  private routingPort: ConnectionRouting | null = null
  /** One broker connection per cell this client's work touched. */
  private readonly upstreams = new Map<string, UpstreamConnection>()
  private readonly acquiring = new Map<string, Promise<UpstreamConnection>>()
  private readonly replays = new WeakMap<UpstreamConnection, Promise<void>>()
  private readonly blockedBy = new Set<UpstreamConnection>()
  private readonly throttledChannels = new Set<number>()
  private readonly writer: TurnWriter
  private writableWaiters: Array<() => void> = []

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    readonly id: string,
  ) {
    this.log = ctx.log.child({ conn: id })
    this.limits = ctx.limits
    this.channelMax = ctx.channelMax
    this.frameMax = ctx.frameMax
    this.parser = new FrameParser(this, { maxFrameSize: ctx.frameMax, expectProtocolHeader: true })
    this.writer = new TurnWriter(socket)
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      this.heartbeat?.received()
      this.parser.push(chunk)
    })
    socket.on('drain', () => this.socketDrained())
    socket.on('error', (err) => this.log.debug('client socket error', { err: err.message }))
    socket.on('close', () => this.teardown('client socket closed'))
    this.handshakeTimer = setTimeout(() => {
      this.log.warn('handshake timed out', { phase: this.phase })
      socket.destroy()
    }, HANDSHAKE_TIMEOUT_MS)
  }

  // ---- FrameSink ----------------------------------------------------------------------------

  onProtocolHeader(header: Buffer): void {
    if (!header.equals(PROTOCOL_HEADER)) {
      // The spec's answer to a protocol we do not speak: our header, then close.
      this.log.info('refused unsupported protocol header', { header: header.toString('hex') })
      this.socket.end(PROTOCOL_HEADER)
      this.phase = 'closed'
      return
    }
    this.phase = 'start-ok'
    this.sendMethod(0, {
      name: 'connection.start',
      args: {
        versionMajor: 0,
        versionMinor: 9,
        serverProperties: this.ctx.serverProperties,
        mechanisms: Buffer.from(MECHANISMS.join(' ')),
        locales: Buffer.from('en_US'),
      },
    })
  }

  onFrame(type: number, channel: number, payload: Buffer): void {
    if (this.phase === 'closed') return
    try {
      if (type === FRAME_HEARTBEAT) {
        if (channel !== 0) throw amqpError(505, `heartbeat frame on channel ${channel}`)
        return
      }
      if (this.phase === 'closing') return this.whileClosing(type, channel, payload)
      if (type === FRAME_METHOD) return this.onMethodFrame(channel, payload)
      if (type === FRAME_HEADER) return this.onHeaderFrame(channel, payload)
      if (type === FRAME_BODY) return this.onBodyFrame(channel, payload)
      throw amqpError(501, `unknown frame type ${type}`)
    } catch (err) {
      this.onError(err)
    }
  }

  onFrameError(code: number, message: string): void {
    this.connectionError(amqpError(code, message))
  }

  // ---- ChannelOwner -------------------------------------------------------------------------

  sendMethod(channel: number, m: AmqpMethod): void {
    this.write(encodeMethodFrame(channel, m))
  }

  sendContent(channel: number, props: BasicProperties, body: Buffer): void {
    for (const frame of encodeContent(channel, 60, props, body, this.frameMax)) this.write(frame)
  }

  sendRawContent(channel: number, header: Buffer, body: Buffer): void {
    for (const frame of encodeRawContent(channel, header, body, this.frameMax)) this.write(frame)
  }

  get routing(): ConnectionRouting {
    if (this.routingPort === null) throw new Error('routing used before connection.open')
    return this.routingPort
  }

  upstream(cell: string): Promise<UpstreamConnection> {
    const current = this.upstreams.get(cell)
    if (current !== undefined && current.isAlive) return Promise.resolve(current)
    let acquiring = this.acquiring.get(cell)
    if (acquiring === undefined) {
      acquiring = this.ctx
        .acquireUpstream(cell)
        .then((conn) => {
          if (this.phase === 'closed' || this.phase === 'closing') throw amqpError(320, 'client connection closed')
          this.upstreams.set(cell, conn)
          conn.attach(this)
          if (conn.blocked) this.blocked('broker is blocked', conn)
          return conn
        })
        .finally(() => this.acquiring.delete(cell))
      this.acquiring.set(cell, acquiring)
    }
    return acquiring
  }

  replayTopology(on: UpstreamChannel): Promise<void> {
    let done = this.replays.get(on.connection)
    if (done === undefined) {
      done = replay(this.topology, on.connection, this.log)
      this.replays.set(on.connection, done)
    }
    return done
  }

  connectionError(err: AmqpError): void {
    if (this.phase === 'closing' || this.phase === 'closed') return
    this.log.info('closing connection with error', { code: err.code, text: err.text })
    this.phase = 'closing'
    this.sendMethod(0, {
      name: 'connection.close',
      args: { replyCode: err.code, replyText: err.text, classId: err.classId, methodId: err.methodId },
    })
    this.flush()
    void this.releaseChannels()
    setTimeout(() => this.socket.destroy(), CLOSE_OK_TIMEOUT_MS).unref()
  }

  /** cellgate is stopping: the same goodbye a RabbitMQ node gives its clients. */
  shutdown(): void {
    if (this.phase === 'opened') this.connectionError(amqpError(320, "broker forced connection closure with reason 'shutdown'"))
    else this.socket.destroy()
  }

  throttle(channel: number, paused: boolean): void {
    const was = this.throttledChannels.size > 0
    if (paused) this.throttledChannels.add(channel)
    else this.throttledChannels.delete(channel)
    const now = this.throttledChannels.size > 0
    if (was === now) return
    if (now) {
      this.socket.pause()
      this.heartbeat?.suspendTimeout(true)
    } else {
      this.socket.resume()
      this.heartbeat?.suspendTimeout(false)
    }
  }

  whenWritable(cb: () => void): void {
    if (!this.socket.writableNeedDrain) cb()
    else this.writableWaiters.push(cb)
  }

  get observer(): MessageObserver {
    return this.ctx.observer
  }

  get vhost(): string {
    return this.opened?.vhost ?? ''
  }

  channelClosed(channel: number): void {
    if (this.channels.has(channel)) this.ctx.observer.clientChannels(-1)
    this.channels.delete(channel)
    this.content.delete(channel)
    this.throttle(channel, false)
  }

  // ---- FrontEndControl ----------------------------------------------------------------------

  declarationOf(queue: string): QueueDeclaration | undefined {
    const q = this.topology.queues.get(queue)
    if (q === undefined) return undefined
    const bindings = this.topology.bindingsOf(queue)
    const exchanges = bindings.flatMap((b) => this.topology.exchanges.get(b.exchange) ?? [])
    return { queue: q, bindings, exchanges }
  }

  cancelConsumers(queue: string): number {
    let n = 0
    for (const ch of this.channels.values()) n += ch.cancelConsumersOf(queue)
    return n
  }

  // ---- UpstreamConnectionListener -----------------------------------------------------------

  /**
   * Blocked while its home cell's broker is. A client publishes mostly there; passing on every
   * cell's alarm would let one shard's memory alarm stall every cell (nearly every client also
   * holds a channel on the default cell). Publishes to another blocked cell are still bounded:
   * their confirms stop, and past maxUnconfirmed the channel stops reading.
   */
  blocked(reason: string, conn: UpstreamConnection): void {
    if (this.routingPort !== null && conn.cell !== this.routingPort.homeCell) return
    const was = this.blockedBy.size > 0
    this.blockedBy.add(conn)
    if (!was && this.blockedNotify && this.phase === 'opened') this.sendMethod(0, { name: 'connection.blocked', args: { reason } })
  }

  unblocked(conn: UpstreamConnection): void {
    if (!this.blockedBy.delete(conn) || this.blockedBy.size > 0) return
    if (this.blockedNotify && this.phase === 'opened') this.sendMethod(0, { name: 'connection.unblocked', args: {} })
  }

  /**
   * The broker connection went away. If the broker answers again within the grace period, the
   * channels recover on a new connection and the client notices nothing. If not, the client is
   * told what a dead RabbitMQ would tell it (320), so it reconnects by itself: a client left
   * waiting on a healthy-looking socket may give up on its channel for good (oslo with retry=0).
   */
  lost(reason: string, conn: UpstreamConnection): void {
    if (this.upstreams.get(conn.cell) === conn) this.upstreams.delete(conn.cell)
    this.unblocked(conn)
    if (this.phase !== 'opened') return
    // The broker connection logged the loss once with its client count; one line per client
    // would flood the log in exactly the storm an operator is trying to read.
    this.log.debug('broker connection lost; recovering', { cell: conn.cell, reason })
    const timer = setTimeout(() => {
      this.connectionError(amqpError(320, `broker connection lost and not back within ${this.ctx.upstreamLostGraceMs} ms (${reason})`))
    }, this.ctx.upstreamLostGraceMs)
    this.upstream(conn.cell).then(
      () => clearTimeout(timer),
      () => {},
    )
  }

  // ---- handshake ----------------------------------------------------------------------------

  private onMethodFrame(channel: number, payload: Buffer): void {
    const m = decodeMethod(payload)
    if (channel === 0) return this.onConnectionMethod(m)
    if (this.phase !== 'opened') throw amqpError(504, `channel ${channel} used before connection.open`, ...ids(m))
    if (channel > this.channelMax) throw amqpError(504, `channel ${channel} exceeds channel_max ${this.channelMax}`, ...ids(m))
    if (this.content.has(channel)) throw amqpError(505, `expected content header for class 60, got non content header frame instead`, ...ids(m))
    const ch = this.channels.get(channel)
    if (ch === undefined) {
      if (m.name !== 'channel.open') throw amqpError(504, `expected 'channel.open'`, ...ids(m))
      this.channels.set(channel, new ClientChannel(channel, this))
      this.ctx.observer.clientChannels(1)
      this.sendMethod(channel, { name: 'channel.open-ok', args: { channelId: Buffer.alloc(0) } })
      return
    }
    if (m.name === 'channel.open') throw amqpError(504, `second 'channel.open' seen`, 20, 10)
    if (m.name === 'basic.publish') {
      // Tracked even on a closing channel: its content frames must still be consumed in order.
      this.content.set(channel, { args: m.args, body: null })
      return
    }
    try {
      ch.handleMethod(m)
    } catch (err) {
      this.onChannelError(ch, err)
    }
  }

  private onHeaderFrame(channel: number, payload: Buffer): void {
    const pending = this.content.get(channel)
    if (channel === 0 || pending === undefined || pending.body !== null) {
      throw amqpError(505, `expected method frame, got non method frame instead`)
    }
    const header = decodeContentHeader(payload)
    const ch = this.channels.get(channel)
    ch?.checkBodySize(header.bodySize)
    pending.body = new ContentAssembler(header.properties, header.bodySize, payload)
    if (header.bodySize === 0) this.completePublish(channel)
  }

  private onBodyFrame(channel: number, payload: Buffer): void {
    const pending = this.content.get(channel)
    if (channel === 0 || pending === undefined || pending.body === null) {
      throw amqpError(505, `expected method frame, got non method frame instead`)
    }
    if (!pending.body.append(payload)) throw amqpError(501, `body larger than the ${pending.body.bodySize} bytes its header announced`)
    if (pending.body.complete) this.completePublish(channel)
  }

  private completePublish(channel: number): void {
    const pending = this.content.get(channel)!
    this.content.delete(channel)
    const ch = this.channels.get(channel)
    if (ch === undefined || !ch.isOpen) return
    try {
      ch.handlePublish(pending.args, pending.body!.properties, pending.body!.take(), pending.body!.header)
    } catch (err) {
      this.onChannelError(ch, err)
    }
  }

  private onConnectionMethod(m: AmqpMethod): void {
    switch (this.phase) {
      case 'start-ok':
        if (m.name !== 'connection.start-ok') throw unexpected(m, 'connection.start-ok')
        return this.onStartOk(m.args)
      case 'tune-ok':
        if (m.name !== 'connection.tune-ok') throw unexpected(m, 'connection.tune-ok')
        return this.onTuneOk(m.args)
      case 'open':
        if (m.name !== 'connection.open') throw unexpected(m, 'connection.open')
        return this.onOpen(m.args)
      case 'opened':
        if (m.name === 'connection.close') return this.onClientClose()
        if (m.name === 'connection.blocked' || m.name === 'connection.unblocked') return
        if (m.name === 'connection.update-secret') {
          return this.sendMethod(0, { name: 'connection.update-secret-ok', args: {} })
        }
        throw amqpError(504, `${m.name} is not valid on channel 0`, ...ids(m))
      default:
        throw unexpected(m, 'nothing')
    }
  }

  private onStartOk(a: ArgsOf<'connection.start-ok'>): void {
    const caps = a.clientProperties['capabilities']
    const capabilities = caps !== null && typeof caps === 'object' && !Array.isArray(caps) && !Buffer.isBuffer(caps) ? (caps as FieldTable) : {}
    this.cancelNotify = capabilities['consumer_cancel_notify'] === true
    this.blockedNotify = capabilities['connection.blocked'] === true
    this.clientProperties = a.clientProperties
    const name = a.clientProperties['connection_name']
    if (typeof name === 'string') this.log.debug('client identified', { client_name: name })
    if (!(MECHANISMS as readonly string[]).includes(a.mechanism)) {
      throw amqpError(403, `unsupported authentication mechanism '${a.mechanism}'`, 10, 11)
    }
    const creds = parseSaslResponse(a.mechanism, a.response)
    const user = creds === null ? null : this.ctx.users.authenticate(creds)
    if (user === null) {
      this.log.warn('login refused', { user: creds?.user ?? '(unreadable)', mechanism: a.mechanism })
      throw amqpError(403, `Login was refused using authentication mechanism ${a.mechanism}. For details see the broker logfile.`, 10, 11)
    }
    this.user = user
    this.phase = 'tune-ok'
    this.sendMethod(0, {
      name: 'connection.tune',
      args: { channelMax: this.ctx.channelMax, frameMax: this.ctx.frameMax, heartbeat: this.ctx.heartbeat },
    })
  }

  private onTuneOk(a: ArgsOf<'connection.tune-ok'>): void {
    const frameMax = a.frameMax === 0 ? this.ctx.frameMax : a.frameMax
    if (frameMax < 4096) throw amqpError(530, `frame_max=${a.frameMax} < 4096 min size`, 10, 31)
    if (frameMax > this.ctx.frameMax) throw amqpError(530, `frame_max=${a.frameMax} > ${this.ctx.frameMax} max size`, 10, 31)
    if (a.channelMax > this.ctx.channelMax) throw amqpError(530, `channel_max=${a.channelMax} > ${this.ctx.channelMax} max`, 10, 31)
    this.frameMax = frameMax
    this.channelMax = a.channelMax === 0 ? this.ctx.channelMax : a.channelMax
    this.parser.setMaxFrameSize(frameMax)
    if (a.heartbeat > 0) {
      this.heartbeat = new Heartbeat(a.heartbeat, {
        send: () => this.write(HEARTBEAT_FRAME),
        timedOut: () => {
          this.log.warn('missed heartbeats from client; closing', { heartbeat_s: a.heartbeat })
          this.socket.destroy()
        },
      })
    }
    this.phase = 'open'
  }

  private onOpen(a: ArgsOf<'connection.open'>): void {
    const vhost = a.virtualHost
    if (!this.ctx.vhosts.has(vhost)) throw amqpError(530, `vhost ${vhost} not found`, 10, 40)
    if (!this.ctx.users.mayOpen(this.user!, vhost)) {
      this.log.warn('vhost access refused', { user: this.user!.name, vhost })
      throw amqpError(530, `access to vhost '${vhost}' refused for user '${this.user!.name}'`, 10, 40)
    }
    const routing = this.ctx.routing.forConnection({
      id: this.id,
      vhost,
      user: this.user!.name,
      peerAddress: this.socket.remoteAddress ?? '',
      clientProperties: this.clientProperties,
    })
    if ('refused' in routing) throw amqpError(320, `no cell can serve vhost '${vhost}' (${routing.refused})`, 10, 40)
    if (!this.ctx.upstreamReachable(routing.homeCell)) {
      // A dead RabbitMQ refuses connections; serving one that cannot reach a broker only makes the
      // client wait on a socket that looks healthy.
      routing.closed()
      throw amqpError(320, `no broker reachable for vhost '${vhost}' (cell ${routing.homeCell})`, 10, 40)
    }
    this.routingPort = routing
    this.opened = { vhost }
    this.ctx.observer.clientConnections(1)
    routing.attach(this)
    this.phase = 'opened'
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = null
    this.sendMethod(0, { name: 'connection.open-ok', args: { knownHosts: '' } })
    this.log.debug('connection open', { user: this.user!.name, vhost })
  }

  private onClientClose(): void {
    this.phase = 'closing'
    void this.releaseChannels().then(() => {
      this.sendMethod(0, { name: 'connection.close-ok', args: {} })
      this.flush()
      this.socket.end()
      this.phase = 'closed'
    })
  }

  /** After we sent connection.close, only close-ok (or a crossing close) matters. */
  private whileClosing(type: number, channel: number, payload: Buffer): void {
    if (type !== FRAME_METHOD || channel !== 0) return
    let m: AmqpMethod
    try {
      m = decodeMethod(payload)
    } catch {
      return
    }
    if (m.name === 'connection.close-ok') this.socket.destroy()
    else if (m.name === 'connection.close') {
      this.sendMethod(0, { name: 'connection.close-ok', args: {} })
      this.flush()
      this.socket.end()
    }
  }

  // ---- errors, writes, teardown -------------------------------------------------------------

  private onError(err: unknown): void {
    if (err instanceof AmqpCodecError) {
      // RabbitMQ reports undecodable arguments as FRAME_ERROR; for unknown method ids it drops the
      // socket without a word, where cellgate says NOT_IMPLEMENTED first.
      const code = err.code === 'UNKNOWN_METHOD' ? 540 : 501
      this.connectionError(amqpError(code, err.message, err.classId ?? 0, err.methodId ?? 0))
      return
    }
    if (err instanceof AmqpError) {
      // Channel-level errors are routed to their channel before reaching here.
      this.connectionError(err)
      return
    }
    this.log.error('[BUG] unexpected error handling a frame', { err: (err as Error).message, stack: (err as Error).stack })
    this.connectionError(amqpError(541, 'internal error'))
  }

  private onChannelError(ch: ClientChannel, err: unknown): void {
    if (err instanceof AmqpError && !err.closesConnection) ch.serverClose(err.code, err.text, err.classId, err.methodId)
    else this.onError(err)
  }

  private write(frame: Buffer): void {
    if (this.phase === 'closed' || this.socket.destroyed) return
    this.writer.write(frame)
    this.heartbeat?.sent()
  }

  private flush(): void {
    this.writer.flush()
  }

  private socketDrained(): void {
    const waiters = this.writableWaiters
    this.writableWaiters = []
    for (const w of waiters) w()
  }

  private async releaseChannels(): Promise<void> {
    if (this.opened !== null) {
      for (let n = 0; n < this.channels.size; n++) this.ctx.observer.clientChannels(-1)
      this.ctx.observer.clientConnections(-1)
      this.opened = null
    }
    const channels = [...this.channels.values()]
    this.channels.clear()
    this.content.clear()
    this.heartbeat?.stop()
    await Promise.all(channels.map((c) => c.dispose()))
    await Promise.all([...this.upstreams.values()].map((conn) => this.deleteExclusiveQueues(conn)))
    for (const conn of this.upstreams.values()) conn.detach(this)
    this.upstreams.clear()
    this.routingPort?.closed()
  }

  /** The broker connection outlives this client, so its exclusive queues would outlive it too. */
  private async deleteExclusiveQueues(conn: UpstreamConnection): Promise<void> {
    const queues = this.topology.exclusiveQueues(conn.cell)
    if (queues.length === 0 || !conn.isAlive) return
    try {
      const ch = await conn.openChannel()
      for (const q of queues) await ch.deleteQueue(q)
      await ch.close()
    } catch (err) {
      this.log.warn('could not delete exclusive queues', { err: (err as Error).message })
    }
  }

  private teardown(why: string): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    const wasOpen = this.phase === 'opened'
    const already = this.phase === 'closed'
    this.phase = 'closed'
    this.heartbeat?.stop()
    if (!already || this.channels.size > 0) void this.releaseChannels()
    if (wasOpen) this.log.debug('connection ended', { why })
  }
}

/** Class and method id of a method, for the close that reports it failed. */
function ids(m: AmqpMethod): [number, number] {
  const i = methodInfo[m.name]
  return [i.classId, i.methodId]
}

function unexpected(m: AmqpMethod, expected: string): AmqpError {
  return amqpError(503, `expected '${expected}', got '${m.name}'`, ...ids(m))
}

