import type { Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import type { Resource } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import type { TelemetryConfig } from '../../app/config-types.js'
import { RootSampling } from './root-sampling.js'

export const DEFAULT_OTLP_TRACES_URL = 'http://127.0.0.1:4318/v1/traces'

/** About two seconds of spans at 100 % sampling and full load; exported in batches of 1024 every second. */
const BATCH_LIMITS = { maxQueueSize: 32768, maxExportBatchSize: 1024, scheduledDelayMillis: 1000 }

export interface Tracing {
  readonly tracer: Tracer
  /** Decides a new root before the SDK is asked (see RootSampling); false = no trace, no span. */
  drawRoot(): boolean
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

/**
 * A tracer provider of its own, not registered globally: cellgate may run several times in one
 * process (tests) and must not pick up or replace someone else's global provider.
 * `extraExporter` (tests: an InMemorySpanExporter) gets every span at once.
 */
export function startTracing(cfg: TelemetryConfig['tracing'], resource: Resource, extraExporter?: SpanExporter): Tracing | undefined {
  const processors: SpanProcessor[] = []
  if (cfg.exporter === 'otlp-http') {
    // Batched: an export is an HTTP request; per span it would cost more than the message.
    // The SDK's default queue (2048 spans) overflowed at 100 % sampling in telemetry-micro (about
    // 4 spans per message at thousands of messages per second) and dropped spans silently.
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: cfg.endpoint ?? DEFAULT_OTLP_TRACES_URL }), BATCH_LIMITS))
  } else if (cfg.exporter === 'console') {
    processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()))
  }
  if (extraExporter !== undefined) processors.push(new SimpleSpanProcessor(extraExporter))
  if (processors.length === 0) return undefined
  const ratio = clampRatio(cfg.sampleRatio)
  const roots = new RootSampling(ratio)
  const provider = new BasicTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    idGenerator: roots,
    spanProcessors: processors,
  })
  return {
    tracer: provider.getTracer('cellgate'),
    drawRoot: () => roots.drawRoot(),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}

function clampRatio(r: number): number {
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0
}
