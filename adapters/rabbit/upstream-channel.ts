import type { ConfirmChannel, ConsumeMessage, GetMessage, Message, Options } from 'amqplib'
import type { BasicProperties } from '../amqp091/methods.generated.js'
import type { FieldTable } from '../amqp091/field-table.js'
import { closeReasonFromError, type CloseReason } from './close-reason.js'
import type { UpstreamConnection } from './upstream-connection.js'

/** Events from one broker channel, delivered to the client channel that owns it. */
export interface UpstreamChannelHandler {
  deliver(up: UpstreamChannel, msg: ConsumeMessage): void
  returned(up: UpstreamChannel, msg: Message): void
  /** The broker cancelled a consumer (queue deleted, failover...). */
  consumerCancelled(up: UpstreamChannel, consumerTag: string): void
  /** The channel is gone; `connectionLost` distinguishes a dead broker connection from a channel error. */
  closed(up: UpstreamChannel, reason: CloseReason, connectionLost: boolean): void
  /** The broker connection's write buffer drained: publishing may resume. */
  drain(up: UpstreamChannel): void
}

export interface QueueDeclared {
  queue: string
  messageCount: number
  consumerCount: number
}

/**
 * One broker channel in confirm mode, owned by exactly one client channel. Always confirming
 * upstream is what lets cellgate know a message is safe before it acks the client, and bound
 * what it holds in memory.
 */
export class UpstreamChannel {
  private done = false
  /** Closed because the broker connection went away (not by a channel error): work on it can be redone. */
  lostWithConnection = false
  /**
   * Exchanges the client declared that were declared on this broker channel too. Per channel, as
   * oslo itself declares once per channel: an exchange can vanish behind a shared connection's
   * back (an auto-delete fanout exchange whose last queue went), and a cache wider than the
   * channel would then publish into a 404.
   */
  readonly knownExchanges = new Set<string>()

  private constructor(
    readonly connection: UpstreamConnection,
    private readonly ch: ConfirmChannel,
    private readonly handler: UpstreamChannelHandler,
  ) {
    let lastError: CloseReason | undefined
    ch.on('error', (err: Error) => {
      lastError = closeReasonFromError(err)
    })
    ch.on('close', () => {
      if (this.done) return
      this.done = true
      this.lostWithConnection = lastError === undefined || !connection.isAlive
      handler.closed(this, lastError ?? closeReasonFromError(new Error('channel closed'), 320), this.lostWithConnection)
    })
    ch.on('return', (msg: Message) => handler.returned(this, msg))
    // The 'cancel' event carries the real tag, also for consumers whose tag the broker chose.
    ch.on('cancel', (fields: { consumerTag: string }) => handler.consumerCancelled(this, fields.consumerTag))
    ch.on('drain', () => handler.drain(this))
  }

  static async open(conn: UpstreamConnection, handler: UpstreamChannelHandler, prefetch: number): Promise<UpstreamChannel> {
    const ch = await conn.openChannel()
    const up = new UpstreamChannel(conn, ch, handler)
    // Bound what the broker pushes before the client acks: the client may ask for unlimited.
    await ch.prefetch(prefetch, false)
    return up
  }

  get isOpen(): boolean {
    return !this.done
  }

  /** Returns false when the broker socket is backed up: the caller must wait for drain(). */
  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    props: BasicProperties,
    mandatory: boolean,
    confirmed: (nacked: boolean) => void,
  ): boolean {
    // The properties object is ours (decoded for this message), so amqplib may take it as its
    // options directly: no copy per message.
    const options = props as Options.Publish
    options.mandatory = mandatory
    return this.ch.publish(exchange, routingKey, body, options, (err: unknown) => confirmed(err != null))
  }

  assertExchange(name: string, type: string, o: { durable: boolean; autoDelete: boolean; internal: boolean; arguments: FieldTable }): Promise<unknown> {
    return this.ch.assertExchange(name, type, o)
  }

  checkExchange(name: string): Promise<unknown> {
    return this.ch.checkExchange(name)
  }

  deleteExchange(name: string, ifUnused: boolean): Promise<unknown> {
    return this.ch.deleteExchange(name, { ifUnused })
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<unknown> {
    return this.ch.bindExchange(destination, source, routingKey, args)
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<unknown> {
    return this.ch.unbindExchange(destination, source, routingKey, args)
  }

  async assertQueue(name: string, o: { durable: boolean; exclusive: boolean; autoDelete: boolean; arguments: FieldTable }): Promise<QueueDeclared> {
    const r = await this.ch.assertQueue(name, o)
    return { queue: r.queue, messageCount: r.messageCount, consumerCount: r.consumerCount }
  }

  async checkQueue(name: string): Promise<QueueDeclared> {
    const r = await this.ch.checkQueue(name)
    return { queue: r.queue, messageCount: r.messageCount, consumerCount: r.consumerCount }
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<unknown> {
    return this.ch.bindQueue(queue, exchange, routingKey, args)
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<unknown> {
    return this.ch.unbindQueue(queue, exchange, routingKey, args)
  }

  async purgeQueue(queue: string): Promise<number> {
    return (await this.ch.purgeQueue(queue)).messageCount
  }

  async deleteQueue(queue: string, ifUnused: boolean, ifEmpty: boolean): Promise<number> {
    return (await this.ch.deleteQueue(queue, { ifUnused, ifEmpty })).messageCount
  }

  prefetch(count: number, global: boolean): Promise<unknown> {
    return this.ch.prefetch(count, global)
  }

  async consume(
    queue: string,
    o: { consumerTag: string; noLocal: boolean; exclusive: boolean; arguments: FieldTable },
  ): Promise<string> {
    // Always consume with acks upstream, even for a no-ack client: cellgate acks once the message
    // is written to the client, so a slow client cannot make cellgate buffer without bound.
    const r = await this.ch.consume(
      queue,
      (msg) => {
        if (msg !== null) this.handler.deliver(this, msg)
      },
      { consumerTag: o.consumerTag, noLocal: o.noLocal, noAck: false, exclusive: o.exclusive, arguments: o.arguments },
    )
    return r.consumerTag
  }

  async cancel(consumerTag: string): Promise<void> {
    await this.ch.cancel(consumerTag)
  }

  get(queue: string): Promise<GetMessage | false> {
    return this.ch.get(queue, { noAck: false })
  }

  recover(): Promise<unknown> {
    return this.ch.recover()
  }

  ack(deliveryTag: number, multiple: boolean): void {
    if (this.done) return
    this.ch.ack(tagOnly(deliveryTag), multiple)
  }

  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void {
    if (this.done) return
    this.ch.nack(tagOnly(deliveryTag), multiple, requeue)
  }

  reject(deliveryTag: number, requeue: boolean): void {
    if (this.done) return
    this.ch.reject(tagOnly(deliveryTag), requeue)
  }

  /** Closes the broker channel; consumers end and unacked messages return to their queues. */
  async close(): Promise<void> {
    if (this.done) return
    this.done = true
    try {
      await this.ch.close()
    } catch {
      // The broker or the connection closed it first: the outcome is the same.
    }
  }
}

/** amqplib acks a Message but reads only its delivery tag. */
function tagOnly(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as unknown as Message
}
