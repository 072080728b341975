/**
 * What the simulated deployment counts while it runs: connections, calls, and every cast and
 * fanout by id, so loss, duplication and misrouting can be checked exactly at the end.
 */
import { summarize, type LatencySummary } from './stats.js'

export interface TallySummary {
  connectionsOpened: number
  /** Connections the peer closed or broke while the benchmark still used them. */
  connectionsDropped: number
  channelErrors: number
  /** First few error texts, verbatim, for the report. */
  errorSamples: string[]
  calls: {
    started: number
    completed: number
    timeouts: number
    /** The request publish itself failed (nack, closed channel). */
    failed: number
    /** Ticks skipped because the node's previous call had not returned yet. */
    skippedTicks: number
    latencyMs: LatencySummary
    /** Calls started 5 s or more after the load began: without the cold start of every process's first calls. */
    latencySteadyMs: LatencySummary
    /** Per 5 s of the load (by call start): p50/p99/max, to tell steady slowness from stalls. */
    latencyBy5s: { fromS: number; n: number; p50: number; p99: number; max: number }[]
    /** Replies for a call that had already completed. */
    duplicateReplies: number
    /** Replies for a call that had already timed out. */
    lateReplies: number
    /** Requests a conductor received more than once (same _unique_id). */
    duplicateRequests: number
  }
  casts: DeliveryCheck & { misrouted: number }
  computeFanouts: DeliveryCheck & { fanouts: number; receivers: number }
  schedulerFanouts: DeliveryCheck
  /** Publishes answered with basic.return (mandatory replies that found no queue). */
  returned: number
  nacked: number
  /** Deliveries nobody should have received (e.g. on the shared `compute` queue). */
  strays: number
}

export interface DeliveryCheck {
  /** Deliveries expected (confirmed publishes × receivers). */
  expected: number
  delivered: number
  lost: number
  duplicated: number
}

const MAX_SAMPLES = 8

export class Tally {
  connectionsOpened = 0
  connectionsDropped = 0
  channelErrors = 0
  readonly errorSamples: string[] = []
  callsStarted = 0
  callsFailed = 0
  timeouts = 0
  skippedTicks = 0
  readonly latencies: number[] = []
  /** When each completed call started (performance.now() ms), to see whether slow calls cluster. */
  readonly startedAt: number[] = []
  duplicateReplies = 0
  lateReplies = 0
  returned = 0
  nacked = 0
  strays = 0
  misrouted = 0
  private readonly served = new Map<string, number>()
  private readonly castsSent = new Set<string>()
  private readonly castsSeen = new Map<string, number>()
  private readonly computeFanoutsSent = new Set<string>()
  /** `${id}|${node}` → deliveries: each node must see each compute fanout exactly once. */
  private readonly computeFanoutsSeen = new Map<string, number>()
  private readonly schedFanoutsSent = new Set<string>()
  private readonly schedFanoutsSeen = new Map<string, number>()

  error(text: string): void {
    if (this.errorSamples.length < MAX_SAMPLES && !this.errorSamples.includes(text)) this.errorSamples.push(text)
  }

  requestServed(uniqueId: string): void {
    this.served.set(uniqueId, (this.served.get(uniqueId) ?? 0) + 1)
  }

  castSent(id: string): void {
    this.castsSent.add(id)
  }

  castSeen(id: string): void {
    this.castsSeen.set(id, (this.castsSeen.get(id) ?? 0) + 1)
  }

  computeFanoutSent(id: string): void {
    this.computeFanoutsSent.add(id)
  }

  computeFanoutSeen(id: string, node: number): void {
    const k = `${id}|${node}`
    this.computeFanoutsSeen.set(k, (this.computeFanoutsSeen.get(k) ?? 0) + 1)
  }

  schedFanoutSent(id: string): void {
    this.schedFanoutsSent.add(id)
  }

  schedFanoutSeen(id: string): void {
    this.schedFanoutsSeen.set(id, (this.schedFanoutsSeen.get(id) ?? 0) + 1)
  }

  private buckets(loadStart: number): TallySummary['calls']['latencyBy5s'] {
    const by = new Map<number, number[]>()
    this.latencies.forEach((ms, i) => {
      const b = Math.max(0, Math.floor((this.startedAt[i]! - loadStart) / 5000))
      let xs = by.get(b)
      if (xs === undefined) by.set(b, (xs = []))
      xs.push(ms)
    })
    return [...by.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([b, xs]) => {
        const s = summarize(xs)
        return { fromS: b * 5, n: s.n, p50: Number(s.p50.toFixed(2)), p99: Number(s.p99.toFixed(2)), max: Number(s.max.toFixed(2)) }
      })
  }

  /** `nodes`: how many compute nodes each compute fanout must reach. */
  summary(nodes: number, loadStart: number): TallySummary {
    const check = (sent: ReadonlySet<string>, seen: ReadonlyMap<string, number>, receivers: number, keyOf: (id: string, r: number) => string): DeliveryCheck => {
      let delivered = 0
      let lost = 0
      let duplicated = 0
      for (const id of sent) {
        for (let r = 0; r < receivers; r++) {
          const n = seen.get(keyOf(id, r)) ?? 0
          delivered += n
          if (n === 0) lost++
          else duplicated += n - 1
        }
      }
      return { expected: sent.size * receivers, delivered, lost, duplicated }
    }
    let duplicateRequests = 0
    for (const n of this.served.values()) duplicateRequests += n - 1
    return {
      connectionsOpened: this.connectionsOpened,
      connectionsDropped: this.connectionsDropped,
      channelErrors: this.channelErrors,
      errorSamples: [...this.errorSamples],
      calls: {
        started: this.callsStarted,
        completed: this.latencies.length,
        timeouts: this.timeouts,
        failed: this.callsFailed,
        skippedTicks: this.skippedTicks,
        latencyMs: summarize(this.latencies),
        latencyBy5s: this.buckets(loadStart),
        latencySteadyMs: summarize(this.latencies.filter((_, i) => this.startedAt[i]! - loadStart >= 5000)),
        duplicateReplies: this.duplicateReplies,
        lateReplies: this.lateReplies,
        duplicateRequests,
      },
      casts: { ...check(this.castsSent, this.castsSeen, 1, (id) => id), misrouted: this.misrouted },
      computeFanouts: {
        ...check(this.computeFanoutsSent, this.computeFanoutsSeen, nodes, (id, r) => `${id}|${r}`),
        fanouts: this.computeFanoutsSent.size,
        receivers: nodes,
      },
      // One scheduler process: each scheduler fanout is expected exactly once.
      schedulerFanouts: check(this.schedFanoutsSent, this.schedFanoutsSeen, 1, (id) => id),
      returned: this.returned,
      nacked: this.nacked,
      strays: this.strays,
    }
  }
}
