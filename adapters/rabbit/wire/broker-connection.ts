import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { FieldTable } from '../../amqp091/field-table.js'
import { FrameParser, type FrameSink } from '../../amqp091/frame-parser.js'
import { HEARTBEAT_FRAME, PROTOCOL_HEADER } from '../../amqp091/frame-writer.js'
import { Heartbeat } from '../../amqp091/heartbeat.js'
import { TurnWriter } from '../../amqp091/turn-writer.js'
import { decodeMethod, encodeMethodFrame, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, type AmqpMethod } from '../../amqp091/methods.generated.js'
import type { CloseReason } from '../close-reason.js'
import { BrokerChannel, type BrokerChannelHandler, type ChannelWire } from './broker-channel.js'
import { BrokerError } from './broker-error.js'
import { parseBrokerUrl, type BrokerAddress } from './broker-url.js'

export interface BrokerConnectOptions {
  url: string
  /** Shown by `rabbitmqctl list_connections client_properties` and the management UI. */
  connectionName: string
  /** Heartbeat cellgate asks for, in seconds; 0 turns heartbeats off (only if the broker agrees). */
  heartbeat: number
  handshakeTimeoutMs?: number
}

/** What the owner of a broker connection hears about it. */
export interface BrokerConnectionEvents {
  blocked(reason: string): void
  unblocked(): void
  /** The connection is gone and will not come back; every channel on it was told first. */
  lost(reason: string): void
}

/** The frame size cellgate asks for: RabbitMQ's default, so a 1 KiB oslo message is one frame. */
const WANTED_FRAME_MAX = 131_072
/** Channels per broker connection: RabbitMQ 3.10's default channel_max. */
const WANTED_CHANNEL_MAX = 2047
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/**
 * Bytes buffered for the broker before publishers are told to wait for drain. One broker
 * connection carries many clients' channels and a turn's writes are corked together: with the
 * socket's own 16 KiB mark, a burst of a few 1 KiB publishes already paused every client on it.
 * Past 16 KiB the socket emits 'drain' anyway, so the larger mark needs nothing else.
 */
const BACKED_UP_BYTES = 1 << 20

/** What cellgate tells the broker it can do (RabbitMQ sends the matching notifications only then). */
const CAPABILITIES: FieldTable = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  authentication_failure_close: true,
}

type Phase = 'start' | 'tune' | 'open' | 'opened' | 'closing' | 'closed'

/**
 * cellgate's own client connection to RabbitMQ (AMQP 0-9-1, the client side), on the same
 * generated codec as the front end. It exists so the hot path pays for nothing it does not use:
 * frames are written straight to the socket (one writev per tick), deliveries arrive as
 * decoded properties plus the header frame's raw bytes, so they can be passed on unchanged.
 */
export class BrokerConnection implements FrameSink, ChannelWire {
  private phase: Phase = 'start'
  private readonly parser = new FrameParser(this, { maxFrameSize: WANTED_FRAME_MAX, expectProtocolHeader: false })
  private readonly channels = new Map<number, BrokerChannel>()
  private heartbeat: Heartbeat | null = null
  private readonly writer: TurnWriter
  private channelMax = WANTED_CHANNEL_MAX
  private nextChannel = 1
  private closeWaiter: (() => void) | null = null
  private events: BrokerConnectionEvents | null = null
  frameMax = FRAME_MIN_SIZE
  serverProperties: FieldTable = {}

  private constructor(
    private readonly socket: Socket,
    private readonly address: BrokerAddress,
    private readonly opts: BrokerConnectOptions,
    private readonly handshake: { resolve: () => void; reject: (err: Error) => void },
  ) {
    socket.setNoDelay(true)
    this.writer = new TurnWriter(socket)
    socket.on('data', (chunk: Buffer) => {
      this.heartbeat?.received()
      this.parser.push(chunk)
    })
    socket.on('drain', () => {
      for (const ch of this.channels.values()) ch.drained()
    })
    socket.on('error', (err) => this.ended(`socket error: ${err.message}`))
    socket.on('close', () => this.ended('socket closed'))
  }

  /** Connects, authenticates (PLAIN), tunes and opens the vhost; rejects with the broker's reason. */
  static connect(opts: BrokerConnectOptions): Promise<BrokerConnection> {
    const address = parseBrokerUrl(opts.url)
    return new Promise((resolve, reject) => {
      const socket = address.tls
        ? tlsConnect({ host: address.host, port: address.port, servername: address.host })
        : tcpConnect({ host: address.host, port: address.port })
      let conn: BrokerConnection | null = null
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`AMQP handshake with ${address.host}:${address.port} timed out`))
      }, opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS)
      conn = new BrokerConnection(socket, address, opts, {
        resolve: () => {
          clearTimeout(timer)
          resolve(conn!)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      })
      socket.once(address.tls ? 'secureConnect' : 'connect', () => socket.write(PROTOCOL_HEADER))
    })
  }

  setEvents(events: BrokerConnectionEvents): void {
    this.events = events
  }

  get isOpen(): boolean {
    return this.phase === 'opened'
  }

  get openChannelCount(): number {
    return this.channels.size
  }

  /** A new channel in confirm mode (every publish on it is acked or nacked), with its prefetch if given. */
  async openChannel(handler: BrokerChannelHandler, prefetch?: { count: number; global: boolean }): Promise<BrokerChannel> {
    if (this.phase !== 'opened') throw new BrokerError({ code: 320, text: 'CONNECTION_FORCED - broker connection is not open', classId: 0, methodId: 0 })
    const ch = new BrokerChannel(this.allocateChannel(), this, handler)
    this.channels.set(ch.id, ch)
    await ch.open(prefetch)
    return ch
  }

  /** Closes politely (connection.close, wait for close-ok), then the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return
    if (this.phase !== 'opened') {
      this.socket.destroy()
      return
    }
    this.phase = 'closing'
    const done = new Promise<void>((resolve) => {
      this.closeWaiter = resolve
    })
    this.send(0, { name: 'connection.close', args: { replyCode: 200, replyText: 'cellgate closing', classId: 0, methodId: 0 } })
    this.flush()
    const timer = setTimeout(() => this.socket.destroy(), 2_000)
    await done
    clearTimeout(timer)
  }

  // ---- ChannelWire --------------------------------------------------------------------------

  send(channel: number, m: AmqpMethod): void {
    this.write(encodeMethodFrame(channel, m))
  }

  write(frame: Buffer): boolean {
    if (this.socket.destroyed) return false
    this.writer.write(frame)
    this.heartbeat?.sent()
    return this.socket.writableLength < BACKED_UP_BYTES
  }

  channelEnded(id: number): void {
    this.channels.delete(id)
  }

  // ---- FrameSink ----------------------------------------------------------------------------

  onProtocolHeader(): void {
    // Not expected on the client side (the parser is told so); a broker that refuses our
    // protocol answers with its header, which the frame parser reports as a frame error.
  }

  onFrame(type: number, channel: number, payload: Buffer): void {
    if (type === FRAME_HEARTBEAT) return
    if (channel === 0) {
      if (type !== FRAME_METHOD) return this.fatal(`frame type ${type} on channel 0`)
      let m: AmqpMethod
      try {
        m = decodeMethod(payload)
      } catch (err) {
        return this.fatal(`undecodable method from the broker: ${(err as Error).message}`)
      }
      return this.onConnectionMethod(m)
    }
    const ch = this.channels.get(channel)
    if (ch === undefined) return // a frame for a channel we already forgot (it raced our close)
    try {
      ch.onFrame(type, payload)
    } catch (err) {
      this.fatal(`bad frame on channel ${channel}: ${(err as Error).message}`)
    }
  }

  onFrameError(_code: number, message: string): void {
    this.fatal(`framing error from the broker: ${message}`)
  }

  // ---- internals ----------------------------------------------------------------------------

  private onConnectionMethod(m: AmqpMethod): void {
    switch (m.name) {
      case 'connection.start':
        return this.onStart(m.args.mechanisms)
      case 'connection.tune':
        return this.onTune(m.args.channelMax, m.args.frameMax, m.args.heartbeat)
      case 'connection.open-ok':
        this.phase = 'opened'
        return this.handshake.resolve()
      case 'connection.close': {
        const reason: CloseReason = { code: m.args.replyCode, text: m.args.replyText, classId: m.args.classId, methodId: m.args.methodId }
        this.send(0, { name: 'connection.close-ok', args: {} })
        this.flush()
        this.socket.end()
        return this.ended(`closed by the broker: ${reason.code} ${reason.text}`, reason)
      }
      case 'connection.close-ok':
        this.socket.destroy()
        return this.ended('closed by cellgate')
      case 'connection.blocked':
        return this.events?.blocked(m.args.reason)
      case 'connection.unblocked':
        return this.events?.unblocked()
      default:
        return this.fatal(`unexpected ${m.name} on channel 0`)
    }
  }

  private onStart(mechanisms: Buffer): void {
    if (this.phase !== 'start') return this.fatal('connection.start twice')
    if (!mechanisms.toString().split(' ').includes('PLAIN')) return this.fatal(`broker offers no PLAIN login (${mechanisms.toString()})`)
    this.phase = 'tune'
    const a = this.address
    this.send(0, {
      name: 'connection.start-ok',
      args: {
        clientProperties: { product: 'cellgate', platform: `Node.js ${process.version}`, connection_name: this.opts.connectionName, capabilities: CAPABILITIES },
        mechanism: 'PLAIN',
        response: Buffer.from(`\0${a.user}\0${a.password}`),
        locale: 'en_US',
      },
    })
  }

  private onTune(channelMax: number, frameMax: number, heartbeat: number): void {
    if (this.phase !== 'tune') return this.fatal('connection.tune out of order')
    this.phase = 'open'
    // 0 from the broker means "no limit" for channel_max and frame_max, "no heartbeat" for heartbeat.
    this.channelMax = channelMax === 0 ? WANTED_CHANNEL_MAX : Math.min(channelMax, WANTED_CHANNEL_MAX)
    this.frameMax = frameMax === 0 ? WANTED_FRAME_MAX : Math.min(frameMax, WANTED_FRAME_MAX)
    const beat = heartbeat === 0 || this.opts.heartbeat === 0 ? Math.max(heartbeat, this.opts.heartbeat) : Math.min(heartbeat, this.opts.heartbeat)
    this.parser.setMaxFrameSize(this.frameMax)
    this.send(0, { name: 'connection.tune-ok', args: { channelMax: this.channelMax, frameMax: this.frameMax, heartbeat: beat } })
    this.send(0, { name: 'connection.open', args: { virtualHost: this.address.vhost, capabilities: '', insist: false } })
    if (beat > 0) {
      this.heartbeat = new Heartbeat(beat, {
        send: () => this.write(HEARTBEAT_FRAME),
        timedOut: () => {
          this.socket.destroy()
          this.ended(`no heartbeat from the broker for ${3 * beat} s`)
        },
      })
    }
  }

  private allocateChannel(): number {
    for (let i = 0; i < this.channelMax; i++) {
      const id = this.nextChannel
      this.nextChannel = id >= this.channelMax ? 1 : id + 1
      if (!this.channels.has(id)) return id
    }
    throw new BrokerError({ code: 504, text: `CHANNEL_ERROR - all ${this.channelMax} channels of the broker connection are in use`, classId: 20, methodId: 10 })
  }

  private flush(): void {
    this.writer.flush()
  }

  /** A broker that breaks the protocol: drop the connection (a dead broker looks the same to clients). */
  private fatal(why: string): void {
    this.socket.destroy()
    this.ended(why)
  }

  /** The one place the connection ends, however it ends; later calls are no-ops. */
  private ended(why: string, reason?: CloseReason): void {
    if (this.phase === 'closed') return
    const wasOpen = this.phase === 'opened' || this.phase === 'closing'
    const byUs = this.phase === 'closing'
    this.phase = 'closed'
    this.heartbeat?.stop()
    if (!this.socket.destroyed && reason === undefined) this.socket.destroy()
    if (!wasOpen) {
      this.handshake.reject(reason !== undefined ? new BrokerError(reason) : new Error(`broker connection failed during the handshake (${why})`))
      return
    }
    const channels = [...this.channels.values()]
    this.channels.clear()
    const lost: CloseReason = reason ?? { code: 320, text: `CONNECTION_FORCED - ${why}`, classId: 0, methodId: 0 }
    for (const ch of channels) ch.connectionEnded(lost)
    this.closeWaiter?.()
    if (!byUs) this.events?.lost(why)
  }
}
