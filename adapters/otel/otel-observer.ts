import { resourceFromAttributes } from '@opentelemetry/resources'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { TelemetryConfig } from '../../app/config-types.js'
import type { AdminHandler } from '../admin/http-admin.js'
import { NO_OBSERVER, type DeliveryFacts, type MessageObserver, type PublishFacts, type PublishObservation, type PublishOutcome } from '../amqp091/observer-port.js'
import type { FieldTable } from '../amqp091/field-table.js'
import type { Logger } from '../log/logger.js'
import { DestinationLabeler, type Classify, type DestinationLabels } from './destination-labels.js'
import { MessageMetricProducer } from './metric-producer.js'
import { MessageMetrics, MULTI_CELL, NO_CELL } from './message-metrics.js'
import { startMetricsPipeline, type MetricsPipeline } from './metrics-pipeline.js'
import { MessageTracer, type PublishTrace, type RegionOf } from './message-tracer.js'
import { hasReplyQueue, msgIdOf, replyQueueOf } from './oslo-ids.js'
import { RpcTracker, type PendingCall } from './rpc-tracker.js'
import { registerGauges, type PoolGauges } from './gauges.js'
import { startTracing, type Tracing } from './tracer-provider.js'

/** What tests (or an embedding program) may add to the configured telemetry. */
export interface TelemetryHooks {
  /** Every span also goes here, exported as it ends (tests: an InMemorySpanExporter). */
  readonly spanExporter?: SpanExporter
  /**
   * No telemetry at all (NO_OBSERVER, an empty /metrics): only for measuring what telemetry
   * costs (bench/telemetry-bench.ts); not a configuration option, metrics are always on.
   */
  readonly disabled?: boolean
}

export interface OtelDeps extends TelemetryHooks {
  /** The broker pools per cell: their connections, reachability and reconnects become gauges. */
  readonly pools: ReadonlyMap<string, PoolGauges>
  /** The router's (memoised) classification, so labels cost a lookup; classifyPublish otherwise. */
  readonly classify?: Classify
  readonly regionOf?: RegionOf
  readonly log: Logger
}

export interface Telemetry {
  readonly observer: MessageObserver
  /** The Prometheus exposition, for the admin listener's `/metrics`. */
  readonly metricsRoute: AdminHandler
  metricsText(): Promise<string>
  /** Exports what is buffered (spans, metrics) now. */
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * Metrics always (cheap aggregates on the hot path), traces when an exporter is configured.
 */
export function createOtelObserver(cfg: TelemetryConfig, deps: OtelDeps): Telemetry {
  if (deps.disabled === true) return NO_TELEMETRY
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName })
  const metrics = new MessageMetrics()
  const rpc = new RpcTracker()
  const tracing = cfg.tracing.exporter !== 'none' || deps.spanExporter !== undefined ? startTracing(cfg.tracing, resource, deps.spanExporter) : undefined
  const pipeline: MetricsPipeline = startMetricsPipeline(cfg.metrics, resource, new MessageMetricProducer(metrics, () => rpc.lost))
  registerGauges(pipeline.meter, deps.pools, metrics, rpc)
  const observer = new OtelObserver(metrics, rpc, new DestinationLabeler(deps.classify), tracing, deps.regionOf, deps.log)
  let shut: Promise<void> | undefined
  return {
    observer,
    metricsText: () => pipeline.prometheusText(),
    metricsRoute: async () => ({ contentType: PROMETHEUS_TYPE, body: await pipeline.prometheusText() }),
    forceFlush: async () => {
      await tracing?.forceFlush()
    },
    shutdown: () => {
      // Flushes what the batch processor and the OTLP metric reader still hold.
      shut ??= Promise.allSettled([tracing?.shutdown(), pipeline.shutdown()]).then(() => undefined)
      return shut
    },
  }
}

const NO_TELEMETRY: Telemetry = {
  observer: NO_OBSERVER,
  metricsRoute: () => ({ contentType: PROMETHEUS_TYPE, body: '' }),
  metricsText: async () => '',
  forceFlush: async () => {},
  shutdown: async () => {},
}

class OtelObserver implements MessageObserver {
  private readonly tracer: MessageTracer | undefined
  private warned = false

  constructor(
    readonly metrics: MessageMetrics,
    private readonly rpc: RpcTracker,
    private readonly labeler: DestinationLabeler,
    tracing: Tracing | undefined,
    regionOf: RegionOf | undefined,
    private readonly log: Logger,
  ) {
    this.tracer = tracing === undefined ? undefined : new MessageTracer(tracing.tracer, () => tracing.drawRoot(), regionOf)
  }

  publishReceived(p: PublishFacts): PublishObservation | undefined {
    try {
      const labels = this.labeler.of(p.exchange, p.routingKey)
      let msgId: string | undefined
      let call: PendingCall | undefined
      // oslo names reply queues reply_<hex>; any other name counts once a pending call named it.
      const isReply = labels.kind === 'reply' || this.rpc.isReplyQueue(p.routingKey)
      if (isReply) {
        if (this.tracer !== undefined) msgId = msgIdOf(p.body)
      } else if (hasReplyQueue(p.body)) {
        // An oslo call: its reply, delivered later with the same _msg_id, ends the round trip.
        msgId = msgIdOf(p.body)
        const replyQueue = replyQueueOf(p.body)
        if (msgId !== undefined && replyQueue !== undefined) {
          call = { startedAt: p.receivedAt, replyQueue, topic: labels.topic, trace: undefined }
          this.rpc.started(msgId, call)
        }
      }
      let traced: PublishTrace | undefined
      if (this.tracer !== undefined) {
        const callParent = isReply && msgId !== undefined ? this.rpc.peek(msgId)?.trace : undefined
        traced = this.tracer.publish(p, labels, isReply, callParent, msgId)
        if (traced !== undefined && call !== undefined) call.trace = traced.context
      }
      return new Observation(this, p.receivedAt, labels, traced)
    } catch (err) {
      this.failed(err)
      return undefined
    }
  }

  deliverySent(d: DeliveryFacts): void {
    try {
      const labels = this.labeler.of(d.exchange, d.routingKey)
      const now = process.hrtime.bigint()
      this.metrics.deliveries.get2(d.cell, labels.topic).value++
      this.metrics.deliveryLatency.get2(d.cell, labels.kind).record(Number(now - d.receivedAt) / 1e9)
      let msgId: string | undefined
      const isReply = labels.kind === 'reply' || this.rpc.isReplyQueue(d.routingKey)
      if (isReply) {
        msgId = msgIdOf(d.body)
        const call = msgId === undefined ? undefined : this.rpc.peek(msgId)
        // The reply must reach the queue the call named (default exchange, or pre-9.2 oslo's direct exchange).
        if (call !== undefined && (call.replyQueue === d.routingKey || call.replyQueue === d.exchange)) {
          this.rpc.finish(msgId!)
          this.metrics.rpcLatency.get1(call.topic).record(Number(now - call.startedAt) / 1e9)
        }
      }
      // Only a message that carries a trace context can be traced here (unsampled roots carry none).
      if (this.tracer !== undefined && d.headers !== undefined && d.headers['traceparent'] !== undefined) {
        const isCall = !isReply && hasReplyQueue(d.body)
        if (isCall) msgId = msgIdOf(d.body)
        const sc = this.tracer.deliver(d, labels, msgId)
        // The server's reply continues from here: the request as the server received it.
        if (sc !== undefined && isCall && msgId !== undefined) {
          const call = this.rpc.peek(msgId)
          if (call !== undefined) call.trace = sc
        }
      }
    } catch (err) {
      this.failed(err)
    }
  }

  clientConnections(delta: 1 | -1): void {
    this.metrics.clientConnections += delta
  }

  clientChannels(delta: 1 | -1): void {
    this.metrics.clientChannels += delta
  }

  failed(err: unknown): void {
    this.metrics.errors++
    if (this.warned) return
    this.warned = true
    this.log.warn('telemetry observer failed; counting further failures in cellgate_telemetry_errors_total', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) })
  }
}

const NO_CELLS: readonly string[] = []

/** One per publish: the metrics state of a message until its confirm, plus its spans if sampled. */
class Observation implements PublishObservation {
  readonly headers: FieldTable | undefined
  private cells: readonly string[] = NO_CELLS
  private settledOnce = false

  constructor(
    private readonly o: OtelObserver,
    private readonly receivedAt: bigint,
    private readonly labels: DestinationLabels,
    private readonly traced: PublishTrace | undefined,
  ) {
    this.headers = traced?.headers
  }

  routed(cells: readonly string[], outcome: PublishOutcome, why: string): void {
    try {
      this.cells = cells
      const m = this.o.metrics.messages
      if (cells.length === 0) m.get3(NO_CELL, this.labels.topic, outcome).value++
      for (let i = 0; i < cells.length; i++) m.get3(cells[i]!, this.labels.topic, outcome).value++
      this.traced?.routed(cells, outcome, why)
    } catch (err) {
      this.o.failed(err)
    }
  }

  sentUpstream(cell: string): void {
    try {
      this.traced?.sent(cell)
    } catch (err) {
      this.o.failed(err)
    }
  }

  returned(replyCode: number): void {
    try {
      // Only single-cell mandatory publishes can be returned (see Publisher.returnedOn).
      this.o.metrics.messages.get3(this.cells[0] ?? NO_CELL, this.labels.topic, 'returned').value++
      this.traced?.returned(replyCode)
    } catch (err) {
      this.o.failed(err)
    }
  }

  settled(nacked: boolean): void {
    try {
      if (this.settledOnce) return
      this.settledOnce = true
      const n = this.cells.length
      const cell = n === 1 ? this.cells[0]! : n === 0 ? NO_CELL : MULTI_CELL
      this.o.metrics.publishLatency.get2(cell, this.labels.kind).record(Number(process.hrtime.bigint() - this.receivedAt) / 1e9)
      this.traced?.settled(nacked)
    } catch (err) {
      this.o.failed(err)
    }
  }
}
