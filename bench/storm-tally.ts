/**
 * What the storm replay counts, per message kind (`what`): every message by id and by expected
 * receiver, so lost and duplicated deliveries are exact; latencies (publish → delivery for
 * casts, fanouts and notifications, publish → final reply for calls); call outcomes.
 */
import { quantileSorted } from './stats.js'

export type Pattern = 'call' | 'long-call' | 'cast' | 'fanout' | 'notification' | 'reconnect-herd'

export interface KindSummary {
  what: string
  pattern: Pattern
  /** Messages published and confirmed (calls: requests; herd: node reconnects). */
  sent: number
  /** The publish failed (nack, closed channel): never on the bus. */
  failed: number
  /** Periodic calls not fired because the same source's previous one was still out. */
  skipped: number
  /** Deliveries expected (sent × receivers; calls: one final reply each). */
  expected: number
  delivered: number
  lost: number
  duplicated: number
  /** Deliveries to a node other than the addressed one. */
  misrouted: number
  timeouts: number
  /** Long calls: heartbeats received, and the longest silence between messages (ms). */
  heartbeats?: number
  maxGapMs?: number
  bytes: number
  /** Deliveries (or answered calls) per second of storm. */
  throughput: number
  latencyMs: LatencyFigures
  /** Only messages started outside the herd windows: the bus in steady state. */
  latencySteadyMs: LatencyFigures
  /** By 5 s of storm (by start time), for plots of percentiles over time. */
  latencyBy5s: ({ fromS: number } & LatencyFigures)[]
  /** Latency counts per bucket of HIST_EDGES_MS (the distribution, for plots). */
  histogram: number[]
}

/** Several kinds' latencies together (e.g. every RPC call), finer in time, for the goals and plots. */
export interface LatencyAggregate {
  patterns: Pattern[]
  latencyMs: LatencyFigures
  latencySteadyMs: LatencyFigures
  bucketMs: number
  overTime: ({ fromS: number } & LatencyFigures)[]
  histogram: number[]
}

/**
 * Upper bucket edges of the latency histograms, ms: 20 per decade from 0.1 ms to 1000 s (log
 * spaced, so a 1 ms and a 10 s tail are both visible); the last bucket takes anything above.
 */
export const HIST_EDGES_MS: readonly number[] = Array.from({ length: 141 }, (_, i) => Number((0.1 * 10 ** (i / 20)).toPrecision(4)))

export function histogramOf(xs: readonly number[]): number[] {
  const counts = new Array<number>(HIST_EDGES_MS.length + 1).fill(0)
  for (const x of xs) {
    // Binary search of the first edge >= x.
    let lo = 0
    let hi = HIST_EDGES_MS.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (HIST_EDGES_MS[mid]! >= x) hi = mid
      else lo = mid + 1
    }
    counts[lo]!++
  }
  return counts
}

export interface LatencyFigures {
  n: number
  p50: number
  p95: number
  p99: number
  max: number
}

/** [from, to) in ms of storm. */
export type Window = readonly [number, number]

function figures(xs: readonly number[]): LatencyFigures {
  const s = [...xs].sort((x, y) => x - y)
  const q = (p: number): number => Number(quantileSorted(s, p).toFixed(2))
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? Number(s[s.length - 1]!.toFixed(2)) : Number.NaN }
}

interface Msg {
  kind: Kind
  receivers: number
  /** Delivery counts by receiver key. */
  seen: Map<string, number>
  answered: boolean
  timedOut: boolean
  /** When it was started, ms of storm. */
  startMs: number
  /** Receiver key that must get it (casts to T.<host>), for the misrouting check. */
  only?: string
}

class Kind {
  sent = 0
  failed = 0
  skipped = 0
  timeouts = 0
  misrouted = 0
  bytes = 0
  heartbeats = 0
  maxGapMs = 0
  duplicateReplies = 0
  readonly latencies: number[] = []
  /** Start (ms of storm) of each latency sample, same index. */
  readonly starts: number[] = []
  sample(ms: number, startMs: number): void {
    this.latencies.push(ms)
    this.starts.push(startMs)
  }
  constructor(
    readonly what: string,
    readonly pattern: Pattern,
  ) {}
}

function byBucket(latencies: readonly number[], starts: readonly number[], bucketMs = 5000): KindSummary['latencyBy5s'] {
  const buckets = new Map<number, number[]>()
  latencies.forEach((ms, i) => {
    const b = Math.max(0, Math.floor(starts[i]! / bucketMs))
    const xs = buckets.get(b) ?? []
    buckets.set(b, xs)
    xs.push(ms)
  })
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, xs]) => ({ fromS: (b * bucketMs) / 1000, ...figures(xs) }))
}

export class StormTally {
  private readonly kinds = new Map<string, Kind>()
  private readonly msgs = new Map<string, Msg>()
  private seq = 0
  readonly errors: string[] = []
  /** Deliveries whose id is unknown (not ours, or unparseable). */
  strays = 0

  kind(what: string, pattern: Pattern): Kind {
    let k = this.kinds.get(what)
    if (k === undefined) this.kinds.set(what, (k = new Kind(what, pattern)))
    return k
  }

  error(text: string): void {
    if (this.errors.length < 12 && !this.errors.includes(text)) this.errors.push(text)
  }

  /** A new message id, registered before publishing (a delivery may beat the confirm). */
  begin(what: string, pattern: Pattern, receivers: number, bytes: number, startMs: number, only?: string): string {
    const id = `m${++this.seq}`
    const k = this.kind(what, pattern)
    k.bytes += bytes
    this.msgs.set(id, { kind: k, receivers, seen: new Map(), answered: false, timedOut: false, startMs, ...(only !== undefined ? { only } : {}) })
    return id
  }

  published(id: string): void {
    const m = this.msgs.get(id)
    if (m) m.kind.sent++
  }

  failed(id: string, err: unknown): void {
    const m = this.msgs.get(id)
    if (!m) return
    m.kind.failed++
    this.msgs.delete(id)
    this.error(`${m.kind.what}: publish failed: ${err instanceof Error ? err.message : String(err)}`)
  }

  skipped(what: string, pattern: Pattern): void {
    this.kind(what, pattern).skipped++
  }

  /** A one-way delivery (cast, fanout, notification) or a request reaching its server. */
  delivered(id: string, receiver: string, latencyMs: number | undefined): void {
    const m = this.msgs.get(id)
    if (m === undefined) {
      this.strays++
      return
    }
    const n = (m.seen.get(receiver) ?? 0) + 1
    m.seen.set(receiver, n)
    if (m.only !== undefined && receiver !== m.only) m.kind.misrouted++
    if (n === 1 && latencyMs !== undefined) m.kind.sample(latencyMs, m.startMs)
  }

  answered(id: string, latencyMs: number): void {
    const m = this.msgs.get(id)
    if (m === undefined) return
    if (m.answered) {
      m.kind.duplicateReplies++
      return
    }
    m.answered = true
    m.kind.sample(latencyMs, m.startMs)
  }

  duplicateReply(id: string): void {
    const m = this.msgs.get(id)
    if (m) m.kind.duplicateReplies++
  }

  timedOut(id: string): void {
    const m = this.msgs.get(id)
    if (m === undefined || m.answered) return
    m.timedOut = true
    m.kind.timeouts++
  }

  heartbeat(id: string, gapMs: number): void {
    const m = this.msgs.get(id)
    if (!m) return
    m.kind.heartbeats++
    m.kind.maxGapMs = Math.max(m.kind.maxGapMs, gapMs)
  }

  gap(id: string, gapMs: number): void {
    const m = this.msgs.get(id)
    if (m) m.kind.maxGapMs = Math.max(m.kind.maxGapMs, gapMs)
  }

  /** A herd reconnect of one node finished after `ms`. */
  reconnected(ms: number, herdAtMs: number): void {
    const k = this.kind('reconnect-herd', 'reconnect-herd')
    k.sent++
    k.sample(ms, herdAtMs)
  }

  get callsOut(): number {
    let n = 0
    for (const m of this.msgs.values()) if ((m.kind.pattern === 'call' || m.kind.pattern === 'long-call') && !m.answered && !m.timedOut) n++
    return n
  }

  /** `herds`: windows whose messages are left out of latencySteadyMs. */
  summary(seconds: number, herds: readonly Window[] = []): KindSummary[] {
    const acc = new Map<Kind, { expected: number; delivered: number; lost: number; duplicated: number }>()
    for (const m of this.msgs.values()) {
      const a = acc.get(m.kind) ?? { expected: 0, delivered: 0, lost: 0, duplicated: 0 }
      acc.set(m.kind, a)
      const isCall = m.kind.pattern === 'call' || m.kind.pattern === 'long-call'
      if (isCall) {
        a.expected++
        if (m.answered) a.delivered++
        else a.lost++
        // A request its server received twice is a duplicate even if one reply came back.
        for (const n of m.seen.values()) a.duplicated += n - 1
        continue
      }
      a.expected += m.receivers
      for (const n of m.seen.values()) {
        a.delivered += n
        a.duplicated += n - 1
      }
      a.lost += m.receivers - Math.min(m.receivers, m.seen.size)
    }
    return [...this.kinds.values()].map((k) => {
      const a = acc.get(k) ?? { expected: 0, delivered: 0, lost: 0, duplicated: 0 }
      const isCall = k.pattern === 'call' || k.pattern === 'long-call'
      return {
        what: k.what,
        pattern: k.pattern,
        sent: k.sent,
        failed: k.failed,
        skipped: k.skipped,
        expected: k.pattern === 'reconnect-herd' ? k.sent : a.expected,
        delivered: k.pattern === 'reconnect-herd' ? k.sent : a.delivered,
        lost: a.lost,
        duplicated: a.duplicated + k.duplicateReplies,
        misrouted: k.misrouted,
        timeouts: k.timeouts,
        ...(k.pattern === 'long-call' ? { heartbeats: k.heartbeats, maxGapMs: Number(k.maxGapMs.toFixed(1)) } : {}),
        bytes: k.bytes,
        throughput: Number(((isCall ? a.delivered : a.delivered) / seconds).toFixed(2)),
        latencyMs: figures(k.latencies),
        latencySteadyMs: figures(k.latencies.filter((_, i) => !herds.some(([a, b]) => k.starts[i]! >= a && k.starts[i]! < b))),
        latencyBy5s: byBucket(k.latencies, k.starts),
        histogram: histogramOf(k.latencies),
      }
    })
  }

  /** The latencies of every kind with one of `patterns`, together. */
  aggregate(patterns: readonly Pattern[], herds: readonly Window[], bucketMs: number): LatencyAggregate {
    const lat: number[] = []
    const starts: number[] = []
    for (const k of this.kinds.values()) {
      if (!patterns.includes(k.pattern)) continue
      lat.push(...k.latencies)
      starts.push(...k.starts)
    }
    const inHerd = (i: number): boolean => herds.some(([a, b]) => starts[i]! >= a && starts[i]! < b)
    return {
      patterns: [...patterns],
      latencyMs: figures(lat),
      latencySteadyMs: figures(lat.filter((_, i) => !inHerd(i))),
      bucketMs,
      overTime: byBucket(lat, starts, bucketMs),
      histogram: histogramOf(lat),
    }
  }
}
