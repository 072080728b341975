import type { UpstreamChannel } from '../rabbit/upstream-channel.js'
import type { ChannelOwner } from './client-channel.js'
import type { ArgsOf, BasicProperties } from './methods.generated.js'

interface InFlight {
  args: ArgsOf<'basic.publish'>
  props: BasicProperties
  body: Buffer
  /** The client's confirm sequence number, 0 when the client is not in confirm mode. */
  seq: number
  /** Which broker channel generation it was sent on; confirms of older generations are void. */
  generation: number
  settled: boolean
}

/**
 * The publishing half of a client channel. Every publish is confirmed by the broker (cellgate
 * always uses confirm mode upstream) and kept until then, so that:
 * - a client in confirm mode gets its ack/nack only once the broker took responsibility, after
 *   any basic.return for the same message (the broker sends return before ack; order is kept);
 * - after a lost broker connection, unconfirmed messages are re-sent rather than lost;
 * - memory is bounded: past `maxUnconfirmed` messages, or while the broker socket is backed up,
 *   the client socket is paused until confirms arrive or the socket drains.
 */
export class Publisher {
  private readonly inflight: InFlight[] = []
  private confirmMode = false
  private seq = 0
  private generation = 0
  private waitingForDrain = false
  private throttled = false
  private disposed = false

  constructor(
    private readonly channel: number,
    private readonly owner: ChannelOwner,
    private readonly fail: (err: unknown) => void,
  ) {}

  enableConfirms(): void {
    this.confirmMode = true
  }

  /** Sequence numbers are assigned on arrival, as the client counts them, not when sent upstream. */
  nextSeq(): number {
    return this.confirmMode ? ++this.seq : 0
  }

  publish(up: UpstreamChannel, args: ArgsOf<'basic.publish'>, props: BasicProperties, body: Buffer, seq: number): void {
    const m: InFlight = { args, props, body, seq, generation: this.generation, settled: false }
    this.inflight.push(m)
    this.send(up, m)
  }

  /** Re-sends everything unconfirmed on a fresh broker channel, in the original order. */
  republish(up: UpstreamChannel): void {
    this.generation++
    const pending = this.inflight.filter((m) => !m.settled)
    this.inflight.length = 0
    for (const m of pending) {
      m.generation = this.generation
      this.inflight.push(m)
      this.send(up, m)
    }
  }

  brokerDrained(): void {
    this.waitingForDrain = false
    this.updateThrottle()
  }

  dispose(): void {
    this.disposed = true
    this.inflight.length = 0
    if (this.throttled) {
      this.throttled = false
      this.owner.throttle(this.channel, false)
    }
  }

  private send(up: UpstreamChannel, m: InFlight): void {
    let room: boolean
    try {
      room = up.publish(m.args.exchange, m.args.routingKey, m.body, m.props, m.args.mandatory, (nacked) =>
        this.confirmed(m, nacked),
      )
    } catch (err) {
      // amqplib throws when the channel closed between our check and the call; recovery re-sends.
      if (!up.isOpen) return
      this.fail(err)
      return
    }
    if (!room) this.waitingForDrain = true
    this.updateThrottle()
  }

  private confirmed(m: InFlight, nacked: boolean): void {
    if (this.disposed || m.generation !== this.generation || m.settled) return
    m.settled = true
    while (this.inflight.length > 0 && this.inflight[0]!.settled) this.inflight.shift()
    if (m.seq > 0) {
      this.owner.sendMethod(this.channel, nacked
        ? { name: 'basic.nack', args: { deliveryTag: m.seq, multiple: false, requeue: false } }
        : { name: 'basic.ack', args: { deliveryTag: m.seq, multiple: false } })
    }
    this.updateThrottle()
  }

  private updateThrottle(): void {
    const max = this.owner.limits.maxUnconfirmed
    const unconfirmed = this.inflight.length
    // Hysteresis: pause at the limit, resume at half, so a busy publisher does not flap.
    const over = this.waitingForDrain || unconfirmed >= max || (this.throttled && unconfirmed > max / 2)
    if (over !== this.throttled && !this.disposed) {
      this.throttled = over
      this.owner.throttle(this.channel, over)
    }
  }
}
