import { ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { FieldTable } from '../amqp091/field-table.js'

/**
 * W3C trace context in the AMQP application headers (`traceparent`, `tracestate`), the carrier
 * the OpenTelemetry amqplib instrumentation uses too. py-amqp and amqplib both send strings as
 * longstr; a client that sends bytes ('x') is read as UTF-8.
 */
const propagator = new W3CTraceContextPropagator()

const getter: TextMapGetter<FieldTable> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key]
    if (typeof v === 'string') return v
    if (Buffer.isBuffer(v)) return v.toString('utf8')
    return undefined
  },
}

const setter: TextMapSetter<FieldTable> = {
  set: (carrier, key, value) => {
    carrier[key] = value
  },
}

/** The trace context a client (or an earlier hop) put in the headers, as a parent context. */
export function extractContext(headers: FieldTable | undefined): Context | undefined {
  if (headers === undefined || headers['traceparent'] === undefined) return undefined
  const ctx = propagator.extract(ROOT_CONTEXT, headers, getter)
  return trace.getSpanContext(ctx) === undefined ? undefined : ctx
}

export function isSampled(sc: SpanContext): boolean {
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
}

/** A copy of `headers` carrying `sc` (the client's table is never changed in place). */
export function headersWith(headers: FieldTable | undefined, sc: SpanContext): FieldTable {
  const out: FieldTable = { ...headers }
  // A stale tracestate from the client must not survive next to a new traceparent.
  delete out['tracestate']
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, sc), out, setter)
  return out
}
