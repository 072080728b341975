import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api'
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_TEMPORARY,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_VALUE_RABBITMQ,
} from '@opentelemetry/semantic-conventions/incubating'
import type { FieldTable } from '../amqp091/field-table.js'
import type { DeliveryFacts, PublishFacts, PublishOutcome } from '../amqp091/observer-port.js'
import { epochOf } from './clock.js'
import type { DestinationLabels } from './destination-labels.js'
import { extractContext, headersWith, isSampled } from './trace-carrier.js'

/** cellgate's own span attributes, next to the messaging semantic conventions. */
export const ATTR_CELL = 'cellgate.cell'
export const ATTR_REGION = 'cellgate.region'
export const ATTR_ROUTE_WHY = 'cellgate.route.why'
export const ATTR_ROUTE_OUTCOME = 'cellgate.route.outcome'
export const ATTR_OSLO_KIND = 'cellgate.oslo.kind'
export const ATTR_OSLO_TOPIC = 'cellgate.oslo.topic'
export const ATTR_CONNECTION = 'cellgate.connection'
export const ATTR_VHOST = 'cellgate.vhost'

export type RegionOf = (cell: string) => string | undefined

/** A sampled publish's spans, kept until the client has its confirm. */
export interface PublishTrace {
  /** Headers to send upstream: the client's plus this message's trace context. */
  readonly headers: FieldTable
  /** The context the next hop continues (the receive span). */
  readonly context: SpanContext
  routed(cells: readonly string[], outcome: PublishOutcome, why: string): void
  sent(cell: string): void
  returned(replyCode: number): void
  settled(nacked: boolean): void
}

/**
 * Spans per message. A publish is a CONSUMER `receive <topic>` span (cellgate processes a
 * message a client sent it), with an INTERNAL `route` child and one PRODUCER `send` child per
 * cell that lasts until that cell's confirm; its context goes upstream in the headers. A delivery
 * is a CONSUMER `deliver <topic>` span, child of (and linked to) the context the message carries.
 * An oslo reply carries no context of its own (oslo drops headers): it continues its call's trace
 * through the `_msg_id` table. Span names hold the oslo topic, never a host or reply queue.
 */
export class MessageTracer {
  constructor(
    private readonly tracer: Tracer,
    private readonly regionOf: RegionOf = () => undefined,
  ) {}

  /**
   * `callParent`: for a reply, the span of its call it continues. Returns undefined when not
   * sampled; the client's own context (if any) then travels on untouched in its headers.
   */
  publish(p: PublishFacts, labels: DestinationLabels, isReply: boolean, callParent: SpanContext | undefined, msgId: string | undefined): PublishTrace | undefined {
    let parent: Context | undefined = extractContext(p.headers)
    if (parent === undefined && callParent !== undefined) parent = trace.setSpanContext(ROOT_CONTEXT, callParent)
    // A reply whose call was not traced is not a trace of its own: it would be an orphan half.
    if (parent === undefined && isReply) return undefined
    const receive = this.tracer.startSpan(`receive ${labels.topic}`, { kind: SpanKind.CONSUMER }, parent ?? ROOT_CONTEXT)
    if (!receive.isRecording()) return undefined
    const base = messagingAttributes(p.exchange, p.routingKey, p.body.length, labels, msgId)
    receive.setAttributes(base)
    receive.setAttributes({
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
      [ATTR_MESSAGING_OPERATION_NAME]: 'receive',
      [ATTR_CONNECTION]: p.connection,
      [ATTR_VHOST]: p.vhost,
    })
    const ctx = trace.setSpan(ROOT_CONTEXT, receive)
    const route = this.tracer.startSpan(`route ${labels.topic}`, { kind: SpanKind.INTERNAL }, ctx)
    return new SampledPublish(this.tracer, this.regionOf, receive, route, ctx, base, labels, headersWith(p.headers, receive.spanContext()))
  }

  /** The delivery span when the message carries a sampled context; its context otherwise undefined. */
  deliver(d: DeliveryFacts, labels: DestinationLabels, msgId: string | undefined): SpanContext | undefined {
    const parent = extractContext(d.headers)
    if (parent === undefined) return undefined
    const carried = trace.getSpanContext(parent)
    if (carried === undefined || !isSampled(carried)) return undefined
    const attributes: Attributes = {
      ...messagingAttributes(d.exchange, d.routingKey, d.body.length, labels, msgId),
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
      [ATTR_MESSAGING_OPERATION_NAME]: 'deliver',
      [ATTR_CELL]: d.cell,
      [ATTR_CONNECTION]: d.connection,
      'messaging.consumer.group.name': d.consumerTag,
      'cellgate.redelivered': d.redelivered,
    }
    const region = this.regionOf(d.cell)
    if (region !== undefined) attributes[ATTR_REGION] = region
    const span = this.tracer.startSpan(
      `deliver ${labels.topic}`,
      { kind: SpanKind.CONSUMER, startTime: epochOf(d.receivedAt), links: [{ context: carried }], attributes },
      parent,
    )
    span.end()
    return span.spanContext()
  }
}

class SampledPublish implements PublishTrace {
  private readonly sends = new Map<string, Span>()
  private ended = false

  constructor(
    private readonly tracer: Tracer,
    private readonly regionOf: RegionOf,
    private readonly receive: Span,
    private readonly route: Span,
    private readonly ctx: Context,
    private readonly base: Attributes,
    private readonly labels: DestinationLabels,
    readonly headers: FieldTable,
  ) {}

  get context(): SpanContext {
    return this.receive.spanContext()
  }

  routed(cells: readonly string[], outcome: PublishOutcome, why: string): void {
    const attrs: Attributes = { [ATTR_CELL]: cells.join(','), [ATTR_ROUTE_OUTCOME]: outcome, [ATTR_ROUTE_WHY]: why }
    this.route.setAttributes(attrs)
    this.receive.setAttributes(attrs)
    if (outcome === 'refused') this.route.setStatus({ code: SpanStatusCode.ERROR, message: why })
    this.route.end()
  }

  sent(cell: string): void {
    const existing = this.sends.get(cell)
    if (existing !== undefined) {
      // Re-sent after the cell's broker connection was lost: same span, the wait goes on.
      existing.addEvent('resent')
      return
    }
    const attributes: Attributes = {
      ...this.base,
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
      [ATTR_MESSAGING_OPERATION_NAME]: 'publish',
      [ATTR_CELL]: cell,
    }
    const region = this.regionOf(cell)
    if (region !== undefined) attributes[ATTR_REGION] = region
    this.sends.set(cell, this.tracer.startSpan(`send ${this.labels.topic}`, { kind: SpanKind.PRODUCER, attributes }, this.ctx))
  }

  returned(replyCode: number): void {
    this.receive.addEvent('basic.return', { 'cellgate.return.code': replyCode })
    this.receive.setAttribute('cellgate.returned', replyCode)
  }

  settled(nacked: boolean): void {
    if (this.ended) return
    this.ended = true
    for (const s of this.sends.values()) {
      if (nacked) s.setStatus({ code: SpanStatusCode.ERROR, message: 'nacked' })
      s.end()
    }
    if (nacked) {
      this.receive.setStatus({ code: SpanStatusCode.ERROR, message: 'nacked' })
      this.receive.setAttribute('error.type', 'nack')
    }
    // A refused publish never reaches routed()'s end on every path: make sure the route span ends.
    if (this.route.isRecording()) this.route.end()
    this.receive.end()
  }
}

function messagingAttributes(exchange: string, routingKey: string, bodySize: number, labels: DestinationLabels, msgId: string | undefined): Attributes {
  const a: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_RABBITMQ,
    [ATTR_MESSAGING_DESTINATION_NAME]: exchange === '' ? routingKey || 'amq.default' : routingKey === '' ? exchange : `${exchange}:${routingKey}`,
    [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: bodySize,
    [ATTR_OSLO_KIND]: labels.kind,
    [ATTR_OSLO_TOPIC]: labels.topic,
  }
  if (routingKey !== '') a[ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY] = routingKey
  if (labels.kind === 'reply') a[ATTR_MESSAGING_DESTINATION_TEMPORARY] = true
  if (msgId !== undefined) a[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = msgId
  return a
}
