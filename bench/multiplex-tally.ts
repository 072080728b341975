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

  /** `nodes`: how many compute nodes each compute fanout must reach. */
  summary(nodes: number): TallySummary {
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
