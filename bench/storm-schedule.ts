/**
 * Expands a trace into the concrete timeline the replayer walks: every firing of every periodic
 * rule (phase, jitter, sizes and random target drawn from the seed, one stream per rule and
 * source, so adding nodes does not move other nodes' firings) merged with the one-off events.
 */
import { rng } from './storm-rng.js'
import type { PeriodicRule, Role, StormTrace } from './storm-trace.js'

export interface RuleFiring {
  at: number
  type: 'rule'
  rule: number
  /** Node index, or the controller role. */
  from: number | Role
  server?: number
  bytes: number
  replyBytes?: number
}

export interface EventFiring {
  at: number
  type: 'event'
  event: number
}

export type Firing = RuleFiring | EventFiring

function expandRule(t: StormTrace, r: PeriodicRule, index: number, out: Firing[]): void {
  const start = r.startMs ?? 0
  const until = Math.min(r.untilMs ?? t.header.durationMs, t.header.durationMs)
  const jitter = r.jitterMs ?? 0
  const sources: (number | Role)[] = r.from === 'nodes' ? Array.from({ length: t.header.nodes }, (_, i) => i) : [r.from]
  sources.forEach((from, s) => {
    const g = rng(t.header.seed, index + 1, s)
    const phase = g.uniform(0, r.everyMs)
    for (let k = 0; ; k++) {
      const at = Math.round(start + phase + k * r.everyMs + (jitter ? g.uniform(-jitter, jitter) : 0))
      if (at >= until) break
      const bytes = g.int(r.bytes.min, r.bytes.max)
      const replyBytes = r.replyBytes ? g.int(r.replyBytes.min, r.replyBytes.max) : undefined
      const server = r.server === 'random-node' ? g.int(0, t.header.nodes - 1) : undefined
      if (at < start) continue
      out.push({ at, type: 'rule', rule: index, from, bytes, ...(replyBytes !== undefined ? { replyBytes } : {}), ...(server !== undefined ? { server } : {}) })
    }
  })
}

/** Every firing, in time order (ties: rules before events, then by source, as produced). */
export function expandTrace(t: StormTrace): Firing[] {
  const out: Firing[] = []
  t.rules.forEach((r, i) => expandRule(t, r, i, out))
  t.events.forEach((e, i) => out.push({ at: e.at, type: 'event', event: i }))
  // Array.prototype.sort is stable: equal times keep the order above.
  return out.sort((a, b) => a.at - b.at)
}
