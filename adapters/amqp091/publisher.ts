import type { UpstreamChannel } from '../rabbit/upstream-channel.js'
import type { ChannelOwner } from './client-channel.js'
import type { ArgsOf, BasicProperties } from './methods.generated.js'
import type { PublishObservation } from './observer-port.js'

/** One copy of a message on one cell's broker channel. */
interface LegSend {
  readonly cell: string
  /** Which broker channel generation of that cell it was sent on; confirms of older ones are void. */
  generation: number
  settled: boolean
}

interface InFlight {
  readonly args: ArgsOf<'basic.publish'>
  readonly props: BasicProperties
  readonly body: Buffer
  /** The content header as the client sent it, when `props` are exactly what it says: sent on as is. */
  readonly header: Buffer | undefined
  /** The client's confirm sequence number, 0 when the client is not in confirm mode. */
  readonly seq: number
  readonly legs: LegSend[]
  /** What measures this message, if anything. */
  readonly obs: PublishObservation | undefined
  unsettledLegs: number
  returned: boolean
  nacked: boolean
  settled: boolean
}

/**
 * The publishing half of a client channel. Every publish is confirmed by the broker (cellgate
 * always uses confirm mode upstream) and kept until then, so that:
 * - a client in confirm mode gets its ack/nack only once every cell it went to took
 *   responsibility, after any basic.return for the same message (a broker sends return before
 *   ack on the same channel; a one-cell publish keeps that order by construction);
 * - after a lost broker connection, unconfirmed messages are re-sent to that cell, not lost;
 * - memory is bounded: past `maxUnconfirmed` messages, or while a broker socket is backed up,
 *   the client socket is paused until confirms arrive or the socket drains.
 * A message sent to several cells (a fanout) goes without `mandatory`: "no queue in this cell"
 * is the normal case there, and one cell's return is not the message's fate.
 */
export class Publisher {
  private readonly inflight: InFlight[] = []
  private confirmMode = false
  private seq = 0
  private readonly generations = new Map<string, number>()
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

  publish(ups: readonly UpstreamChannel[], args: ArgsOf<'basic.publish'>, props: BasicProperties, body: Buffer, seq: number, obs?: PublishObservation, header?: Buffer): void {
    const legs = ups.map((up): LegSend => ({ cell: up.connection.cell, generation: this.generation(up.connection.cell), settled: false }))
    const m: InFlight = { args, props, body, header, seq, legs, obs, unsettledLegs: legs.length, returned: false, nacked: false, settled: false }
    this.inflight.push(m)
    for (let i = 0; i < ups.length; i++) this.send(ups[i]!, m, legs[i]!)
  }

  /** A message no cell can take: the client hears a nack (in confirm mode), nothing is kept. */
  refuse(seq: number): void {
    if (seq > 0 && !this.disposed) this.owner.sendMethod(this.channel, { name: 'basic.nack', args: { deliveryTag: seq, multiple: false, requeue: false } })
  }

  /**
   * A basic.return from `cell`: it belongs to the oldest unsettled mandatory publish sent there
   * and not yet returned (a broker returns before it confirms, in publish order).
   */
  returnedOn(cell: string, replyCode: number): void {
    for (const m of this.inflight) {
      if (m.settled || m.returned || !m.args.mandatory || m.legs.length !== 1 || m.legs[0]!.cell !== cell || m.legs[0]!.settled) continue
      m.returned = true
      m.obs?.returned(replyCode)
      return
    }
  }

  /** Re-sends what `cell` has not confirmed on its fresh broker channel, in the original order. */
  republish(up: UpstreamChannel): void {
    const cell = up.connection.cell
    const generation = this.generation(cell) + 1
    this.generations.set(cell, generation)
    for (const m of this.inflight) {
      if (m.settled) continue
      for (const leg of m.legs) {
        if (leg.cell !== cell || leg.settled) continue
        leg.generation = generation
        this.send(up, m, leg)
      }
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

  private generation(cell: string): number {
    return this.generations.get(cell) ?? 0
  }

  private send(up: UpstreamChannel, m: InFlight, leg: LegSend): void {
    const mandatory = m.args.mandatory && m.legs.length === 1
    let room: boolean
    try {
      room = up.publish(m.args.exchange, m.args.routingKey, m.body, m.header ?? m.props, mandatory, (nacked) => this.confirmed(m, leg, nacked))
    } catch (err) {
      // amqplib throws when the channel closed between our check and the call; recovery re-sends.
      if (!up.isOpen) return
      this.fail(err)
      return
    }
    m.obs?.sentUpstream(leg.cell)
    if (!room) this.waitingForDrain = true
    this.updateThrottle()
  }

  private confirmed(m: InFlight, leg: LegSend, nacked: boolean): void {
    if (this.disposed || leg.settled || leg.generation !== this.generation(leg.cell)) return
    leg.settled = true
    if (nacked) m.nacked = true
    if (--m.unsettledLegs > 0) return
    m.settled = true
    m.obs?.settled(m.nacked)
    while (this.inflight.length > 0 && this.inflight[0]!.settled) this.inflight.shift()
    if (m.seq > 0) {
      this.owner.sendMethod(this.channel, m.nacked
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
