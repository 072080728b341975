/**
 * Records what passes through cellgate as a storm trace (schemas/storm-trace.schema.json), so an
 * operator can replay a production storm with bench/storm-replay.ts: sizes and timing only, each
 * payload reduced to a keyed hash (HMAC-SHA-256 with a key drawn per recording and never
 * stored, so short payloads cannot be guessed back). One more MessageObserver: it keeps what it
 * needs at publishReceived and returns no observation, so the hot path pays one envelope parse
 * per publish while recording and nothing otherwise.
 *
 * Who sent what is the process (peer address + the pid in connection_name, as routing keys
 * processes); a process is a node when routing learned its host and its program is not a
 * controller's (nova-conductor, nova-scheduler, nova-api). Replies are not events: they are
 * joined to their call by _msg_id (reply size, server time, heartbeats of a long call).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'
import type { ConnectionIdentity } from '../amqp091/routing-port.js'
import type { DeliveryFacts, MessageObserver, PublishFacts, PublishObservation } from '../amqp091/observer-port.js'
import type { Logger } from '../log/logger.js'
import { osloFields } from './oslo-envelope.js'

export interface RecorderOptions {
  /** Where the trace is written when the recording ends. */
  file: string
  /** The recording ends by itself after this many seconds. */
  maxSeconds: number
  /** Publishes kept at most; later ones are counted as dropped. */
  maxEvents: number
  /** Write host-0000... instead of the real host names. */
  pseudonymizeHosts: boolean
}

export interface RecorderDeps {
  /** The host routing learned for a process key (peer|pid), if any. */
  hostOfProcess(key: string): string | undefined
  log: Logger
}

type Role = 'api' | 'conductor' | 'scheduler'
type Kind = 'call' | 'long-call' | 'cast' | 'fanout' | 'notification'

interface Raw {
  atMs: number
  kind: Kind
  proc: string
  program: string
  topic: string
  host?: string
  method: string
  bytes: number
  sha256: string
  priority?: string
  eventType?: string
  monitorMs?: number
  replyBytes?: number
  serviceMs?: number
  heartbeats: number
}

const PRIORITIES = new Set(['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'])
const NAME = /^[A-Za-z0-9_.:@-]{1,200}$/u

function roleOfProgram(program: string): Role | undefined {
  if (/conductor/u.test(program)) return 'conductor'
  if (/scheduler/u.test(program)) return 'scheduler'
  if (/api/u.test(program)) return 'api'
  return undefined
}

function roleOfTopic(topic: string): 'nodes' | 'conductor' | 'scheduler' {
  if (/conductor/u.test(topic)) return 'conductor'
  if (/scheduler/u.test(topic)) return 'scheduler'
  return 'nodes'
}

/** The JSON document of a recorded trace (validated by bench/storm-trace.ts when loaded). */
export type RecordedTrace = Record<string, unknown> & { header: Record<string, unknown>; events: Record<string, unknown>[] }

export class StormRecorder implements MessageObserver {
  private readonly t0 = process.hrtime.bigint()
  private readonly startedAt = new Date()
  private readonly key = randomBytes(32)
  private readonly conns = new Map<string, { proc: string; program: string }>()
  private readonly raw: Raw[] = []
  private readonly calls = new Map<string, Raw>()
  private readonly exchanges = new Map<string, number>()
  private recording = true
  private written: Promise<string | undefined> | undefined
  private readonly timer: NodeJS.Timeout
  dropped = 0

  constructor(
    private readonly o: RecorderOptions,
    private readonly deps: RecorderDeps,
  ) {
    this.timer = setTimeout(() => void this.stop(), o.maxSeconds * 1000)
    this.timer.unref()
    deps.log.info('recording a storm trace', { file: o.file, max_seconds: o.maxSeconds, max_events: o.maxEvents })
  }

  /** A client connection said who it is (composed in front of the routing port's forConnection). */
  connectionIdentified(identity: ConnectionIdentity): void {
    const name = identity.clientProperties['connection_name']
    const parts = typeof name === 'string' ? name.split(':') : []
    const pid = parts.length >= 3 ? parts[parts.length - 2] : undefined
    const proc = pid !== undefined && /^\d+$/u.test(pid) ? `${identity.peerAddress}|${pid}` : `conn|${identity.id}`
    this.conns.set(identity.id, { proc, program: parts[0] ?? '' })
  }

  publishReceived(p: PublishFacts): PublishObservation | undefined {
    if (this.recording) this.record(p)
    return undefined
  }

  deliverySent(_d: DeliveryFacts): void {}
  clientConnections(): void {}
  clientChannels(): void {}

  private record(p: PublishFacts): void {
    const atMs = Number(p.receivedAt - this.t0) / 1e6
    if (atMs > this.o.maxSeconds * 1000) return void this.stop()
    const f = osloFields(p.body)
    if (p.exchange === '' && p.routingKey.startsWith('reply_')) {
      const call = f?.msgId !== undefined ? this.calls.get(f.msgId) : undefined
      if (call === undefined) return
      if (f?.ending === false) {
        call.heartbeats++
        return
      }
      call.replyBytes = p.body.length
      call.serviceMs = Math.max(0, Math.round(atMs - call.atMs))
      this.calls.delete(f!.msgId!)
      return
    }
    if (this.raw.length >= this.o.maxEvents) {
      if (this.dropped++ === 0) this.deps.log.warn('recording full: later publishes are not recorded', { max_events: this.o.maxEvents })
      return
    }
    const who = this.conns.get(p.connection) ?? { proc: `conn|${p.connection}`, program: '' }
    const base = { atMs, proc: who.proc, program: who.program, bytes: p.body.length, sha256: createHmac('sha256', this.key).update(p.body).digest('hex'), heartbeats: 0 }
    if (p.exchange.endsWith('_fanout')) {
      this.raw.push({ ...base, kind: 'fanout', topic: p.exchange.slice(0, -'_fanout'.length), method: f?.method ?? 'unknown' })
      return
    }
    const dot = p.routingKey.indexOf('.')
    const head = dot > 0 ? p.routingKey.slice(0, dot) : p.routingKey
    const tail = dot > 0 ? p.routingKey.slice(dot + 1) : undefined
    if (f?.eventType !== undefined && tail !== undefined && PRIORITIES.has(tail)) {
      this.raw.push({ ...base, kind: 'notification', topic: head, method: f.eventType, priority: tail, eventType: f.eventType })
      return
    }
    if (p.exchange === '') return // a direct publish to a queue that is not a reply: not oslo RPC
    this.exchanges.set(p.exchange, (this.exchanges.get(p.exchange) ?? 0) + 1)
    const ev: Raw = { ...base, kind: f?.replyQ !== undefined ? (f.timeout !== undefined ? 'long-call' : 'call') : 'cast', topic: head, method: f?.method ?? 'unknown', ...(tail !== undefined ? { host: tail } : {}) }
    if (f?.timeout !== undefined) ev.monitorMs = Math.max(100, Math.round(f.timeout * 1000))
    if (f?.replyQ !== undefined && f.msgId !== undefined) this.calls.set(f.msgId, ev)
    this.raw.push(ev)
  }

  get recordedEvents(): number {
    return this.raw.length
  }

  /** The recording so far as a trace document. */
  trace(): RecordedTrace {
    const nowMs = Number(process.hrtime.bigint() - this.t0) / 1e6
    const procHost = new Map<string, string>()
    const roleOf = new Map<string, Role | 'node'>()
    for (const r of this.raw) {
      if (roleOf.has(r.proc)) continue
      const host = r.proc.startsWith('conn|') ? undefined : this.deps.hostOfProcess(r.proc)
      const role = roleOfProgram(r.program)
      if (role === undefined && host !== undefined && NAME.test(host)) {
        roleOf.set(r.proc, 'node')
        procHost.set(r.proc, host)
      } else roleOf.set(r.proc, role ?? 'api')
    }
    const hosts: string[] = []
    const index = new Map<string, number>()
    const nodeOf = (h: string): number => {
      let i = index.get(h)
      if (i === undefined) {
        index.set(h, (i = hosts.length))
        hosts.push(h)
      }
      return i
    }
    for (const h of procHost.values()) nodeOf(h)
    const rpc: Record<string, 'nodes' | 'conductor' | 'scheduler'> = {}
    const notifications = new Set<string>()
    const events: Record<string, unknown>[] = []
    for (const r of [...this.raw].sort((a, b) => a.atMs - b.atMs)) {
      if (!NAME.test(r.topic) || !NAME.test(r.method)) continue
      const role = roleOf.get(r.proc)!
      const from = role === 'node' ? nodeOf(procHost.get(r.proc)!) : role
      const at = Math.floor(r.atMs)
      const common = { at, kind: r.kind, from, topic: r.topic }
      if (r.kind === 'notification') {
        notifications.add(r.topic)
        events.push({ ...common, priority: r.priority, eventType: r.eventType, bytes: r.bytes, sha256: r.sha256 })
        continue
      }
      const served = (rpc[r.topic] ??= roleOfTopic(r.topic))
      const server = served === 'nodes' && r.host !== undefined && NAME.test(r.host) ? { server: nodeOf(r.host) } : {}
      if (r.kind === 'fanout' || r.kind === 'cast') {
        events.push({ ...common, ...(r.kind === 'cast' ? server : {}), method: r.method, bytes: r.bytes, sha256: r.sha256 })
        continue
      }
      const service = r.serviceMs ?? Math.max(0, Math.round(nowMs - r.atMs))
      if (r.kind === 'long-call') events.push({ ...common, ...server, method: r.method, bytes: r.bytes, replyBytes: r.replyBytes ?? 0, serviceMs: service, monitorTimeoutMs: r.monitorMs ?? 100, sha256: r.sha256 })
      else events.push({ ...common, ...server, method: r.method, bytes: r.bytes, replyBytes: r.replyBytes ?? 0, ...(r.serviceMs !== undefined ? { serviceMs: r.serviceMs } : {}), sha256: r.sha256 })
    }
    const exchange = [...this.exchanges.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'openstack'
    const width = String(Math.max(0, hosts.length - 1)).length
    const shownHosts = this.o.pseudonymizeHosts ? hosts.map((_, i) => `host-${String(i).padStart(width, '0')}`) : hosts
    const last = events.length ? (events[events.length - 1]!['at'] as number) : 0
    return {
      format: 'cellgate-storm-trace',
      version: 1,
      header: {
        nodes: Math.max(1, hosts.length),
        durationMs: Math.max(1, Math.ceil(nowMs), last + 1),
        seed: 0,
        generator: 'cellgate-recorder/1',
        createdAt: new Date().toISOString(),
        note: `recorded by cellgate from ${this.startedAt.toISOString()}: ${events.length} publishes${this.dropped ? `, ${this.dropped} more not recorded (maxEvents)` : ''}; payloads reduced to HMAC-SHA-256 with a discarded key`,
        exchange,
        hostPrefix: 'host-',
        ...(hosts.length ? { hosts: shownHosts } : {}),
        topics: { rpc, notifications: [...notifications] },
      },
      rules: [],
      events,
    }
  }

  /** Ends the recording and writes the trace (once; later calls return the same promise). */
  stop(): Promise<string | undefined> {
    this.written ??= (async () => {
      this.recording = false
      clearTimeout(this.timer)
      try {
        const doc = this.trace()
        const tmp = `${this.o.file}.tmp-${process.pid}`
        writeFileSync(tmp, `${JSON.stringify(doc)}\n`)
        renameSync(tmp, this.o.file)
        this.deps.log.info('storm trace written', { file: this.o.file, events: doc.events.length, nodes: doc.header['nodes'] as number, dropped: this.dropped })
        return this.o.file
      } catch (err) {
        this.deps.log.error('could not write the storm trace', { file: this.o.file, err: (err as Error).message })
        return undefined
      }
    })()
    return this.written
  }
}
