import { connect as tcpConnect, type Socket } from 'node:net'
import { FrameParser } from '../../adapters/amqp091/frame-parser.js'
import { PROTOCOL_HEADER } from '../../adapters/amqp091/frame-writer.js'
import { decodeMethod, encodeMethodFrame, FRAME_METHOD, type AmqpMethod } from '../../adapters/amqp091/methods.generated.js'

/** What a raw peer saw: every decoded method (with its channel), and whether the socket closed. */
export interface RawEvent {
  channel: number
  type: number
  method?: AmqpMethod
  raw?: Buffer
}

/**
 * A deliberately dumb AMQP 0-9-1 client for tests that must send what real clients never
 * would (bad frames, wrong order) and observe exactly what the server answers.
 */
export class RawAmqp {
  readonly events: RawEvent[] = []
  closed = false
  private waiters: Array<() => void> = []
  private readonly parser: FrameParser

  private constructor(readonly socket: Socket) {
    this.parser = new FrameParser(
      {
        onProtocolHeader: () => {},
        onFrame: (type, channel, payload) => {
          const ev: RawEvent = { channel, type }
          if (type === FRAME_METHOD) ev.method = decodeMethod(payload)
          else ev.raw = Buffer.from(payload)
          this.events.push(ev)
          this.wake()
        },
        onFrameError: () => {
          this.closed = true
          this.wake()
        },
      },
      { maxFrameSize: 1 << 20, expectProtocolHeader: false },
    )
    socket.on('data', (chunk: Buffer) => {
      // A server that refuses our protocol header answers with its own header, not a frame.
      if (this.events.length === 0 && chunk.subarray(0, 4).toString() === 'AMQP') {
        this.events.push({ channel: -1, type: -1, raw: Buffer.from(chunk.subarray(0, 8)) })
        chunk = chunk.subarray(8)
      }
      if (chunk.length > 0) this.parser.push(chunk)
      this.wake()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawAmqp> {
    return new Promise((resolve, reject) => {
      const s = tcpConnect(port, host, () => resolve(new RawAmqp(s)))
      s.once('error', reject)
    })
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  method(channel: number, m: AmqpMethod): void {
    this.send(encodeMethodFrame(channel, m))
  }

  /** Waits until `pred` holds for some event (or the socket closes), or times out. */
  async waitFor(pred: (e: RawEvent) => boolean, timeoutMs = 5000): Promise<RawEvent | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.events.find(pred)
      if (hit || this.closed || Date.now() > deadline) return hit
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => {
          clearTimeout(timer)
          r()
        })
      })
    }
  }

  waitMethod(name: AmqpMethod['name'], timeoutMs?: number): Promise<RawEvent | undefined> {
    return this.waitFor((e) => e.method?.name === name, timeoutMs)
  }

  /** Protocol header, start-ok (PLAIN), tune-ok and open; stops early if the server closes. */
  async handshake(user = 'guest', password = 'guest', vhost = '/'): Promise<RawEvent | undefined> {
    this.send(PROTOCOL_HEADER)
    if (!(await this.waitMethod('connection.start'))) return undefined
    this.method(0, {
      name: 'connection.start-ok',
      args: {
        clientProperties: { product: 'raw-test', capabilities: { consumer_cancel_notify: true, authentication_failure_close: true } },
        mechanism: 'PLAIN',
        response: Buffer.from(`\0${user}\0${password}`),
        locale: 'en_US',
      },
    })
    const tune = await this.waitFor((e) => e.method?.name === 'connection.tune' || e.method?.name === 'connection.close')
    if (tune?.method?.name !== 'connection.tune') return tune
    this.method(0, { name: 'connection.tune-ok', args: { channelMax: 2047, frameMax: 131072, heartbeat: 0 } })
    this.method(0, { name: 'connection.open', args: { virtualHost: vhost, capabilities: '', insist: false } })
    return this.waitFor((e) => e.method?.name === 'connection.open-ok' || e.method?.name === 'connection.close')
  }

  close(): void {
    this.socket.destroy()
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
}
