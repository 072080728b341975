/**
 * The storm replay engine: builds the simulated deployment (N nodes, conductors, a scheduler, an
 * API process, a notification listener) on one event loop, walks the expanded trace with a single
 * shared timer, and counts everything in a StormTally. The CLI (storm-replay.ts) and the test use
 * it the same way: start(), run(), result(), close().
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { request } from './multiplex-procs.js'
import { sendPoolOf } from './multiplex-sim.js'
import { Tally } from './multiplex-tally.js'
import { expandTrace, type Firing } from './storm-schedule.js'
import { rng } from './storm-rng.js'
import { sized, StormProc, type Delivery, type StormMeta } from './storm-proc.js'
import { StormTally, type KindSummary, type LatencyAggregate, type Pattern } from './storm-tally.js'
import { hostsOf, whatOf, type From, type Priority, type Role, type ServingRole, type StormTrace } from './storm-trace.js'

export interface ReplayOptions {
  /** amqp:// URL the simulated processes connect to (a broker vhost or cellgate). */
  url: string
  conductors: number
  /** SEND connections per node, spread over [min, max] (as multiplex-bench). */
  sendPool: readonly [number, number]
  /** Default call timeout when the trace gives none (oslo rpc_response_timeout: 60 s). */
  callTimeoutMs: number
  /** After the storm, how long to wait at most for calls still out. */
  drainMs: number
  openConcurrency: number
}

export const conductorHost = (k: number): string => `storm-conductor-${k + 1}`
export const SCHEDULER_HOST = 'storm-scheduler'
export const NOTIFY_POOL = 'storm-notification-agent'
/** Fake pids, far from multiplex-bench's (400 000+) so both can share a cellgate. */
const PID_BASE = 700_000

/** Connections the deployment opens before any traffic (the broker's socket budget, direct). */
export function plannedStormConnections(trace: StormTrace, o: Pick<ReplayOptions, 'conductors' | 'sendPool'>): number {
  const rpc = Object.values(trace.header.topics.rpc)
  const served = (r: ServingRole): number => rpc.filter((x) => x === r).length
  let n = 0
  for (let i = 0; i < trace.header.nodes; i++) n += served('nodes') + 1 + sendPoolOf(i, o.sendPool) // listen(s) + reply + pool
  n += o.conductors * (served('conductor') + 2 + 1) // listen + 2 send + reply (super-conductor calls)
  n += served('scheduler') + 1 // scheduler: listen + 1 send
  n += 2 + 1 // api: 2 send + reply
  n += 1 // notification listener
  return n
}

/**
 * Around each herd, latencies measure the herd (calls wait for their node to reconnect), not the
 * bus: [herd - 1 s, herd + down + spread + 3 s) is left out of the steady-state figures.
 */
export function herdWindows(trace: StormTrace): [number, number][] {
  return trace.events.flatMap((e) => (e.kind === 'reconnect-herd' ? [[e.at - 1000, e.at + e.downMs + e.spreadMs + 3000] as [number, number]] : []))
}

export interface ReplayResult {
  setupMs: number
  stormMs: number
  drainMs: number
  connectionsOpened: number
  connectionsDropped: number
  channelErrors: number
  returned: number
  nacked: number
  strays: number
  errors: string[]
  kinds: KindSummary[]
  /** rpc: every call kind (not the long call) together; oneWay: casts, fanouts, notifications. */
  aggregates: { rpc: LatencyAggregate; oneWay: LatencyAggregate }
  totals: { sent: number; expected: number; delivered: number; lost: number; duplicated: number; timeouts: number; failed: number; misrouted: number }
}

export interface ReplayProgress {
  phase: 'connect' | 'storm' | 'drain'
  done: number
  total: number
  callsOut: number
  errors: number
}

type Sub = { what: string; pattern: Pattern; from: From; topic: string; server?: number; method: string; bytes: number; replyBytes?: number; serviceMs?: number; timeoutMs?: number; monitorMs?: number; priority?: Priority; eventType?: string; periodic?: string }

export class StormReplay {
  readonly tally = new StormTally()
  private readonly conns = new Tally()
  private readonly hosts: string[]
  private readonly nodes: StormProc[] = []
  private readonly conductors: StormProc[] = []
  private scheduler: StormProc | undefined
  private api: StormProc | undefined
  private listener: StormProc | undefined
  private readonly firings: Firing[]
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly busy = new Set<string>()
  private pids = 0
  private rr = 0
  private phase: ReplayProgress['phase'] = 'connect'
  private opened = 0
  private cursor = 0
  private setupMs = 0
  private stormMs = 0
  private drainMs = 0

  constructor(
    private readonly trace: StormTrace,
    private readonly o: ReplayOptions,
  ) {
    this.hosts = hostsOf(trace.header)
    this.firings = expandTrace(trace)
  }

  get plannedMessages(): number {
    return this.firings.length
  }

  progress(): ReplayProgress {
    const p = this.phase
    return {
      phase: p,
      done: p === 'connect' ? this.opened : p === 'storm' ? this.cursor : this.firings.length - this.tally.callsOut,
      total: p === 'connect' ? this.trace.header.nodes : this.firings.length,
      callsOut: this.tally.callsOut,
      errors: this.conns.errorSamples.length + this.tally.errors.length,
    }
  }

  private proc(program: string, pool: number): StormProc {
    return new StormProc(this.o.url, this.conns, program, PID_BASE + this.pids++, pool, this.trace.header.exchange)
  }

  private topicsOf(role: ServingRole): string[] {
    return Object.entries(this.trace.header.topics.rpc)
      .filter(([, r]) => r === role)
      .map(([t]) => t)
  }

  /** What a server does with a delivery: count it (receiver key `who`) and answer calls. */
  private serve(p: StormProc, who: string) {
    return (d: Delivery): void => {
      const m = d.meta
      if (m === undefined) {
        this.tally.strays++
        return
      }
      const isCall = typeof d.body['_reply_q'] === 'string'
      // Anycast deliveries of a group count once per group; fanout and T.<host> per receiver.
      const key = d.kind === 'anycast' && !who.startsWith('n') ? who.replace(/\d+$/u, '') : who
      this.tally.delivered(m.id, isCall ? `srv:${key}` : key, isCall ? undefined : performance.now() - m.t0)
      if (isCall) p.reply(d.body, m)
    }
  }

  private lateReply(body: Record<string, unknown>): void {
    const s = body['storm'] as StormMeta | undefined
    if (body['ending'] !== false && s !== undefined) this.tally.duplicateReply(s.id)
  }

  async start(): Promise<void> {
    const t0 = performance.now()
    for (let k = 0; k < this.o.conductors; k++) {
      const p = this.proc('nova-conductor', 2)
      await p.openPool()
      for (const t of this.topicsOf('conductor')) await p.listen(t, conductorHost(k), this.serve(p, `c${k}`))
      p.onUnmatchedReply = (b) => this.lateReply(b)
      this.conductors.push(p)
    }
    this.scheduler = this.proc('nova-scheduler', 1)
    await this.scheduler.openPool()
    for (const t of this.topicsOf('scheduler')) await this.scheduler.listen(t, SCHEDULER_HOST, this.serve(this.scheduler, 's0'))
    this.listener = this.proc('ceilometer-agent-notification', 0)
    const keys = this.trace.header.topics.notifications.flatMap((t) => ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'].map((p) => `${t}.${p}`))
    await this.listener.listenNotifications(NOTIFY_POOL, keys, (_b, m) => {
      if (m === undefined) this.tally.strays++
      else this.tally.delivered(m.id, 'listener', performance.now() - m.t0)
    })
    this.api = this.proc('nova-api', 2)
    await this.api.openPool()
    this.api.onUnmatchedReply = (b) => this.lateReply(b)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < this.trace.header.nodes) {
        const i = next++
        const p = this.proc('nova-compute', sendPoolOf(i, this.o.sendPool))
        this.nodes[i] = p
        for (const t of this.topicsOf('nodes')) await p.listen(t, this.hosts[i]!, this.serve(p, `n${i}`))
        await p.openPool()
        p.onUnmatchedReply = (b) => this.lateReply(b)
        this.opened++
      }
    }
    await Promise.all(Array.from({ length: this.o.openConcurrency }, worker))
    this.setupMs = performance.now() - t0
  }

  private source(from: From, topic: string): StormProc {
    if (typeof from === 'number') return this.nodes[from]!
    if (from === 'api') return this.api!
    if (from === 'scheduler') return this.scheduler!
    // The scheduler is called by the super-conductor (conductor 1, in the scheduler's cell), as in
    // nova with cells; a cell conductor's anycast to the scheduler would stay in its own cell.
    if (this.trace.header.topics.rpc[topic] === 'scheduler') return this.conductors[0]!
    return this.conductors[this.rr++ % this.conductors.length]!
  }

  private receivers(topic: string): { n: number; key: (i: number) => string } {
    const role = this.trace.header.topics.rpc[topic]
    if (role === 'nodes') return { n: this.nodes.length, key: (i) => `n${i}` }
    if (role === 'conductor') return { n: this.conductors.length, key: (i) => `c${i}` }
    return { n: 1, key: () => 's0' }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.tally.error(err instanceof Error ? err.message : String(err)))
    this.inFlight.add(q)
    void q.finally(() => this.inFlight.delete(q))
  }

  private subOf(f: Firing): Sub | 'herd' {
    if (f.type === 'rule') {
      const r = this.trace.rules[f.rule]!
      return {
        what: r.what, pattern: r.pattern, from: f.from, topic: r.topic, method: r.method ?? r.what, bytes: f.bytes, periodic: `${f.rule}|${String(f.from)}`,
        ...(f.server !== undefined ? { server: f.server } : {}),
        ...(f.replyBytes !== undefined ? { replyBytes: f.replyBytes } : {}),
        ...(r.serviceMs !== undefined ? { serviceMs: r.serviceMs } : {}),
        priority: r.priority ?? 'info', eventType: r.method ?? r.what,
      }
    }
    const e = this.trace.events[f.event]!
    if (e.kind === 'reconnect-herd') return 'herd'
    const base = { what: whatOf(e), from: e.from, topic: e.topic, bytes: e.bytes }
    switch (e.kind) {
      case 'call': return { ...base, pattern: 'call', method: e.method, replyBytes: e.replyBytes, ...(e.server !== undefined ? { server: e.server } : {}), ...(e.serviceMs !== undefined ? { serviceMs: e.serviceMs } : {}), ...(e.timeoutMs !== undefined ? { timeoutMs: e.timeoutMs } : {}) }
      case 'long-call': return { ...base, pattern: 'long-call', method: e.method, replyBytes: e.replyBytes, serviceMs: e.serviceMs, monitorMs: e.monitorTimeoutMs, timeoutMs: e.timeoutMs ?? e.serviceMs + 60_000, ...(e.server !== undefined ? { server: e.server } : {}) }
      case 'cast': return { ...base, pattern: 'cast', method: e.method, ...(e.server !== undefined ? { server: e.server } : {}) }
      case 'fanout': return { ...base, pattern: 'fanout', method: e.method }
      case 'notification': return { ...base, pattern: 'notification', method: e.eventType, priority: e.priority, eventType: e.eventType }
    }
  }

  private herd(f: Firing): void {
    const e = f.type === 'event' ? this.trace.events[f.event] : undefined
    if (e === undefined || e.kind !== 'reconnect-herd') return
    this.nodes.forEach((n, i) => {
      const delay = e.downMs + rng(this.trace.header.seed, 0x4e4d, i).uniform(0, e.spreadMs)
      this.track(n.herd(delay).then((ms) => this.tally.reconnected(ms, e.at)))
    })
  }

  private fire(f: Firing): void {
    const s = this.subOf(f)
    if (s === 'herd') return this.herd(f)
    const p = this.source(s.from, s.topic)
    const rk = s.server !== undefined ? `${s.topic}.${this.hosts[s.server]}` : s.topic
    const t0 = performance.now()
    if (s.pattern === 'call' || s.pattern === 'long-call') {
      if (s.periodic !== undefined) {
        // oslo's looping calls block: a report_state still out delays the next one.
        if (this.busy.has(s.periodic)) return this.tally.skipped(s.what, s.pattern)
        this.busy.add(s.periodic)
      }
      const id = this.tally.begin(s.what, s.pattern, 1, s.bytes, f.at, s.server !== undefined ? `srv:n${s.server}` : undefined)
      const meta: StormMeta = { id, t0, replyBytes: s.replyBytes ?? 0, serviceMs: s.serviceMs ?? 0 }
      this.track(
        p
          .call(rk, s.method, s.bytes, meta, {
            timeoutMs: s.timeoutMs ?? this.o.callTimeoutMs,
            ...(s.monitorMs !== undefined ? { monitorMs: s.monitorMs, onHeartbeat: (gap: number) => this.tally.heartbeat(id, gap) } : {}),
            onPublished: () => this.tally.published(id),
          })
          .then(
            (ok) => (ok ? this.tally.answered(id, performance.now() - t0) : this.tally.timedOut(id)),
            (err: unknown) => this.tally.failed(id, err),
          )
          .finally(() => s.periodic !== undefined && this.busy.delete(s.periodic)),
      )
      return
    }
    if (s.pattern === 'notification') {
      const id = this.tally.begin(s.what, 'notification', 1, s.bytes, f.at)
      const publisher = typeof s.from === 'number' ? `compute.${this.hosts[s.from]}` : `${s.from}.storm`
      const body = sized(
        (pad) => ({
          message_id: randomUUID(), publisher_id: publisher, event_type: s.eventType, priority: (s.priority ?? 'info').toUpperCase(),
          payload: { pad }, timestamp: new Date().toISOString().replace('T', ' ').replace('Z', ''), _unique_id: randomUUID().replace(/-/gu, ''), storm: { id, t0 },
        }),
        s.bytes,
      )
      this.track(p.notify(`${s.topic}.${s.priority ?? 'info'}`, body).then(() => this.tally.published(id), (err: unknown) => this.tally.failed(id, err)))
      return
    }
    const fanout = s.pattern === 'fanout'
    const recv = this.receivers(s.topic)
    const id = fanout
      ? this.tally.begin(s.what, 'fanout', recv.n, s.bytes, f.at)
      : this.tally.begin(s.what, 'cast', 1, s.bytes, f.at, s.server !== undefined ? `n${s.server}` : undefined)
    const body = sized((pad) => request(s.method, { storm: { id, t0 }, pad }), s.bytes)
    const sent = fanout ? p.publish(`${s.topic}_fanout`, 'fanout', '', body) : p.publish(this.trace.header.exchange, 'topic', rk, body)
    this.track(sent.then(() => this.tally.published(id), (err: unknown) => this.tally.failed(id, err)))
  }

  /** Replays the storm on one shared timer, then waits for what is still out (at most drainMs). */
  async run(): Promise<void> {
    this.phase = 'storm'
    const t0 = performance.now()
    const D = this.trace.header.durationMs
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now() - t0
        while (this.cursor < this.firings.length && this.firings[this.cursor]!.at <= now) this.fire(this.firings[this.cursor++]!)
        if (now >= D) {
          clearInterval(tick)
          resolve()
        }
      }, 5)
    })
    this.stormMs = performance.now() - t0
    this.phase = 'drain'
    const d0 = performance.now()
    while (this.inFlight.size > 0 && performance.now() - d0 < this.o.drainMs) await new Promise((r) => setTimeout(r, 50))
    // Casts and fanouts confirmed last may still be on their way to consumers.
    await new Promise((r) => setTimeout(r, 1000))
    this.drainMs = performance.now() - d0
  }

  result(): ReplayResult {
    const kinds = this.tally.summary(this.trace.header.durationMs / 1000, herdWindows(this.trace))
    // About 60 points over the storm, at least 1 s each.
    const bucket = Math.max(1000, Math.round(this.trace.header.durationMs / 60 / 1000) * 1000)
    const sum = (f: (k: KindSummary) => number): number => kinds.filter((k) => k.pattern !== 'reconnect-herd').reduce((a, k) => a + f(k), 0)
    return {
      setupMs: Math.round(this.setupMs),
      stormMs: Math.round(this.stormMs),
      drainMs: Math.round(this.drainMs),
      connectionsOpened: this.conns.connectionsOpened,
      connectionsDropped: this.conns.connectionsDropped,
      channelErrors: this.conns.channelErrors,
      returned: this.conns.returned,
      nacked: this.conns.nacked,
      strays: this.tally.strays + this.conns.strays,
      errors: [...this.conns.errorSamples, ...this.tally.errors],
      kinds,
      aggregates: {
        rpc: this.tally.aggregate(['call'], herdWindows(this.trace), bucket),
        oneWay: this.tally.aggregate(['cast', 'fanout', 'notification'], herdWindows(this.trace), bucket),
      },
      totals: {
        sent: sum((k) => k.sent),
        expected: sum((k) => k.expected),
        delivered: sum((k) => k.delivered),
        lost: sum((k) => k.lost),
        duplicated: sum((k) => k.duplicated),
        timeouts: sum((k) => k.timeouts),
        failed: sum((k) => k.failed),
        misrouted: sum((k) => k.misrouted),
      },
    }
  }

  /** Closes every simulated connection, a few processes at a time (closing is a storm too). */
  async close(): Promise<void> {
    const all = [...this.nodes, ...this.conductors, this.scheduler, this.api, this.listener].filter((p): p is StormProc => p !== undefined)
    const worker = async (): Promise<void> => {
      for (let p = all.pop(); p !== undefined; p = all.pop()) await p.close()
    }
    await Promise.all(Array.from({ length: 16 }, worker))
  }
}

export type { Role }
