/**
 * The storm trace format (schemas/storm-trace.schema.json): TypeScript types mirroring the schema,
 * and loading with validation. Refusals name the field as a JSON pointer (as the config loader
 * does) so a hand-edited or recorded trace is fixed without reading code. Checks a schema cannot
 * express (node indexes in range, min <= max, events in time order) are done here.
 */
import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { findProjectFile } from '../app/config.js'

export type Role = 'api' | 'conductor' | 'scheduler'
export type From = number | Role
export type Priority = 'audit' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'sample'

export interface SizeRange {
  min: number
  max: number
}

interface Addressed {
  at: number
  what?: string
  from: From
  topic: string
  sha256?: string
}

export interface CallEvent extends Addressed {
  kind: 'call'
  server?: number
  method: string
  bytes: number
  replyBytes: number
  serviceMs?: number
  timeoutMs?: number
}

export interface CastEvent extends Addressed {
  kind: 'cast'
  server?: number
  method: string
  bytes: number
}

export interface FanoutEvent extends Addressed {
  kind: 'fanout'
  method: string
  bytes: number
}

export interface NotificationEvent extends Addressed {
  kind: 'notification'
  priority: Priority
  eventType: string
  bytes: number
}

export interface LongCallEvent extends Addressed {
  kind: 'long-call'
  server?: number
  method: string
  bytes: number
  replyBytes: number
  serviceMs: number
  monitorTimeoutMs: number
  timeoutMs?: number
}

export interface HerdEvent {
  at: number
  kind: 'reconnect-herd'
  what?: string
  downMs: number
  spreadMs: number
}

export type TraceEvent = CallEvent | CastEvent | FanoutEvent | NotificationEvent | LongCallEvent | HerdEvent

export interface PeriodicRule {
  kind: 'periodic'
  what: string
  pattern: 'call' | 'cast' | 'fanout' | 'notification'
  from: 'nodes' | Role
  topic: string
  server?: 'random-node'
  method?: string
  priority?: Priority
  everyMs: number
  jitterMs?: number
  startMs?: number
  untilMs?: number
  bytes: SizeRange
  replyBytes?: SizeRange
  serviceMs?: number
}

export type ServingRole = 'nodes' | 'conductor' | 'scheduler'

export interface TraceHeader {
  nodes: number
  durationMs: number
  seed: number
  generator: string
  createdAt?: string
  note?: string
  exchange: string
  hostPrefix: string
  hosts?: string[]
  topics: { rpc: Record<string, ServingRole>; notifications: string[] }
}

export interface StormTrace {
  $schema?: string
  format: 'cellgate-storm-trace'
  version: 1
  header: TraceHeader
  rules: PeriodicRule[]
  events: TraceEvent[]
}

/** A trace refused; `field` is a JSON pointer into the document ("/events/3/server"). */
export class TraceError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`)
    this.name = 'TraceError'
  }
}

let validator: ValidateFunction | undefined

function compiled(): ValidateFunction {
  if (validator === undefined) {
    const schema = JSON.parse(readFileSync(findProjectFile('schemas/storm-trace.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>
    // allErrors off: the first error is the one reported, as for the config file.
    validator = new Ajv({ allErrors: false, strict: true, strictTypes: false, strictRequired: false }).compile(schema)
  }
  return validator
}

function schemaError(errors: readonly ErrorObject[]): TraceError {
  // if/then branches report the inner error first, then a generic "must match then": keep the inner one.
  const e = errors.find((x) => x.keyword !== 'if') ?? errors[0]
  if (e === undefined) return new TraceError('/', 'does not match the schema')
  const at = e.instancePath || ''
  const params = e.params as Record<string, unknown>
  if (e.keyword === 'additionalProperties') return new TraceError(`${at}/${String(params['additionalProperty'])}`, 'unknown property')
  if (e.keyword === 'required') return new TraceError(`${at}/${String(params['missingProperty'])}`, 'is required')
  return new TraceError(at || '/', e.message ?? 'is invalid')
}

/** Hosts of the nodes, by index: explicit (recorded) or <hostPrefix><zero-padded index>. */
export function hostsOf(h: TraceHeader): string[] {
  if (h.hosts) return h.hosts
  const width = String(Math.max(0, h.nodes - 1)).length
  return Array.from({ length: h.nodes }, (_, i) => `${h.hostPrefix}${String(i).padStart(width, '0')}`)
}

function checkSemantics(t: StormTrace): void {
  const n = t.header.nodes
  if (t.header.hosts && t.header.hosts.length !== n) throw new TraceError('/header/hosts', `lists ${t.header.hosts.length} hosts for ${n} nodes`)
  const rpc = t.header.topics.rpc
  const nodeIndex = (ptr: string, v: number | undefined): void => {
    if (v !== undefined && v >= n) throw new TraceError(ptr, `node ${v} does not exist (nodes: ${n})`)
  }
  const range = (ptr: string, r: SizeRange | undefined): void => {
    if (r && r.min > r.max) throw new TraceError(ptr, `min ${r.min} > max ${r.max}`)
  }
  t.rules.forEach((r, i) => {
    const p = `/rules/${i}`
    range(`${p}/bytes`, r.bytes)
    range(`${p}/replyBytes`, r.replyBytes)
    if (r.pattern === 'call' && r.replyBytes === undefined) throw new TraceError(`${p}/replyBytes`, 'is required for pattern call')
    if (r.pattern !== 'notification' && rpc[r.topic] === undefined) throw new TraceError(`${p}/topic`, `topic ${r.topic} is not in /header/topics/rpc`)
    if (r.server !== undefined && rpc[r.topic] !== 'nodes') throw new TraceError(`${p}/server`, `random-node needs a topic served by nodes`)
  })
  let last = 0
  t.events.forEach((e, i) => {
    const p = `/events/${i}`
    if (e.at < last) throw new TraceError(`${p}/at`, `${e.at} is before the previous event (${last}): events must be in time order`)
    last = e.at
    if (e.at >= t.header.durationMs) throw new TraceError(`${p}/at`, `${e.at} is not before /header/durationMs (${t.header.durationMs})`)
    if (e.kind === 'reconnect-herd') return
    if (typeof e.from === 'number') nodeIndex(`${p}/from`, e.from)
    if (e.kind === 'notification') return
    if (rpc[e.topic] === undefined) throw new TraceError(`${p}/topic`, `topic ${e.topic} is not in /header/topics/rpc`)
    if (e.kind !== 'fanout' && e.server !== undefined) {
      nodeIndex(`${p}/server`, e.server)
      if (rpc[e.topic] !== 'nodes') throw new TraceError(`${p}/server`, `topic ${e.topic} is not served by nodes`)
    }
  })
}

/** Validates a parsed document; returns it typed or throws a TraceError naming the field. */
export function validateTrace(doc: unknown): StormTrace {
  const v = compiled()
  if (!v(doc)) throw schemaError(v.errors ?? [])
  const t = doc as StormTrace
  checkSemantics(t)
  return t
}

export function loadTrace(file: string): StormTrace {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new TraceError('/', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new TraceError('/', `${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  return validateTrace(doc)
}

/** The label figures are grouped by. */
export function whatOf(e: TraceEvent): string {
  if (e.what !== undefined) return e.what
  if (e.kind === 'reconnect-herd') return 'reconnect-herd'
  if (e.kind === 'notification') return e.eventType
  return e.method
}
