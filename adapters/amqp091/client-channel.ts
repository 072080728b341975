import { randomBytes } from 'node:crypto'
import type { Logger } from '../log/logger.js'
import { PoolClosedError } from '../rabbit/cell-pool.js'
import type { CloseReason } from '../rabbit/close-reason.js'
import { UpstreamChannel, type UpstreamChannelHandler } from '../rabbit/upstream-channel.js'
import type { BrokerDelivery, BrokerReturn } from '../rabbit/wire/broker-channel.js'
import { BrokerError, ChannelEndedError } from '../rabbit/wire/broker-error.js'
import type { UpstreamConnection } from '../rabbit/upstream-connection.js'
import { AmqpError, amqpError } from './amqp-error.js'
import { DeliveryTags } from './delivery-tags.js'
import type { FieldTable } from './field-table.js'
import { methodInfo, type AmqpMethod, type ArgsOf, type BasicProperties } from './methods.generated.js'
import { Publisher } from './publisher.js'
import type { MessageObserver, PublishOutcome } from './observer-port.js'
import type { ConnectionRouting } from './routing-port.js'
import { SerialQueue } from './serial-queue.js'
import { isServerNamed, type TopologyRecord } from './topology-record.js'

/** What a channel needs from the client connection that owns it. */
export interface ChannelOwner {
  readonly log: Logger
  readonly limits: ChannelLimits
  readonly topology: TopologyRecord
  readonly cancelNotify: boolean
  /** Where this connection's queues and messages go (the router behind a port). */
  readonly routing: ConnectionRouting
  /** Who measures messages (metrics, traces); records nothing by default. */
  readonly observer: MessageObserver
  readonly id: string
  readonly vhost: string
  sendMethod(channel: number, m: AmqpMethod): void
  sendContent(channel: number, props: BasicProperties, body: Buffer): void
  /** Content whose header frame payload came from the broker as it is: passed on without re-encoding. */
  sendRawContent(channel: number, header: Buffer, body: Buffer): void
  /** The client's broker connection to `cell` (one per client connection and cell; re-acquired after a loss). */
  upstream(cell: string): Promise<UpstreamConnection>
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
  /** The cells the queue lives on: one broker consumer per cell, all with the client's tag. */
  cells: readonly string[]
  noAck: boolean
  noLocal: boolean
  exclusive: boolean
  arguments: FieldTable
}

const EXCHANGE_TYPES = new Set(['direct', 'fanout', 'topic', 'headers'])

type State = 'open' | 'closing' | 'closed'

/**
 * One client channel and the broker channels behind it: one per cell the channel's work touches
 * (usually one), opened on first use. Client methods run in order through a serial queue; broker
 * events (deliveries, returns, cancels, closes) are mapped back with the client's own delivery
 * tags and consumer tags, whichever cell they come from.
 */
export class ClientChannel implements UpstreamChannelHandler {
  private state: State = 'open'
  private readonly legs = new Map<string, UpstreamChannel>()
  private readonly opening = new Map<string, Promise<UpstreamChannel>>()
  private readonly steps: SerialQueue
  private readonly tags = new DeliveryTags<UpstreamChannel>()
  private readonly consumers = new Map<string, ConsumerRecord>()
  private qos: { count: number; global: boolean } | null = null
  /**
   * consume() resolves a microtask after the broker's consume-ok, but the deliveries that follow
   * it in the same read are dispatched synchronously: hold them until the client has
   * its consume-ok, or it would see deliveries for a consumer tag it does not know yet.
   */
  private consumesInFlight = 0
  private held: Array<[UpstreamChannel, BrokerDelivery]> = []
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

  private get home(): string {
    return this.owner.routing.homeCell
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
        return this.settle(m.args.deliveryTag, m.args.multiple, 80, (up, tag, multiple) => up.ack(tag, multiple))
      case 'basic.nack':
        return this.settle(m.args.deliveryTag, m.args.multiple, 120, (up, tag, multiple) => up.nack(tag, multiple, m.args.requeue))
      case 'basic.reject':
        return this.settle(m.args.deliveryTag, false, 90, (up, tag) => up.reject(tag, m.args.requeue))
      case 'basic.consume':
        return this.onConsume(m.args)
      case 'basic.cancel':
        return this.onCancel(m.args)
      case 'basic.get':
        return this.viaBroker(async () => (await this.cellsFor(m.args.queue)).slice(0, 1), async ([up]) => this.onGet(up!, m.args))
      case 'basic.recover':
        return this.viaBroker(this.openCells(), async (ups) => {
          for (const up of ups) await up.recover()
          this.reply({ name: 'basic.recover-ok', args: {} })
        })
      case 'basic.recover-async':
        return this.viaBroker(this.openCells(), async (ups) => {
          for (const up of ups) await up.recover()
        })
      case 'exchange.declare':
        return this.onExchangeDeclare(m.args)
      case 'exchange.delete':
        return this.viaBroker([this.home], async ([up]) => {
          await up!.deleteExchange(m.args.exchange, m.args.ifUnused)
          up!.knownExchanges.delete(m.args.exchange)
          this.owner.topology.exchangeDeleted(m.args.exchange)
          if (!m.args.nowait) this.reply({ name: 'exchange.delete-ok', args: {} })
        })
      case 'exchange.bind':
        return this.viaBroker([this.home], async ([up]) => {
          await up!.bindExchange(m.args.destination, m.args.source, m.args.routingKey, m.args.arguments)
          if (!m.args.nowait) this.reply({ name: 'exchange.bind-ok', args: {} })
        })
      case 'exchange.unbind':
        return this.viaBroker([this.home], async ([up]) => {
          await up!.unbindExchange(m.args.destination, m.args.source, m.args.routingKey, m.args.arguments)
          if (!m.args.nowait) this.reply({ name: 'exchange.unbind-ok', args: {} })
        })
      case 'queue.declare':
        return this.onQueueDeclare(m.args)
      case 'queue.bind': {
        const b = { queue: m.args.queue, exchange: m.args.exchange, routingKey: m.args.routingKey, arguments: m.args.arguments }
        // A deferred queue's bindings are only recorded: they are made where it is finally placed.
        return this.viaBroker(async () => (this.isDeferred(b.queue) ? [] : this.cellsFor(b.queue)), async (ups) => {
          for (const up of ups) {
            await this.ensureExchange(up, b.exchange)
            await up.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
          }
          this.owner.topology.bound(b)
          if (!m.args.nowait) this.reply({ name: 'queue.bind-ok', args: {} })
        })
      }
      case 'queue.unbind': {
        const b = { queue: m.args.queue, exchange: m.args.exchange, routingKey: m.args.routingKey, arguments: m.args.arguments }
        return this.viaBroker(async () => (this.isDeferred(b.queue) ? [] : this.cellsFor(b.queue)), async (ups) => {
          for (const up of ups) await up.unbindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
          this.owner.topology.unbound(b)
          this.reply({ name: 'queue.unbind-ok', args: {} })
        })
      }
      case 'queue.purge':
        return this.viaBroker(() => this.cellsFor(m.args.queue), async (ups) => {
          let messageCount = 0
          for (const up of ups) messageCount += await up.purgeQueue(m.args.queue)
          if (!m.args.nowait) this.reply({ name: 'queue.purge-ok', args: { messageCount } })
        })
      case 'queue.delete':
        return this.viaBroker(async () => (this.isDeferred(m.args.queue) ? [] : this.cellsFor(m.args.queue)), async (ups) => {
          let messageCount = 0
          for (const up of ups) messageCount += await up.deleteQueue(m.args.queue, m.args.ifUnused, m.args.ifEmpty)
          this.owner.topology.queueDeleted(m.args.queue)
          this.owner.routing.queueDeleted(m.args.queue)
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

  /** A complete basic.publish; `header` is its content header as sent, passed on while the properties stay as they are. */
  handlePublish(args: ArgsOf<'basic.publish'>, clientProps: BasicProperties, body: Buffer, header?: Buffer): void {
    let props = clientProps
    let rawHeader = header
    if (this.state !== 'open') return
    if (args.immediate) throw amqpError(540, 'immediate=true', 60, 40)
    const seq = this.publisher.nextSeq()
    const obs = this.owner.observer.publishReceived({
      connection: this.owner.id,
      channel: this.id,
      vhost: this.owner.vhost,
      exchange: args.exchange,
      routingKey: args.routingKey,
      headers: props.headers,
      body,
      receivedAt: process.hrtime.bigint(),
    })
    if (obs?.headers !== undefined) {
      props = { ...props, headers: obs.headers }
      rawHeader = undefined
    }
    const route = this.owner.routing.publish(args.exchange, args.routingKey, props, body)
    if (obs !== undefined) obs.routed(route.cells, outcomeOf(route.cells.length, route.rewrite !== undefined), route.why ?? '')
    if (route.cells.length === 0) {
      // Nobody can take it (a host of a cell that is gone, no parking cell): the publisher hears
      // so, as from a broker that cannot take a message: a return if it asked, then a nack.
      this.steps.push(() => {
        if (args.mandatory) this.returned(null, { fields: { replyCode: 312, replyText: `NO_ROUTE - ${route.refused ?? 'no cell'}`, exchange: args.exchange, routingKey: args.routingKey }, properties: props, content: body })
        this.publisher.refuse(seq)
        obs?.settled(true)
      })
      return
    }
    const sendArgs = route.rewrite === undefined ? args : { ...args, exchange: route.rewrite.exchange, routingKey: route.rewrite.routingKey, mandatory: false }
    const sendProps = route.rewrite === undefined ? props : { ...props, headers: { ...(props.headers ?? {}), ...route.rewrite.headers } }
    // The common case, kept synchronous: one cell whose broker channel is open and knows the exchange.
    if (route.cells.length === 1 && route.rewrite === undefined && this.steps.idle) {
      const up = this.legs.get(route.cells[0]!)
      if (up !== undefined && up.isOpen && exchangeKnown(up, args.exchange, this.owner.topology)) {
        this.publisher.publish([up], args, props, body, seq, obs, rawHeader)
        return
      }
    }
    this.steps.push(async () => {
      if (this.state !== 'open') return
      const ups = await Promise.all(route.cells.map((c) => this.leg(c)))
      for (const up of ups) {
        if (route.rewrite !== undefined) await up.assertQueue(route.rewrite.queue, { durable: true, exclusive: false, autoDelete: false, arguments: {} })
        else await this.ensureExchange(up, args.exchange)
      }
      if (this.state === 'open') this.publisher.publish(ups, sendArgs, sendProps, body, seq, obs, route.rewrite === undefined ? rawHeader : undefined)
    })
  }

  /** The announced size of a message is checked before its body is read (RabbitMQ does the same). */
  checkBodySize(size: number): void {
    if (size > this.owner.limits.maxMessageBytes) {
      throw amqpError(406, `message size ${size} is larger than configured max size ${this.owner.limits.maxMessageBytes}`, 60, 40)
    }
  }

  // ---- broker → cellgate → client -----------------------------------------------------------

  deliver(up: UpstreamChannel, msg: BrokerDelivery): void {
    if (this.state !== 'open') return
    const receivedAt = process.hrtime.bigint()
    if (this.consumesInFlight > 0) {
      this.held.push([up, msg])
      return
    }
    const consumer = this.consumers.get(msg.fields.consumerTag)
    const noAck = consumer?.noAck === true
    this.owner.sendMethod(this.id, {
      name: 'basic.deliver',
      args: {
        consumerTag: msg.fields.consumerTag,
        // A no-ack client never settles: cellgate acks the broker itself once the message is written.
        deliveryTag: noAck ? this.tags.issueSettled() : this.tags.issue(up, msg.fields.deliveryTag),
        redelivered: msg.fields.redelivered,
        exchange: msg.fields.exchange,
        routingKey: msg.fields.routingKey,
      },
    })
    this.owner.sendRawContent(this.id, msg.header, msg.content)
    if (noAck) this.ackWhenWritten(up, msg.fields.deliveryTag)
    this.owner.observer.deliverySent({
      connection: this.owner.id,
      channel: this.id,
      cell: up.connection.cell,
      exchange: msg.fields.exchange,
      routingKey: msg.fields.routingKey,
      consumerTag: msg.fields.consumerTag,
      headers: msg.properties.headers,
      body: msg.content,
      redelivered: msg.fields.redelivered,
      receivedAt,
    })
  }

  returned(from: UpstreamChannel | null, msg: Pick<BrokerReturn, 'fields' | 'properties' | 'content'>): void {
    if (this.state !== 'open') return
    const f = msg.fields
    if (from !== null) this.publisher.returnedOn(from.connection.cell, f.replyCode)
    this.owner.sendMethod(this.id, {
      name: 'basic.return',
      args: { replyCode: f.replyCode, replyText: f.replyText, exchange: f.exchange, routingKey: f.routingKey },
    })
    this.owner.sendContent(this.id, msg.properties, msg.content)
  }

  consumerCancelled(from: UpstreamChannel | null, consumerTag: string): void {
    const rec = this.consumers.get(consumerTag)
    if (rec === undefined || this.state !== 'open') return
    this.consumers.delete(consumerTag)
    // A consumer spans its queue's cells: when one cell ends it, end it everywhere, so the
    // client's re-subscription starts from one clean state.
    for (const cell of rec.cells) {
      const up = this.legs.get(cell)
      if (up !== undefined && up.isOpen && up !== from) void up.cancel(consumerTag).catch(() => {})
    }
    if (from === null) this.log.info('consumer cancelled: its queue moved to another cell', { consumer: consumerTag, queue: rec.queue })
    else this.log.info('broker cancelled a consumer', { consumer: consumerTag, cell: from.connection.cell })
    if (this.owner.cancelNotify) {
      this.owner.sendMethod(this.id, { name: 'basic.cancel', args: { consumerTag, nowait: true } })
    }
  }

  /** cellgate moves `queue` to another cell: end its consumers here, as a broker would, so the client re-subscribes. */
  cancelConsumersOf(queue: string): number {
    let n = 0
    for (const rec of [...this.consumers.values()]) {
      if (rec.queue !== queue) continue
      this.consumerCancelled(null, rec.tag)
      n++
    }
    return n
  }

  closed(up: UpstreamChannel, reason: CloseReason, connectionLost: boolean): void {
    const cell = up.connection.cell
    if (this.legs.get(cell) === up) this.legs.delete(cell)
    if (this.state !== 'open') return
    if (connectionLost) {
      // A broker connection tells its channels before its owner: recover once the connection
      // has been marked lost, or recover() would reuse the dead connection.
      queueMicrotask(() => {
        if (this.state === 'open') this.steps.pushFront(() => this.recover(cell))
      })
      return
    }
    // A channel error from the broker (404 on publish, 406 on redeclare...): pass it on verbatim.
    this.serverClose(reason.code, reason.text, reason.classId, reason.methodId)
  }

  drain(): void {
    this.publisher.brokerDrained()
  }

  /** The client connection is gone: release the broker channels (consumers end, unacked requeue). */
  async dispose(): Promise<void> {
    await Promise.all(this.stopWork('closed').map((up) => up.close()))
  }

  /** Sends channel.close for an error found by cellgate or the broker, then waits for close-ok. */
  serverClose(code: number, text: string, classId: number, methodId: number): void {
    if (this.state !== 'open') return
    const ups = this.stopWork('closing')
    this.owner.sendMethod(this.id, { name: 'channel.close', args: { replyCode: code, replyText: text, classId, methodId } })
    for (const up of ups) void up.close()
    this.log.info('closed channel with error', { code, text })
  }

  // ---- internals ----------------------------------------------------------------------------

  private reply(m: AmqpMethod): void {
    if (this.state === 'open') this.owner.sendMethod(this.id, m)
  }

  /** Where a queue lives: where this connection placed it, else where the router says. */
  private queueCells(queue: string): readonly string[] {
    const own = this.owner.topology.queues.get(queue)
    if (own !== undefined && own.cells.length > 0) return own.cells
    return this.owner.routing.queueCells(queue)
  }

  private isDeferred(queue: string): boolean {
    return this.owner.topology.queues.get(queue)?.cells.length === 0
  }

  /** queueCells, placing and declaring a deferred queue (with its recorded bindings) first. */
  private cellsFor(queue: string): Promise<readonly string[]> {
    const decl = this.owner.topology.queues.get(queue)
    if (decl === undefined || decl.cells.length > 0) return Promise.resolve(this.queueCells(queue))
    const topology = this.owner.topology
    let placing = topology.placing.get(queue)
    if (placing === undefined) {
      placing = (async () => {
        const cells = this.owner.routing.placeDeferred(queue, topology.bindingsOf(queue).map((b) => b.routingKey))
        for (const cell of cells) {
          const up = await this.leg(cell)
          await up.assertQueue(decl.name, decl)
          for (const b of topology.bindingsOf(queue)) {
            await this.ensureExchange(up, b.exchange)
            await up.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
          }
        }
        decl.cells = cells
        this.log.debug('placed deferred queue', { queue, cells: cells.join(',') })
        return cells
      })().finally(() => topology.placing.delete(queue))
      topology.placing.set(queue, placing)
    }
    return placing
  }

  private openCells(): string[] {
    return this.legs.size === 0 ? [this.home] : [...this.legs.keys()]
  }

  /** Runs a step that needs the broker channels of `cells`, in order with everything else on this channel. */
  private viaBroker(cells: readonly string[] | (() => Promise<readonly string[]>), step: (ups: UpstreamChannel[]) => Promise<void>): void {
    const attempt = async (): Promise<void> => {
      if (this.state !== 'open') return
      const ups = await Promise.all((typeof cells === 'function' ? await cells() : cells).map((c) => this.leg(c)))
      try {
        await step(ups)
      } catch (err) {
        // A broker connection died under the step (the client still waits for its reply):
        // do it again on the next broker channels, before anything queued after it.
        if (ups.some((up) => up.lostWithConnection) && this.state === 'open') {
          this.steps.pushFront(attempt)
          return
        }
        throw err
      }
    }
    this.steps.push(attempt)
  }

  /** The broker channel on `cell`, opened on first use so an idle client channel costs the broker nothing. */
  private leg(cell: string): Promise<UpstreamChannel> {
    const up = this.legs.get(cell)
    if (up !== undefined && up.isOpen) return Promise.resolve(up)
    let opening = this.opening.get(cell)
    if (opening === undefined) {
      opening = this.openLeg(cell).finally(() => this.opening.delete(cell))
      this.opening.set(cell, opening)
    }
    return opening
  }

  private async openLeg(cell: string): Promise<UpstreamChannel> {
    const conn = await this.owner.upstream(cell)
    const up = await UpstreamChannel.open(conn, this, this.owner.limits.prefetchCap)
    if (this.state !== 'open') {
      await up.close()
      throw new ChannelGone()
    }
    if (this.qos !== null) await up.prefetch(this.qos.count, this.qos.global)
    this.legs.set(cell, up)
    return up
  }

  /** Publishing or binding to an exchange the client declared needs it on that cell first. */
  private async ensureExchange(up: UpstreamChannel, exchange: string): Promise<void> {
    if (exchangeKnown(up, exchange, this.owner.topology)) return
    const decl = this.owner.topology.exchanges.get(exchange)!
    await up.assertExchange(decl.name, decl.type, decl)
    up.knownExchanges.add(exchange)
  }

  /**
   * The broker connection to `cell` died under this channel: open a new one, re-declare what
   * the client declared there, re-subscribe its consumers with their tags and re-send
   * unconfirmed publishes. Whatever cannot be restored is cancelled, which makes oslo
   * re-subscribe from scratch.
   */
  private async recover(cell: string): Promise<void> {
    if (this.state !== 'open') return
    const up = await this.leg(cell)
    try {
      await this.owner.replayTopology(up)
    } catch (err) {
      this.log.warn('could not re-declare topology after broker loss', { cell, err: (err as Error).message })
    }
    let restored = 0
    for (const c of [...this.consumers.values()]) {
      if (!c.cells.includes(cell)) continue
      if (isServerNamed(c.queue)) {
        // The broker named that queue and it died with the old connection: the client must
        // declare a new one, which a cancel makes it do.
        this.consumerCancelled(up, c.tag)
        continue
      }
      try {
        await up.consume(c.queue, { consumerTag: c.tag, noLocal: c.noLocal, exclusive: c.exclusive, arguments: c.arguments })
        restored++
      } catch (err) {
        this.log.warn('consumer could not be restored; cancelling it', { consumer: c.tag, cell, err: (err as Error).message })
        if (!up.isOpen) return // the failed consume closed the channel; its close handler recovers again
        this.consumerCancelled(up, c.tag)
      }
    }
    this.publisher.republish(up)
    this.log.info('channel recovered on a new broker connection', { cell, consumers: restored })
  }

  private onQos(a: ArgsOf<'basic.qos'>): void {
    if (a.prefetchSize !== 0) throw amqpError(540, `prefetch_size!=0 (${a.prefetchSize})`, 60, 10)
    const cap = this.owner.limits.prefetchCap
    const count = a.prefetchCount === 0 ? cap : Math.min(a.prefetchCount, cap)
    this.qos = { count, global: a.global }
    this.viaBroker(this.openCells(), async (ups) => {
      for (const up of ups) await up.prefetch(count, a.global)
      this.reply({ name: 'basic.qos-ok', args: {} })
    })
  }

  private settle(clientTag: number, multiple: boolean, methodId: number, act: (up: UpstreamChannel, tag: number, multiple: boolean) => void): void {
    const found = this.tags.settle(clientTag, multiple)
    if (found.kind === 'unknown') throw amqpError(406, `unknown delivery tag ${clientTag}`, 60, methodId)
    this.steps.push(() => {
      // A tag belongs to the broker channel its delivery came from: if that one died, the broker
      // redelivers the message and the ack is void (on another channel it would ack the wrong one).
      for (const a of found.acts) if (a.leg.isOpen) act(a.leg, a.brokerTag, a.multiple)
    })
  }

  private ackWhenWritten(up: UpstreamChannel, brokerTag: number): void {
    this.owner.whenWritable(() => up.ack(brokerTag, false))
  }

  private onConsume(a: ArgsOf<'basic.consume'>): void {
    if (a.consumerTag !== '' && this.consumers.has(a.consumerTag)) {
      throw amqpError(530, `attempt to reuse consumer tag '${a.consumerTag}'`, 60, 20)
    }
    const opts = { consumerTag: a.consumerTag, noLocal: a.noLocal, exclusive: a.exclusive, arguments: a.arguments }
    const rec: ConsumerRecord = { tag: a.consumerTag, queue: a.queue, cells: [], noAck: a.noAck, ...opts }
    const subscribedOn = new Set<UpstreamChannel>()
    const cellsOfQueue = async (): Promise<readonly string[]> => {
      rec.cells = await this.cellsFor(a.queue)
      // One tag for the consumer on every cell: chosen here when the client leaves it to the broker.
      if (rec.tag === '' && rec.cells.length > 1) rec.tag = generatedConsumerTag()
      return rec.cells
    }
    this.viaBroker(cellsOfQueue, async (ups) => {
      // Register before the broker answers: deliveries can follow consume-ok in the same read.
      if (rec.tag !== '') this.consumers.set(rec.tag, rec)
      this.consumesInFlight++
      try {
        for (const up of ups) {
          if (subscribedOn.has(up)) continue // a retry after a lost connection: this cell already has it
          rec.tag = await up.consume(a.queue, { ...opts, consumerTag: rec.tag })
          subscribedOn.add(up)
        }
      } catch (err) {
        if (!ups.some((up) => up.lostWithConnection)) this.consumers.delete(rec.tag)
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
    for (const [up, m] of held) this.deliver(up, m)
  }

  private onCancel(a: ArgsOf<'basic.cancel'>): void {
    this.steps.push(async () => {
      const rec = this.consumers.get(a.consumerTag)
      if (rec !== undefined) {
        this.consumers.delete(a.consumerTag)
        for (const cell of rec.cells) {
          const up = this.legs.get(cell)
          if (up !== undefined && up.isOpen) await up.cancel(a.consumerTag)
        }
      }
      if (!a.nowait) this.reply({ name: 'basic.cancel-ok', args: { consumerTag: a.consumerTag } })
    })
  }

  private async onGet(up: UpstreamChannel, a: ArgsOf<'basic.get'>): Promise<void> {
    const msg = await up.get(a.queue)
    if (msg === null) return this.reply({ name: 'basic.get-empty', args: { clusterId: '' } })
    this.reply({
      name: 'basic.get-ok',
      args: {
        deliveryTag: a.noAck ? this.tags.issueSettled() : this.tags.issue(up, msg.fields.deliveryTag),
        redelivered: msg.fields.redelivered,
        exchange: msg.fields.exchange,
        routingKey: msg.fields.routingKey,
        messageCount: msg.fields.messageCount,
      },
    })
    this.owner.sendRawContent(this.id, msg.header, msg.content)
    if (a.noAck) this.ackWhenWritten(up, msg.fields.deliveryTag)
  }

  private onExchangeDeclare(a: ArgsOf<'exchange.declare'>): void {
    // Hard errors close the whole broker connection, which other clients share: catch them here.
    if (!a.passive && !EXCHANGE_TYPES.has(a.type)) throw amqpError(503, `invalid exchange type '${a.type}'`, 40, 10)
    // Declared on the home cell, where the broker's answer (406 for an inequivalent redeclare...)
    // is the client's answer; other cells get it when a publish or binding first needs it there.
    this.viaBroker([this.home], async ([up]) => {
      if (a.passive) {
        await up!.checkExchange(a.exchange)
      } else {
        const decl = { name: a.exchange, type: a.type, durable: a.durable, autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments }
        await up!.assertExchange(a.exchange, a.type, decl)
        for (const leg of this.legs.values()) if (leg !== up && leg.knownExchanges.has(a.exchange)) await leg.assertExchange(a.exchange, a.type, decl)
        up!.knownExchanges.add(a.exchange)
        this.owner.topology.exchangeDeclared(decl)
      }
      if (!a.nowait) this.reply({ name: 'exchange.declare-ok', args: {} })
    })
  }

  private onQueueDeclare(a: ArgsOf<'queue.declare'>): void {
    // A server-named queue (empty name) lives on the home cell; named ones where the router says.
    const opts = { durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments }
    const placed = a.passive ? 'passive' : a.queue === '' ? [this.home] : this.owner.routing.declareQueue(a.queue, a.exclusive)
    if (placed === 'deferred') {
      this.steps.push(() => {
        this.owner.topology.queueDeclared({ name: a.queue, ...opts, cells: this.owner.topology.queues.get(a.queue)?.cells ?? [] })
        if (!a.nowait) this.reply({ name: 'queue.declare-ok', args: { queue: a.queue, messageCount: 0, consumerCount: 0 } })
      })
      return
    }
    const cells = placed === 'passive' ? () => this.cellsFor(a.queue) : placed
    this.viaBroker(cells, async (ups) => {
      const oks = []
      for (const up of ups) oks.push(a.passive ? await up.checkQueue(a.queue) : await up.assertQueue(a.queue, opts))
      const ok = {
        queue: oks[0]!.queue,
        messageCount: oks.reduce((n, o) => n + o.messageCount, 0),
        consumerCount: oks.reduce((n, o) => n + o.consumerCount, 0),
      }
      if (!a.passive) {
        if (a.queue === '') this.owner.routing.declareQueue(ok.queue, a.exclusive)
        this.owner.topology.queueDeclared({ name: ok.queue, ...opts, cells: ups.map((up) => up.connection.cell) })
      }
      if (!a.nowait) this.reply({ name: 'queue.declare-ok', args: ok })
    })
  }

  private clientClose(): void {
    const ups = this.stopWork('closing')
    void Promise.all(ups.map((up) => up.close())).then(() => {
      this.owner.sendMethod(this.id, { name: 'channel.close-ok', args: {} })
      this.finish()
    })
  }

  /** Stops all work of the channel and hands back its broker channels for the caller to close. */
  private stopWork(next: 'closing' | 'closed'): UpstreamChannel[] {
    this.state = next
    this.steps.clear()
    this.publisher.dispose()
    const ups = [...this.legs.values()]
    this.legs.clear()
    return ups
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
    if (err instanceof BrokerError) {
      // The broker closed the channel under the request; closed() reports the same reason, so
      // close here only once with the broker's text.
      this.serverClose(err.reason.code, err.reason.text, err.reason.classId, err.reason.methodId)
      return
    }
    if (err instanceof PoolClosedError) {
      this.owner.connectionError(amqpError(320, "broker forced connection closure with reason 'shutdown'"))
      return
    }
    if (err instanceof ChannelEndedError) {
      // The broker channel went away under a pending step; its close handler already decided
      // (recovery after a lost connection, or the broker's own channel.close to the client).
      this.log.debug('broker channel ended under a step', { err: err.message })
      return
    }
    const e = err as { message?: string }
    this.log.error('[BUG] unexpected error in channel step', { err: e.message ?? String(err) })
    this.serverClose(541, `INTERNAL_ERROR - ${e.message ?? 'unexpected error'}`, 0, 0)
  }
}

/** The default exchange, amq.* and exchanges the client never declared need no declare on the way. */
function exchangeKnown(up: UpstreamChannel, exchange: string, topology: TopologyRecord): boolean {
  return exchange === '' || up.knownExchanges.has(exchange) || !topology.exchanges.has(exchange)
}

function outcomeOf(cells: number, parked: boolean): PublishOutcome {
  return cells === 0 ? 'refused' : parked ? 'parked' : 'routed'
}

/** RabbitMQ's own shape for broker-chosen consumer tags. */
function generatedConsumerTag(): string {
  return `amq.ctag-${randomBytes(16).toString('base64url').slice(0, 22)}`
}

class ChannelGone extends Error {}
