import type { FieldTable } from '../../amqp091/field-table.js'
import { encodeContent, encodeRawContent } from '../../amqp091/frame-writer.js'
import {
  decodeContentHeader,
  decodeMethod,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  type AmqpMethod,
  type ArgsOf,
  type BasicProperties,
  type MethodName,
} from '../../amqp091/methods.generated.js'
import type { CloseReason } from '../close-reason.js'
import { BrokerError, ChannelEndedError } from './broker-error.js'

/** A message from the broker: its method's arguments, properties, body, and the header frame as received. */
export interface BrokerMessage<F> {
  fields: F
  properties: BasicProperties
  content: Buffer
  /** The content header frame's payload, byte for byte, to pass on without re-encoding. */
  header: Buffer
}
export type BrokerDelivery = BrokerMessage<ArgsOf<'basic.deliver'>>
export type BrokerReturn = BrokerMessage<ArgsOf<'basic.return'>>
export type BrokerGetMessage = BrokerMessage<ArgsOf<'basic.get-ok'>>

/** What the owner of a broker channel hears from it. */
export interface BrokerChannelHandler {
  deliver(msg: BrokerDelivery): void
  returned(msg: BrokerReturn): void
  /** The broker cancelled a consumer (its queue was deleted, a node went...). */
  consumerCancelled(consumerTag: string): void
  /** The channel ended without cellgate closing it: the broker's channel.close, or the connection went (connectionLost). */
  closed(reason: CloseReason, connectionLost: boolean): void
  /** The socket drained after a publish found it backed up. */
  drain(): void
}

/** For short-lived channels (declarations, moves) whose owner only awaits results. */
export const IGNORING_HANDLER: BrokerChannelHandler = {
  deliver: () => {},
  returned: () => {},
  consumerCancelled: () => {},
  closed: () => {},
  drain: () => {},
}

/** What a channel needs from its connection. */
export interface ChannelWire {
  readonly frameMax: number
  send(channel: number, m: AmqpMethod): void
  /** Returns false when the socket is backed up. */
  write(frame: Buffer): boolean
  channelEnded(id: number): void
}

export interface QueueOk {
  queue: string
  messageCount: number
  consumerCount: number
}

interface Pending {
  reply: MethodName
  /** basic.get may also be answered by get-empty. */
  orElse?: MethodName
  resolve(value: unknown): void
  reject(err: Error): void
}

interface Incoming {
  kind: 'deliver' | 'return' | 'get'
  args: ArgsOf<'basic.deliver'> | ArgsOf<'basic.return'> | ArgsOf<'basic.get-ok'>
  header: Buffer | null
  properties: BasicProperties | null
  bodySize: number
  body: Buffer | null
  filled: number
}

type State = 'opening' | 'open' | 'closing' | 'closed'

const EMPTY = Buffer.alloc(0)

/**
 * One channel on a broker connection, always in confirm mode. Synchronous methods are pipelined:
 * the broker answers them in order, so each request waits in a FIFO for its reply.
 */
export class BrokerChannel {
  private state: State = 'opening'
  private readonly pending: Pending[] = []
  private incoming: Incoming | null = null
  private nextSeq = 1
  /** Confirm callbacks by publish sequence number, in publish order (a Map keeps insertion order). */
  private readonly unconfirmed = new Map<number, (nacked: boolean) => void>()
  private waitingForDrain = false

  constructor(
    readonly id: number,
    private readonly wire: ChannelWire,
    private handler: BrokerChannelHandler,
  ) {}

  get isOpen(): boolean {
    return this.state === 'open'
  }

  setHandler(handler: BrokerChannelHandler): void {
    this.handler = handler
  }

  /**
   * channel.open, confirm.select and, if given, basic.qos, sent together: the broker handles a
   * channel's frames in order, so one round trip opens a ready channel (a fleet reconnecting
   * opens hundreds of them at once).
   */
  async open(prefetch?: { count: number; global: boolean }): Promise<void> {
    const steps: Array<Promise<unknown>> = [
      this.call({ name: 'channel.open', args: { outOfBand: '' } }, 'channel.open-ok'),
      this.call({ name: 'confirm.select', args: { nowait: false } }, 'confirm.select-ok'),
    ]
    if (prefetch !== undefined) steps.push(this.call({ name: 'basic.qos', args: { prefetchSize: 0, prefetchCount: prefetch.count, global: prefetch.global } }, 'basic.qos-ok'))
    await Promise.all(steps)
    if (this.state === 'opening') this.state = 'open'
  }

  // ---- publishing ---------------------------------------------------------------------------

  /**
   * `props` is either the properties or a content header payload already encoded (passed on as
   * it is). Returns false when the socket is backed up: wait for the handler's drain().
   */
  publish(exchange: string, routingKey: string, body: Buffer, props: BasicProperties | Buffer, mandatory: boolean, confirmed: (nacked: boolean) => void): boolean {
    if (this.state !== 'open') throw new ChannelEndedError('publish on a closed broker channel')
    this.unconfirmed.set(this.nextSeq++, confirmed)
    this.wire.send(this.id, { name: 'basic.publish', args: { ticket: 0, exchange, routingKey, mandatory, immediate: false } })
    let room = true
    const frames = Buffer.isBuffer(props) ? encodeRawContent(this.id, props, body, this.wire.frameMax) : encodeContent(this.id, 60, props, body, this.wire.frameMax)
    for (const frame of frames) room = this.wire.write(frame)
    if (!room) this.waitingForDrain = true
    return room
  }

  drained(): void {
    if (!this.waitingForDrain) return
    this.waitingForDrain = false
    this.handler.drain()
  }

  // ---- settling deliveries ------------------------------------------------------------------

  ack(deliveryTag: number, multiple: boolean): void {
    if (this.state === 'open') this.wire.send(this.id, { name: 'basic.ack', args: { deliveryTag, multiple } })
  }

  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void {
    if (this.state === 'open') this.wire.send(this.id, { name: 'basic.nack', args: { deliveryTag, multiple, requeue } })
  }

  reject(deliveryTag: number, requeue: boolean): void {
    if (this.state === 'open') this.wire.send(this.id, { name: 'basic.reject', args: { deliveryTag, requeue } })
  }

  // ---- synchronous methods ------------------------------------------------------------------

  async assertExchange(name: string, type: string, o: { durable: boolean; autoDelete: boolean; internal: boolean; arguments: FieldTable }): Promise<void> {
    await this.call({ name: 'exchange.declare', args: { ticket: 0, exchange: name, type, passive: false, durable: o.durable, autoDelete: o.autoDelete, internal: o.internal, nowait: false, arguments: o.arguments } }, 'exchange.declare-ok')
  }

  async checkExchange(name: string): Promise<void> {
    await this.call({ name: 'exchange.declare', args: { ticket: 0, exchange: name, type: '', passive: true, durable: false, autoDelete: false, internal: false, nowait: false, arguments: {} } }, 'exchange.declare-ok')
  }

  async deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    await this.call({ name: 'exchange.delete', args: { ticket: 0, exchange: name, ifUnused, nowait: false } }, 'exchange.delete-ok')
  }

  async bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<void> {
    await this.call({ name: 'exchange.bind', args: { ticket: 0, destination, source, routingKey, nowait: false, arguments: args } }, 'exchange.bind-ok')
  }

  async unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<void> {
    await this.call({ name: 'exchange.unbind', args: { ticket: 0, destination, source, routingKey, nowait: false, arguments: args } }, 'exchange.unbind-ok')
  }

  assertQueue(name: string, o: { durable: boolean; exclusive: boolean; autoDelete: boolean; arguments: FieldTable }): Promise<QueueOk> {
    return this.call({ name: 'queue.declare', args: { ticket: 0, queue: name, passive: false, durable: o.durable, exclusive: o.exclusive, autoDelete: o.autoDelete, nowait: false, arguments: o.arguments } }, 'queue.declare-ok')
  }

  checkQueue(name: string): Promise<QueueOk> {
    return this.call({ name: 'queue.declare', args: { ticket: 0, queue: name, passive: true, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} } }, 'queue.declare-ok')
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<void> {
    await this.call({ name: 'queue.bind', args: { ticket: 0, queue, exchange, routingKey, nowait: false, arguments: args } }, 'queue.bind-ok')
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<void> {
    await this.call({ name: 'queue.unbind', args: { ticket: 0, queue, exchange, routingKey, arguments: args } }, 'queue.unbind-ok')
  }

  async purgeQueue(queue: string): Promise<number> {
    return (await this.call({ name: 'queue.purge', args: { ticket: 0, queue, nowait: false } }, 'queue.purge-ok')).messageCount
  }

  async deleteQueue(queue: string, ifUnused = false, ifEmpty = false): Promise<number> {
    return (await this.call({ name: 'queue.delete', args: { ticket: 0, queue, ifUnused, ifEmpty, nowait: false } }, 'queue.delete-ok')).messageCount
  }

  async prefetch(count: number, global: boolean): Promise<void> {
    await this.call({ name: 'basic.qos', args: { prefetchSize: 0, prefetchCount: count, global } }, 'basic.qos-ok')
  }

  /** Consumes with acks (cellgate settles every delivery itself); deliveries go to the handler. */
  async consume(queue: string, o: { consumerTag: string; noLocal: boolean; exclusive: boolean; arguments: FieldTable }): Promise<string> {
    const ok = await this.call({ name: 'basic.consume', args: { ticket: 0, queue, consumerTag: o.consumerTag, noLocal: o.noLocal, noAck: false, exclusive: o.exclusive, nowait: false, arguments: o.arguments } }, 'basic.consume-ok')
    return ok.consumerTag
  }

  async cancel(consumerTag: string): Promise<void> {
    await this.call({ name: 'basic.cancel', args: { consumerTag, nowait: false } }, 'basic.cancel-ok')
  }

  /** One message with acks, or null when the queue is empty. */
  get(queue: string): Promise<BrokerGetMessage | null> {
    return this.request<BrokerGetMessage | null>({ name: 'basic.get', args: { ticket: 0, queue, noAck: false } }, 'basic.get-ok', 'basic.get-empty')
  }

  async recover(): Promise<void> {
    await this.call({ name: 'basic.recover', args: { requeue: true } }, 'basic.recover-ok')
  }

  /** channel.close and its close-ok; unacked deliveries return to their queues. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return
    this.state = 'closing'
    const done = this.request<void>({ name: 'channel.close', args: { replyCode: 200, replyText: 'cellgate closing', classId: 0, methodId: 0 } }, 'channel.close-ok')
    try {
      await done
    } catch {
      // The broker or the connection ended the channel first: it is closed either way.
    }
    this.finish()
  }

  // ---- frames from the broker ----------------------------------------------------------------

  onFrame(type: number, payload: Buffer): void {
    if (type === FRAME_METHOD) return this.onMethod(decodeMethod(payload))
    if (type === FRAME_HEADER) return this.onHeader(payload)
    if (type === FRAME_BODY) return this.onBody(payload)
    throw new Error(`frame type ${type}`)
  }

  /** The connection ended: pending requests fail; unless cellgate was closing this channel, its owner is told. */
  connectionEnded(reason: CloseReason): void {
    if (this.state === 'closed') return
    const byUs = this.state === 'closing'
    this.state = 'closed'
    this.failPending(new ChannelEndedError('broker connection closed, no reply will come'))
    this.unconfirmed.clear()
    if (!byUs) this.handler.closed(reason, true)
  }

  private onMethod(m: AmqpMethod): void {
    if (this.incoming !== null) throw new Error(`${m.name} while a message's content was expected`)
    switch (m.name) {
      case 'basic.deliver':
      case 'basic.return':
      case 'basic.get-ok':
        this.incoming = { kind: m.name === 'basic.deliver' ? 'deliver' : m.name === 'basic.return' ? 'return' : 'get', args: m.args, header: null, properties: null, bodySize: 0, body: null, filled: 0 }
        return
      case 'basic.ack':
        return this.confirm(m.args.deliveryTag, m.args.multiple, false)
      case 'basic.nack':
        return this.confirm(m.args.deliveryTag, m.args.multiple, true)
      case 'basic.cancel':
        // RabbitMQ's consumer cancel notification (nowait): no cancel-ok is expected.
        return this.handler.consumerCancelled(m.args.consumerTag)
      case 'channel.flow':
        return this.wire.send(this.id, { name: 'channel.flow-ok', args: { active: m.args.active } })
      case 'channel.close':
        return this.closedByBroker({ code: m.args.replyCode, text: m.args.replyText, classId: m.args.classId, methodId: m.args.methodId })
      default:
        return this.answer(m.name, m.args)
    }
  }

  private onHeader(payload: Buffer): void {
    const inc = this.incoming
    if (inc === null || inc.header !== null) throw new Error('content header without a method')
    const h = decodeContentHeader(payload)
    inc.header = payload
    inc.properties = h.properties
    inc.bodySize = h.bodySize
    if (h.bodySize === 0) this.complete(inc, EMPTY)
  }

  private onBody(payload: Buffer): void {
    const inc = this.incoming
    if (inc === null || inc.header === null) throw new Error('content body without a header')
    if (inc.filled === 0 && payload.length === inc.bodySize) {
      // The usual case, one body frame: the parser's view is ours to keep, no copy.
      return this.complete(inc, payload)
    }
    if (inc.filled + payload.length > inc.bodySize) throw new Error('content body larger than announced')
    inc.body ??= Buffer.allocUnsafe(inc.bodySize)
    payload.copy(inc.body, inc.filled)
    inc.filled += payload.length
    if (inc.filled === inc.bodySize) this.complete(inc, inc.body)
  }

  private complete(inc: Incoming, content: Buffer): void {
    this.incoming = null
    if (this.state !== 'open' && inc.kind !== 'get') return
    const msg = { fields: inc.args, properties: inc.properties!, content, header: inc.header! }
    if (inc.kind === 'deliver') this.handler.deliver(msg as BrokerDelivery)
    else if (inc.kind === 'return') this.handler.returned(msg as BrokerReturn)
    else this.answer('basic.get-ok', msg)
  }

  private confirm(tag: number, multiple: boolean, nacked: boolean): void {
    if (!multiple) {
      const cb = this.unconfirmed.get(tag)
      if (cb === undefined) return
      this.unconfirmed.delete(tag)
      return cb(nacked)
    }
    for (const [seq, cb] of this.unconfirmed) {
      if (seq > tag) break
      this.unconfirmed.delete(seq)
      cb(nacked)
    }
  }

  private closedByBroker(reason: CloseReason): void {
    this.wire.send(this.id, { name: 'channel.close-ok', args: {} })
    const byUs = this.state === 'closing'
    this.state = 'closed'
    this.failPending(new BrokerError(reason))
    this.unconfirmed.clear()
    this.wire.channelEnded(this.id)
    if (!byUs) this.handler.closed(reason, false)
  }

  private finish(): void {
    if (this.state !== 'closed') this.state = 'closed'
    this.failPending(new ChannelEndedError('broker channel closed, no reply will come'))
    this.unconfirmed.clear()
    this.wire.channelEnded(this.id)
  }

  // ---- request/reply --------------------------------------------------------------------------

  private call<R extends MethodName>(m: AmqpMethod, reply: R): Promise<ArgsOf<R>> {
    return this.request<ArgsOf<R>>(m, reply)
  }

  private request<T>(m: AmqpMethod, reply: MethodName, orElse?: MethodName): Promise<T> {
    if (this.state === 'closed' || (this.state === 'closing' && m.name !== 'channel.close')) {
      return Promise.reject(new ChannelEndedError('broker channel closed, no reply will come'))
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ reply, orElse, resolve: resolve as (v: unknown) => void, reject })
      this.wire.send(this.id, m)
    })
  }

  private answer(name: MethodName, value: unknown): void {
    const head = this.pending[0]
    if (head === undefined || (head.reply !== name && head.orElse !== name)) {
      throw new Error(`unexpected ${name} (waiting for ${head?.reply ?? 'nothing'})`)
    }
    this.pending.shift()
    head.resolve(name === 'basic.get-empty' ? null : value)
  }

  private failPending(err: Error): void {
    const waiting = this.pending.splice(0)
    for (const p of waiting) p.reject(err)
  }
}
