import type { Meter } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import type { Resource } from '@opentelemetry/resources'
import { MeterProvider, MetricReader, PeriodicExportingMetricReader, type IMetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics'
import type { TelemetryConfig } from '../../app/config-types.js'

/** A reader that exports nothing by itself: /metrics asks it when scraped. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface MetricsPipeline {
  /** The meter for the few instruments read only at collection time (gauges of pools, connections). */
  readonly meter: Meter
  /** Prometheus text exposition (format 0.0.4) of everything, collected now. */
  prometheusText(): Promise<string>
  shutdown(): Promise<void>
}

/**
 * The SDK side of metrics: a pull reader for `/metrics` and, when configured, an OTLP/HTTP push
 * reader; both read the same hot-path aggregates through `producer` plus the SDK's observable
 * instruments.
 */
export function startMetricsPipeline(cfg: TelemetryConfig['metrics'], resource: Resource, producer: MetricProducer): MetricsPipeline {
  const pull = new PullReader({ metricProducers: [producer] })
  const readers: IMetricReader[] = [pull]
  if (cfg.otlpEndpoint !== undefined) {
    const interval = Math.max(100, cfg.otlpIntervalMs)
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: cfg.otlpEndpoint }),
        exportIntervalMillis: interval,
        // The SDK refuses a timeout longer than the interval.
        exportTimeoutMillis: Math.min(30_000, interval),
        metricProducers: [producer],
      }),
    )
  }
  const provider = new MeterProvider({ resource, readers })
  // No scope labels on every series: one scope (cellgate) says nothing a scrape needs.
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
  return {
    meter: provider.getMeter('cellgate'),
    prometheusText: async () => serializer.serialize((await pull.collect()).resourceMetrics),
    shutdown: () => provider.shutdown(),
  }
}
