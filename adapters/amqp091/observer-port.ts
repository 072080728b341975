import type { FieldTable } from './field-table.js'

/**
 * What the AMQP front end tells whoever measures it (adapters/otel): every client publish from
 * arrival to its confirm, and every delivery to a client. The front end calls these on its hot
 * path, so an implementation must be cheap when it records nothing, and must never throw.
 */
export interface MessageObserver {
  /**
   * A complete basic.publish (method, header, body) arrived from a client. The observation
   * returned follows the message until the client has its confirm; undefined records nothing.
   */
  publishReceived(p: PublishFacts): PublishObservation | undefined
  /** A message was written to a client (basic.deliver or basic.get-ok). */
  deliverySent(d: DeliveryFacts): void
  /** A client connection opened (+1) or closed (-1); the same for its channels. */
  clientConnections(delta: 1 | -1): void
  clientChannels(delta: 1 | -1): void
}

export interface PublishFacts {
  readonly connection: string
  readonly channel: number
  readonly vhost: string
  readonly exchange: string
  readonly routingKey: string
  /** The client's application headers (W3C traceparent/tracestate may be among them). */
  readonly headers: FieldTable | undefined
  readonly body: Buffer
  /** process.hrtime.bigint() when the last frame of the message was read. */
  readonly receivedAt: bigint
}

export type PublishOutcome = 'routed' | 'parked' | 'refused'

export interface PublishObservation {
  /**
   * Application headers to send upstream instead of the client's: the client's plus a trace
   * context (continued when the client sent one, started when not); undefined keeps the client's.
   */
  readonly headers?: FieldTable
  /** The router decided: which cells, what happened, and why (the router's words). */
  routed(cells: readonly string[], outcome: PublishOutcome, why: string): void
  /** Sent upstream to `cell` (once per cell; a resend after a lost connection calls it again). */
  sentUpstream(cell: string): void
  /** The broker returned it (mandatory, no queue there): before the confirm. */
  returned(replyCode: number): void
  /** Every cell confirmed (or one nacked, or it was refused): the client gets its ack/nack now. */
  settled(nacked: boolean): void
}

export interface DeliveryFacts {
  readonly connection: string
  readonly channel: number
  readonly cell: string
  readonly exchange: string
  readonly routingKey: string
  readonly consumerTag: string
  readonly headers: FieldTable | undefined
  readonly body: Buffer
  readonly redelivered: boolean
  /** process.hrtime.bigint() when the broker's delivery was handed to cellgate. */
  readonly receivedAt: bigint
}

/** Records nothing: the front end's default, and what tests use when they measure nothing. */
export const NO_OBSERVER: MessageObserver = {
  publishReceived: () => undefined,
  deliverySent: () => {},
  clientConnections: () => {},
  clientChannels: () => {},
}
