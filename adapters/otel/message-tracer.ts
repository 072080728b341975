import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api'
import type { FieldTable } from '../amqp091/field-table.js'
import type { DeliveryFacts, PublishFacts, PublishOutcome } from '../amqp091/observer-port.js'
import { perfMsOf } from './clock.js'
import type { DestinationLabels } from './destination-labels.js'
import { extractContext, headersWith, isSampled } from './trace-carrier.js'

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
 * Attributes are set on a started span, never passed to startSpan: the SDK copies and checks
 * options.attributes twice (before and after the sampler, which here never looks at them) and then
 * once more as it sets them; set afterwards they are checked once.
 *
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
    private readonly drawRoot: () => boolean,
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
    // A new trace: decided here, cheaply, and only a sampled one reaches the SDK.
    if (parent === undefined && !this.drawRoot()) return undefined
    const receive = this.tracer.startSpan(`receive ${labels.topic}`, { kind: SpanKind.CONSUMER }, parent ?? ROOT_CONTEXT)
    if (!receive.isRecording()) return undefined
    const base = messagingAttributes(p.exchange, p.routingKey, p.body.length, labels, msgId, 'receive', 'receive')
    base['cellgate.connection'] = p.connection
    base['cellgate.vhost'] = p.vhost
    receive.setAttributes(base)
    const ctx = trace.setSpan(ROOT_CONTEXT, receive)
    const route = this.tracer.startSpan(`route ${labels.topic}`, { kind: SpanKind.INTERNAL }, ctx)
    return new SampledPublish(this.tracer, this.regionOf, receive, route, ctx, p.exchange, p.routingKey, p.body.length, msgId, labels, headersWith(p.headers, receive.spanContext()))
  }

  /** The delivery span when the message carries a sampled context; its context otherwise undefined. */
  deliver(d: DeliveryFacts, labels: DestinationLabels, msgId: string | undefined): SpanContext | undefined {
    const parent = extractContext(d.headers)
    if (parent === undefined) return undefined
    const carried = trace.getSpanContext(parent)
    if (carried === undefined || !isSampled(carried)) return undefined
    const attributes = messagingAttributes(d.exchange, d.routingKey, d.body.length, labels, msgId, 'process', 'deliver')
    attributes['cellgate.cell'] = d.cell
    attributes['cellgate.connection'] = d.connection
    attributes['messaging.consumer.group.name'] = d.consumerTag
    attributes['cellgate.redelivered'] = d.redelivered
    const region = this.regionOf(d.cell)
    if (region !== undefined) attributes['cellgate.region'] = region
    const span = this.tracer.startSpan(`deliver ${labels.topic}`, { kind: SpanKind.CONSUMER, startTime: perfMsOf(d.receivedAt), links: [{ context: carried }] }, parent)
    span.setAttributes(attributes)
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
    private readonly exchange: string,
    private readonly routingKey: string,
    private readonly bodySize: number,
    private readonly msgId: string | undefined,
    private readonly labels: DestinationLabels,
    readonly headers: FieldTable,
  ) {}

  get context(): SpanContext {
    return this.receive.spanContext()
  }

  routed(cells: readonly string[], outcome: PublishOutcome, why: string): void {
    const attrs: Attributes = { 'cellgate.cell': cells.length === 1 ? cells[0]! : cells.join(','), 'cellgate.route.outcome': outcome, 'cellgate.route.why': why }
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
    const attributes = messagingAttributes(this.exchange, this.routingKey, this.bodySize, this.labels, this.msgId, 'send', 'publish')
    attributes['cellgate.cell'] = cell
    const region = this.regionOf(cell)
    if (region !== undefined) attributes['cellgate.region'] = region
    const span = this.tracer.startSpan(`send ${this.labels.topic}`, { kind: SpanKind.PRODUCER }, this.ctx)
    span.setAttributes(attributes)
    this.sends.set(cell, span)
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

/**
 * The messaging semantic conventions (semconv 1.45 incubating names) plus cellgate's labels.
 * Keys are written out, not taken from the semconv constants: an object literal with constant
 * keys is built from a boilerplate, one with computed keys is not (about 1 µs per span here);
 * test/unit/otel-parts.test.ts checks the names against the package's constants.
 */
function messagingAttributes(
  exchange: string,
  routingKey: string,
  bodySize: number,
  labels: DestinationLabels,
  msgId: string | undefined,
  operationType: 'receive' | 'send' | 'process',
  operationName: string,
): Attributes {
  const a: Attributes = {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': operationType,
    'messaging.operation.name': operationName,
    'messaging.destination.name': exchange === '' ? routingKey || 'amq.default' : routingKey === '' ? exchange : `${exchange}:${routingKey}`,
    'messaging.message.body.size': bodySize,
    'cellgate.oslo.kind': labels.kind,
    'cellgate.oslo.topic': labels.topic,
  }
  if (routingKey !== '') a['messaging.rabbitmq.destination.routing_key'] = routingKey
  if (labels.kind === 'reply') a['messaging.destination.temporary'] = true
  if (msgId !== undefined) a['messaging.message.conversation_id'] = msgId
  return a
}
