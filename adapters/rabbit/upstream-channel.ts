import type { BasicProperties } from '../amqp091/methods.generated.js'
import type { FieldTable } from '../amqp091/field-table.js'
import type { CloseReason } from './close-reason.js'
import type { UpstreamConnection } from './upstream-connection.js'
import type { BrokerChannel, BrokerDelivery, BrokerGetMessage, BrokerReturn, QueueOk } from './wire/broker-channel.js'

/** Events from one broker channel, delivered to the client channel that owns it. */
export interface UpstreamChannelHandler {
  deliver(up: UpstreamChannel, msg: BrokerDelivery): void
  returned(up: UpstreamChannel, msg: BrokerReturn): void
  /** The broker cancelled a consumer (queue deleted, failover...). */
  consumerCancelled(up: UpstreamChannel, consumerTag: string): void
  /** The channel is gone; `connectionLost` distinguishes a dead broker connection from a channel error. */
  closed(up: UpstreamChannel, reason: CloseReason, connectionLost: boolean): void
  /** The broker connection's write buffer drained: publishing may resume. */
  drain(up: UpstreamChannel): void
}

export type QueueDeclared = QueueOk

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
    private readonly ch: BrokerChannel,
    handler: UpstreamChannelHandler,
  ) {
    ch.setHandler({
      deliver: (msg) => handler.deliver(this, msg),
      returned: (msg) => handler.returned(this, msg),
      consumerCancelled: (tag) => handler.consumerCancelled(this, tag),
      drain: () => handler.drain(this),
      closed: (reason, connectionLost) => {
        if (this.done) return
        this.done = true
        this.lostWithConnection = connectionLost || !connection.isAlive
        handler.closed(this, reason, this.lostWithConnection)
      },
    })
  }

  static async open(conn: UpstreamConnection, handler: UpstreamChannelHandler, prefetch: number): Promise<UpstreamChannel> {
    // Bound what the broker pushes before the client acks: the client may ask for unlimited.
    return new UpstreamChannel(conn, await conn.openChannel(undefined, { count: prefetch, global: false }), handler)
  }

  get isOpen(): boolean {
    return !this.done && this.ch.isOpen
  }

  /**
   * `props` may be a content header payload already encoded (the client's own bytes). Returns
   * false when the broker socket is backed up: the caller must wait for drain().
   */
  publish(exchange: string, routingKey: string, body: Buffer, props: BasicProperties | Buffer, mandatory: boolean, confirmed: (nacked: boolean) => void): boolean {
    return this.ch.publish(exchange, routingKey, body, props, mandatory, confirmed)
  }

  assertExchange(name: string, type: string, o: { durable: boolean; autoDelete: boolean; internal: boolean; arguments: FieldTable }): Promise<void> {
    return this.ch.assertExchange(name, type, o)
  }

  checkExchange(name: string): Promise<void> {
    return this.ch.checkExchange(name)
  }

  deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    return this.ch.deleteExchange(name, ifUnused)
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<void> {
    return this.ch.bindExchange(destination, source, routingKey, args)
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): Promise<void> {
    return this.ch.unbindExchange(destination, source, routingKey, args)
  }

  assertQueue(name: string, o: { durable: boolean; exclusive: boolean; autoDelete: boolean; arguments: FieldTable }): Promise<QueueDeclared> {
    return this.ch.assertQueue(name, o)
  }

  checkQueue(name: string): Promise<QueueDeclared> {
    return this.ch.checkQueue(name)
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<void> {
    return this.ch.bindQueue(queue, exchange, routingKey, args)
  }

  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable): Promise<void> {
    return this.ch.unbindQueue(queue, exchange, routingKey, args)
  }

  purgeQueue(queue: string): Promise<number> {
    return this.ch.purgeQueue(queue)
  }

  deleteQueue(queue: string, ifUnused: boolean, ifEmpty: boolean): Promise<number> {
    return this.ch.deleteQueue(queue, ifUnused, ifEmpty)
  }

  prefetch(count: number, global: boolean): Promise<void> {
    return this.ch.prefetch(count, global)
  }

  /**
   * Always consumes with acks upstream, even for a no-ack client: cellgate acks once the message
   * is written to the client, so a slow client cannot make cellgate buffer without bound.
   */
  consume(queue: string, o: { consumerTag: string; noLocal: boolean; exclusive: boolean; arguments: FieldTable }): Promise<string> {
    return this.ch.consume(queue, o)
  }

  cancel(consumerTag: string): Promise<void> {
    return this.ch.cancel(consumerTag)
  }

  get(queue: string): Promise<BrokerGetMessage | null> {
    return this.ch.get(queue)
  }

  recover(): Promise<void> {
    return this.ch.recover()
  }

  ack(deliveryTag: number, multiple: boolean): void {
    if (!this.done) this.ch.ack(deliveryTag, multiple)
  }

  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void {
    if (!this.done) this.ch.nack(deliveryTag, multiple, requeue)
  }

  reject(deliveryTag: number, requeue: boolean): void {
    if (!this.done) this.ch.reject(deliveryTag, requeue)
  }

  /** Closes the broker channel; consumers end and unacked messages return to their queues. */
  async close(): Promise<void> {
    if (this.done) return
    this.done = true
    await this.ch.close()
  }
}
