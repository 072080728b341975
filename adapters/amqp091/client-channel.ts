import type { ConsumeMessage, Message } from 'amqplib'
import type { Logger } from '../log/logger.js'
import { closeReasonFromError, type CloseReason } from '../rabbit/close-reason.js'
import { UpstreamChannel, type UpstreamChannelHandler } from '../rabbit/upstream-channel.js'
import type { UpstreamConnection } from '../rabbit/upstream-connection.js'
import { AmqpError, amqpError } from './amqp-error.js'
import { DeliveryTagMap } from './delivery-tags.js'
import type { FieldTable } from './field-table.js'
import { methodInfo, type AmqpMethod, type ArgsOf, type BasicProperties } from './methods.generated.js'
import { Publisher } from './publisher.js'
import { SerialQueue } from './serial-queue.js'
import { isServerNamed, type TopologyRecord } from './topology-record.js'

/** What a channel needs from the client connection that owns it. */
export interface ChannelOwner {
  readonly log: Logger
  readonly limits: ChannelLimits
  readonly topology: TopologyRecord
  readonly cancelNotify: boolean
  sendMethod(channel: number, m: AmqpMethod): void
  sendContent(channel: number, props: BasicProperties, body: Buffer): void
  /** The client's broker connection (one per client connection; re-acquired after a loss). */
  upstream(): Promise<UpstreamConnection>
  /** Re-declares the connection's recorded topology once per new broker connection. */
  replayTopology(on: UpstreamChannel): Promise<void>
  connectionError(err: AmqpError): void
  /** Stop or resume reading the client socket on behalf of this channel. */
  throttle(channel: number, paused: boolean): void
  /** Calls back once the client socket has room again (immediately when it has). */
  whenWritable(cb: () => void): void
  channelClosed(channel: number): void
}

export interface ChannelLimits {
  maxMessageBytes: number
  prefetchCap: number
  maxUnconfirmed: number
}

interface ConsumerRecord {
  tag: string
  queue: string
  noAck: boolean
  noLocal: boolean
  exclusive: boolean
  arguments: FieldTable
}

const EXCHANGE_TYPES = new Set(['direct', 'fanout', 'topic', 'headers'])

type State = 'open' | 'closing' | 'closed'

/**
 * One client channel and the broker channel behind it. Client methods run in order through a
 * serial queue; broker events (deliveries, returns, cancels, closes) are mapped back with the
 * client's own delivery tags and consumer tags.
 */
export class ClientChannel implements UpstreamChannelHandler {
  private state: State = 'open'
  private up: UpstreamChannel | null = null
  private opening: Promise<UpstreamChannel> | null = null
  private readonly steps: SerialQueue
  private readonly tags = new DeliveryTagMap()
  private readonly consumers = new Map<string, ConsumerRecord>()
  private qos: { count: number; global: boolean } | null = null
  /**
   * amqplib resolves consume() a microtask after the broker's consume-ok, but dispatches the
   * deliveries that follow it in the same read synchronously: hold them until the client has
   * its consume-ok, or it would see deliveries for a consumer tag it does not know yet.
   */
  private consumesInFlight = 0
  private held: ConsumeMessage[] = []
  readonly publisher: Publisher
  private readonly log: Logger

  constructor(
    readonly id: number,
    private readonly owner: ChannelOwner,
  ) {
    this.log = owner.log.child({ channel: id })
    this.steps = new SerialQueue((err) => this.fail(err))
    this.publisher = new Publisher(id, owner, (err) => this.fail(err))
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  // ---- client → cellgate -------------------------------------------------------------------

  handleMethod(m: AmqpMethod): void {
    if (this.state === 'closing') {
      // After sending channel.close a broker discards everything but close/close-ok (spec 4.2.4).
      if (m.name === 'channel.close-ok') this.finish()
      else if (m.name === 'channel.close') this.owner.sendMethod(this.id, { name: 'channel.close-ok', args: {} })
      return
    }
    switch (m.name) {
      case 'channel.close':
        return this.clientClose()
      case 'channel.flow':
        if (!m.args.active) throw amqpError(540, 'active=false', 20, 20)
        return this.reply({ name: 'channel.flow-ok', args: { active: true } })
      case 'channel.flow-ok':
        return
      case 'access.request':
        return this.reply({ name: 'access.request-ok', args: { ticket: 1 } })
      case 'confirm.select':
        this.publisher.enableConfirms()
        if (!m.args.nowait) this.reply({ name: 'confirm.select-ok', args: {} })
        return
      case 'basic.qos':
        return this.onQos(m.args)
      case 'basic.ack':
        return this.settle(m.args.deliveryTag, m.args.multiple, 80, (up, tag) => up.ack(tag, m.args.multiple))
      case 'basic.nack':
        return this.settle(m.args.deliveryTag, m.args.multiple, 120, (up, tag) =>
          up.nack(tag, m.args.multiple, m.args.requeue),
        )
      case 'basic.reject':
        return this.settle(m.args.deliveryTag, false, 90, (up, tag) => up.reject(tag, m.args.requeue))
      case 'basic.consume':
        return this.onConsume(m.args)
      case 'basic.cancel':
        return this.onCancel(m.args)
      case 'basic.get':
        return this.viaBroker(async (up) => this.onGet(up, m.args))
      case 'basic.recover':
        return this.viaBroker(async (up) => {
          await up.recover()
          this.reply({ name: 'basic.recover-ok', args: {} })
        })
      case 'basic.recover-async':
        return this.viaBroker(async (up) => void (await up.recover()))
      case 'exchange.declare':
        return this.onExchangeDeclare(m.args)
      case 'exchange.delete':
        return this.viaBroker(async (up) => {
          await up.deleteExchange(m.args.exchange, m.args.ifUnused)
          this.owner.topology.exchangeDeleted(m.args.exchange)
          if (!m.args.nowait) this.reply({ name: 'exchange.delete-ok', args: {} })
        })
      case 'exchange.bind':
        return this.viaBroker(async (up) => {
          await up.bindExchange(m.args.destination, m.args.source, m.args.routingKey, m.args.arguments)
          if (!m.args.nowait) this.reply({ name: 'exchange.bind-ok', args: {} })
        })
      case 'exchange.unbind':
        return this.viaBroker(async (up) => {
          await up.unbindExchange(m.args.destination, m.args.source, m.args.routingKey, m.args.arguments)
          if (!m.args.nowait) this.reply({ name: 'exchange.unbind-ok', args: {} })
        })
      case 'queue.declare':
        return this.onQueueDeclare(m.args)
      case 'queue.bind':
        return this.viaBroker(async (up) => {
          const b = { queue: m.args.queue, exchange: m.args.exchange, routingKey: m.args.routingKey, arguments: m.args.arguments }
          await up.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
          this.owner.topology.bound(b)
          if (!m.args.nowait) this.reply({ name: 'queue.bind-ok', args: {} })
        })
      case 'queue.unbind':
        return this.viaBroker(async (up) => {
          const b = { queue: m.args.queue, exchange: m.args.exchange, routingKey: m.args.routingKey, arguments: m.args.arguments }
          await up.unbindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
          this.owner.topology.unbound(b)
          this.reply({ name: 'queue.unbind-ok', args: {} })
        })
      case 'queue.purge':
        return this.viaBroker(async (up) => {
          const messageCount = await up.purgeQueue(m.args.queue)
          if (!m.args.nowait) this.reply({ name: 'queue.purge-ok', args: { messageCount } })
        })
      case 'queue.delete':
        return this.viaBroker(async (up) => {
          const messageCount = await up.deleteQueue(m.args.queue, m.args.ifUnused, m.args.ifEmpty)
          this.owner.topology.queueDeleted(m.args.queue)
          if (!m.args.nowait) this.reply({ name: 'queue.delete-ok', args: { messageCount } })
        })
      case 'tx.select':
      case 'tx.commit':
      case 'tx.rollback':
        throw amqpError(540, 'cellgate does not support transactions (tx.*)', methodInfo[m.name].classId, methodInfo[m.name].methodId)
      default: {
        // Server-to-client methods, or methods that arrive in the wrong place.
        const info = methodInfo[m.name]
        throw amqpError(503, `${m.name} is not accepted from a client`, info.classId, info.methodId)
      }
    }
  }

  /** A complete basic.publish (method, header and body) from the client. */
  handlePublish(args: ArgsOf<'basic.publish'>, props: BasicProperties, body: Buffer): void {
    if (this.state !== 'open') return
    if (args.immediate) throw amqpError(540, 'immediate=true', 60, 40)
    const seq = this.publisher.nextSeq()
    const up = this.up
    if (up !== null && up.isOpen && this.steps.idle) {
      this.publisher.publish(up, args, props, body, seq)
      return
    }
    this.steps.push(() => {
      if (this.state !== 'open') return
      if (this.up !== null && this.up.isOpen) return this.publisher.publish(this.up, args, props, body, seq)
      return this.broker().then((b) => this.publisher.publish(b, args, props, body, seq))
    })
  }

  /** The announced size of a message is checked before its body is read (RabbitMQ does the same). */
  checkBodySize(size: number): void {
    if (size > this.owner.limits.maxMessageBytes) {
      throw amqpError(406, `message size ${size} is larger than configured max size ${this.owner.limits.maxMessageBytes}`, 60, 40)
    }
  }

  // ---- broker → cellgate → client -----------------------------------------------------------

  deliver(msg: ConsumeMessage): void {
    if (this.state !== 'open') return
    if (this.consumesInFlight > 0) {
      this.held.push(msg)
      return
    }
    const consumer = this.consumers.get(msg.fields.consumerTag)
    const tag = this.tags.toClient(msg.fields.deliveryTag)
    this.owner.sendMethod(this.id, {
      name: 'basic.deliver',
      args: {
        consumerTag: msg.fields.consumerTag,
        deliveryTag: tag,
        redelivered: msg.fields.redelivered,
        exchange: msg.fields.exchange,
        routingKey: msg.fields.routingKey,
      },
    })
    this.owner.sendContent(this.id, propsOf(msg), msg.content)
    if (consumer?.noAck) this.ackWhenWritten(msg.fields.deliveryTag)
  }

  returned(msg: Message): void {
    if (this.state !== 'open') return
    const f = msg.fields as unknown as { replyCode: number; replyText: string; exchange: string; routingKey: string }
    this.owner.sendMethod(this.id, {
      name: 'basic.return',
      args: { replyCode: f.replyCode, replyText: f.replyText, exchange: f.exchange, routingKey: f.routingKey },
    })
    this.owner.sendContent(this.id, propsOf(msg), msg.content)
  }

  consumerCancelled(consumerTag: string): void {
    if (!this.consumers.delete(consumerTag) || this.state !== 'open') return
    this.log.info('broker cancelled a consumer', { consumer: consumerTag })
    if (this.owner.cancelNotify) {
      this.owner.sendMethod(this.id, { name: 'basic.cancel', args: { consumerTag, nowait: true } })
    }
  }

  closed(reason: CloseReason, connectionLost: boolean): void {
    this.up = null
    if (this.state !== 'open') return
    if (connectionLost) {
      // amqplib closes the channels before it emits the connection's 'close': recover once the
      // connection has been marked lost, or recover() would reuse the dead connection.
      queueMicrotask(() => {
        if (this.state === 'open') this.steps.pushFront(() => this.recover())
      })
      return
    }
    // A channel error from the broker (404 on publish, 406 on redeclare...): pass it on verbatim.
    this.serverClose(reason.code, reason.text, reason.classId, reason.methodId)
  }

  drain(): void {
    this.publisher.brokerDrained()
  }

  /** The client connection is gone: release the broker channel (consumers end, unacked requeue). */
  async dispose(): Promise<void> {
    await this.stopWork('closed')?.close()
  }

  /** Sends channel.close for an error found by cellgate or the broker, then waits for close-ok. */
  serverClose(code: number, text: string, classId: number, methodId: number): void {
    if (this.state !== 'open') return
    const up = this.stopWork('closing')
    this.owner.sendMethod(this.id, { name: 'channel.close', args: { replyCode: code, replyText: text, classId, methodId } })
    void up?.close()
    this.log.info('closed channel with error', { code, text })
  }

  // ---- internals ----------------------------------------------------------------------------

  private reply(m: AmqpMethod): void {
    if (this.state === 'open') this.owner.sendMethod(this.id, m)
  }

  /** Runs a step that needs the broker channel, in order with everything else on this channel. */
  private viaBroker(step: (up: UpstreamChannel) => Promise<void>): void {
    const attempt = async (): Promise<void> => {
      if (this.state !== 'open') return
      const up = await this.broker()
      try {
        await step(up)
      } catch (err) {
        // The broker connection died under the step (the client still waits for its reply):
        // do it again on the next broker channel, before anything queued after it.
        if (up.lostWithConnection && this.state === 'open') {
          this.steps.pushFront(attempt)
          return
        }
        throw err
      }
    }
    this.steps.push(attempt)
  }

  /** The broker channel, opened on first use so an idle client channel costs the broker nothing. */
  private broker(): Promise<UpstreamChannel> {
    if (this.up !== null && this.up.isOpen) return Promise.resolve(this.up)
    if (this.opening === null) {
      this.opening = this.openBroker().finally(() => {
        this.opening = null
      })
    }
    return this.opening
  }

  private async openBroker(): Promise<UpstreamChannel> {
    const conn = await this.owner.upstream()
    const up = await UpstreamChannel.open(conn, this, this.owner.limits.prefetchCap)
    if (this.state !== 'open') {
      await up.close()
      throw new ChannelGone()
    }
    if (this.qos !== null) await up.prefetch(this.qos.count, this.qos.global)
    this.tags.newGeneration()
    this.up = up
    return up
  }

  /**
   * The broker connection died under this channel: open a new one, re-declare what the client
   * declared, re-subscribe its consumers with their tags and re-send unconfirmed publishes.
   * Whatever cannot be restored is cancelled, which makes oslo re-subscribe from scratch.
   */
  private async recover(): Promise<void> {
    if (this.state !== 'open') return
    const up = await this.broker()
    try {
      await this.owner.replayTopology(up)
    } catch (err) {
      this.log.warn('could not re-declare topology after broker loss', { err: (err as Error).message })
    }
    for (const c of [...this.consumers.values()]) {
      if (isServerNamed(c.queue)) {
        // The broker named that queue and it died with the old connection: the client must
        // declare a new one, which a cancel makes it do.
        this.consumerCancelled(c.tag)
        continue
      }
      try {
        await up.consume(c.queue, { consumerTag: c.tag, noLocal: c.noLocal, exclusive: c.exclusive, arguments: c.arguments })
      } catch (err) {
        this.log.warn('consumer could not be restored; cancelling it', { consumer: c.tag, err: (err as Error).message })
        if (!up.isOpen) return // the failed consume closed the channel; its close handler recovers again
        this.consumerCancelled(c.tag)
      }
    }
    this.publisher.republish(up)
    this.log.info('channel recovered on a new broker connection', { consumers: this.consumers.size })
  }

  private onQos(a: ArgsOf<'basic.qos'>): void {
    if (a.prefetchSize !== 0) throw amqpError(540, `prefetch_size!=0 (${a.prefetchSize})`, 60, 10)
    const cap = this.owner.limits.prefetchCap
    const count = a.prefetchCount === 0 ? cap : Math.min(a.prefetchCount, cap)
    this.qos = { count, global: a.global }
    this.viaBroker(async (up) => {
      await up.prefetch(count, a.global)
      this.reply({ name: 'basic.qos-ok', args: {} })
    })
  }

  private settle(clientTag: number, multiple: boolean, methodId: number, act: (up: UpstreamChannel, tag: number) => void): void {
    const found = this.tags.toBroker(clientTag, multiple)
    if (found.kind === 'unknown') throw amqpError(406, `unknown delivery tag ${clientTag}`, 60, methodId)
    if (found.kind === 'stale') return // redelivered by the broker after a lost connection
    // The tag belongs to the broker channel the delivery came from: never apply it to another.
    const from = this.up
    this.steps.push(() => {
      if (from !== null && from === this.up && from.isOpen) act(from, found.brokerTag)
    })
  }

  private ackWhenWritten(brokerTag: number): void {
    const up = this.up
    this.owner.whenWritable(() => up?.ack(brokerTag, false))
  }

  private onConsume(a: ArgsOf<'basic.consume'>): void {
    if (a.consumerTag !== '' && this.consumers.has(a.consumerTag)) {
      throw amqpError(530, `attempt to reuse consumer tag '${a.consumerTag}'`, 60, 20)
    }
    this.viaBroker(async (up) => {
      const opts = { consumerTag: a.consumerTag, noLocal: a.noLocal, exclusive: a.exclusive, arguments: a.arguments }
      // Register before the broker answers: deliveries can follow consume-ok in the same read.
      const rec: ConsumerRecord = { tag: a.consumerTag, queue: a.queue, noAck: a.noAck, ...opts }
      if (rec.tag !== '') this.consumers.set(rec.tag, rec)
      this.consumesInFlight++
      try {
        rec.tag = await up.consume(a.queue, opts)
      } catch (err) {
        this.consumers.delete(rec.tag)
        throw err
      } finally {
        this.consumesInFlight--
      }
      this.consumers.set(rec.tag, rec)
      if (!a.nowait) this.reply({ name: 'basic.consume-ok', args: { consumerTag: rec.tag } })
      this.releaseHeld()
    })
  }

  private releaseHeld(): void {
    if (this.consumesInFlight > 0 || this.held.length === 0) return
    const held = this.held
    this.held = []
    for (const m of held) this.deliver(m)
  }

  private onCancel(a: ArgsOf<'basic.cancel'>): void {
    this.steps.push(async () => {
      if (this.consumers.delete(a.consumerTag) && this.up !== null && this.up.isOpen) await this.up.cancel(a.consumerTag)
      if (!a.nowait) this.reply({ name: 'basic.cancel-ok', args: { consumerTag: a.consumerTag } })
    })
  }

  private async onGet(up: UpstreamChannel, a: ArgsOf<'basic.get'>): Promise<void> {
    const msg = await up.get(a.queue)
    if (msg === false) return this.reply({ name: 'basic.get-empty', args: { clusterId: '' } })
    this.reply({
      name: 'basic.get-ok',
      args: {
        deliveryTag: this.tags.toClient(msg.fields.deliveryTag),
        redelivered: msg.fields.redelivered,
        exchange: msg.fields.exchange,
        routingKey: msg.fields.routingKey,
        messageCount: msg.fields.messageCount,
      },
    })
    this.owner.sendContent(this.id, propsOf(msg), msg.content)
    if (a.noAck) this.ackWhenWritten(msg.fields.deliveryTag)
  }

  private onExchangeDeclare(a: ArgsOf<'exchange.declare'>): void {
    // Hard errors close the whole broker connection, which other clients share: catch them here.
    if (!a.passive && !EXCHANGE_TYPES.has(a.type)) throw amqpError(503, `invalid exchange type '${a.type}'`, 40, 10)
    this.viaBroker(async (up) => {
      if (a.passive) {
        await up.checkExchange(a.exchange)
      } else {
        const decl = { name: a.exchange, type: a.type, durable: a.durable, autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments }
        await up.assertExchange(a.exchange, a.type, decl)
        this.owner.topology.exchangeDeclared(decl)
      }
      if (!a.nowait) this.reply({ name: 'exchange.declare-ok', args: {} })
    })
  }

  private onQueueDeclare(a: ArgsOf<'queue.declare'>): void {
    this.viaBroker(async (up) => {
      const ok = a.passive
        ? await up.checkQueue(a.queue)
        : await up.assertQueue(a.queue, { durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments })
      if (!a.passive) {
        this.owner.topology.queueDeclared({ name: ok.queue, durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments })
      }
      if (!a.nowait) this.reply({ name: 'queue.declare-ok', args: ok })
    })
  }

  private clientClose(): void {
    const up = this.stopWork('closing')
    const done = (): void => {
      this.owner.sendMethod(this.id, { name: 'channel.close-ok', args: {} })
      this.finish()
    }
    if (up === null) done()
    else void up.close().then(done)
  }

  /** Stops all work of the channel and hands back its broker channel for the caller to close. */
  private stopWork(next: 'closing' | 'closed'): UpstreamChannel | null {
    this.state = next
    this.steps.clear()
    this.publisher.dispose()
    const up = this.up
    this.up = null
    return up
  }

  private finish(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.owner.channelClosed(this.id)
  }

  /** Errors from a step: broker rejections become channel.close with the broker's code; ours as built. */
  private fail(err: unknown): void {
    if (err instanceof ChannelGone) return
    if (err instanceof AmqpError) {
      if (err.closesConnection) this.owner.connectionError(err)
      else this.serverClose(err.code, err.text, err.classId, err.methodId)
      return
    }
    const e = err as { code?: unknown; message?: string }
    if (typeof e.code === 'number') {
      // amqplib rejected the RPC because the broker closed the channel; closed() reports the
      // same reason, so close here only once with the broker's text.
      const reason = closeReasonFromError(err)
      this.serverClose(reason.code, reason.text, reason.classId, reason.methodId)
      return
    }
    this.log.error('[BUG] unexpected error in channel step', { err: e.message ?? String(err) })
    this.serverClose(541, `INTERNAL_ERROR - ${e.message ?? 'unexpected error'}`, 0, 0)
  }
}

class ChannelGone extends Error {}

/** amqplib hands every property key over, absent ones as undefined; the encoder skips those. */
function propsOf(msg: Message): BasicProperties {
  return msg.properties as unknown as BasicProperties
}
