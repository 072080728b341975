import { ValueType, type HrTime } from '@opentelemetry/api'
import { millisToHrTime } from '@opentelemetry/core'
import { emptyResource } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics'
import type { Count, LatencyHistogram } from './histogram.js'
import type { MessageMetrics } from './message-metrics.js'
import type { Family } from './series.js'

export const SCOPE = { name: 'cellgate' }

/**
 * Hands the hot-path aggregates to OpenTelemetry readers (the Prometheus pull and the OTLP push
 * both read the same cumulative state) as ready-made metric data, so the per-message path never
 * goes through the SDK's instruments.
 */
export class MessageMetricProducer implements MetricProducer {
  private readonly start: HrTime

  constructor(
    private readonly m: MessageMetrics,
    private readonly rpcLost: () => number,
  ) {
    this.start = millisToHrTime(m.startedAt)
  }

  async collect(): Promise<CollectionResult> {
    const now = millisToHrTime(Date.now())
    const metrics: MetricData[] = [
      this.sum('cellgate.messages', '{message}', 'Client publishes by cell, topic and outcome (routed, parked, refused; returned counts again)', this.m.messages, now),
      this.histogram('cellgate.publish.duration', 'Client publish to upstream confirm (all cells), as seen by cellgate', this.m.publishLatency, now),
      this.sum('cellgate.deliveries', '{message}', 'Messages delivered to clients, by cell and topic', this.m.deliveries, now),
      this.histogram('cellgate.delivery.duration', 'Upstream delivery to client delivery, inside cellgate', this.m.deliveryLatency, now),
      this.histogram('cellgate.rpc.duration', 'oslo call seen to its reply delivered to the caller (matched by _msg_id)', this.m.rpcLatency, now),
      {
        descriptor: { name: 'cellgate.rpc.unmatched', description: 'oslo calls whose reply was never delivered (dropped from the bounded table by age or size)', unit: '{call}', valueType: ValueType.INT },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: [{ startTime: this.start, endTime: now, attributes: {}, value: this.rpcLost() }],
      },
      {
        descriptor: { name: 'cellgate.telemetry.errors', description: 'Failures inside the telemetry observer (swallowed)', unit: '{error}', valueType: ValueType.INT },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: [{ startTime: this.start, endTime: now, attributes: {}, value: this.m.errors }],
      },
    ]
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] }
  }

  private sum(name: string, unit: string, description: string, family: Family<Count>, now: HrTime): MetricData {
    return {
      descriptor: { name, description, unit, valueType: ValueType.INT },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: family.series.map((s) => ({ startTime: this.start, endTime: now, attributes: attributesOf(family, s.labels), value: s.value.value })),
    }
  }

  private histogram(name: string, description: string, family: Family<LatencyHistogram>, now: HrTime): MetricData {
    return {
      descriptor: { name, description, unit: 's', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: family.series.map((s) => ({ startTime: this.start, endTime: now, attributes: attributesOf(family, s.labels), value: s.value.snapshot() })),
    }
  }
}

function attributesOf<T>(family: Family<T>, values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  family.labelNames.forEach((n, i) => {
    out[n] = values[i] ?? ''
  })
  return out
}
