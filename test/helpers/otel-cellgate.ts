// Telemetry tests: cellgate in this process with a telemetry config and, optionally, a span
// exporter of the test's own (startCellgate's telemetry hooks); a Prometheus text parser.
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { startCellgate, type RunningCellgate } from '../../app/compose.js'
import type { CellgateConfig, TelemetryConfig } from '../../app/config-types.js'
import { createLogger, silentLogger } from '../../adapters/log/logger.js'
import { testConfig } from './cellgate.js'

export interface OtelCellgate extends RunningCellgate {
  readonly url: string
  readonly spans: InMemorySpanExporter
}

export function telemetryConfig(patch: { tracing?: Partial<TelemetryConfig['tracing']>; metrics?: Partial<TelemetryConfig['metrics']> } = {}): TelemetryConfig {
  return {
    serviceName: 'cellgate-test',
    tracing: { exporter: 'none', sampleRatio: 1, ...patch.tracing },
    metrics: { prometheus: true, otlpIntervalMs: 15_000, ...patch.metrics },
  }
}

export async function startOtelCellgate(patch: Partial<CellgateConfig> = {}, withSpans = true): Promise<OtelCellgate> {
  const level = process.env['CELLGATE_TEST_LOG']
  const log = level ? createLogger({ level: level as 'debug', format: 'text' }) : silentLogger
  const spans = new InMemorySpanExporter()
  const cg = await startCellgate(testConfig({ telemetry: telemetryConfig(), ...patch }), log, withSpans ? { spanExporter: spans } : {})
  return Object.assign(cg, { url: `amqp://guest:guest@127.0.0.1:${cg.amqpPort}/`, spans })
}

/** One Prometheus sample: name, labels, value. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Text exposition format 0.0.4: comment lines skipped, `name{a="b",...} value`. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) throw new Error(`unparseable metrics line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    out.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return out
}

/** The value of the one sample named `name` whose labels include `labels` (0 when none). */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return hits[0]?.value ?? 0
}

/** Spans of one trace, with a lookup of children by parent span id. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
}
