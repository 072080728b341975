/**
 * Issue 5's goals, judged from one run's results (ratios against the direct broker measured in
 * the same run). A goal whose configuration was not in the run is "not measured", never met.
 */
import type { TargetResult } from './storm-report.js'

export interface GoalVerdict {
  goal: string
  /** The figure as measured, e.g. "1.07× (812 ÷ 759 ms)". */
  measured: string
  met: boolean | undefined
}

const x = (v: number): string => `${v.toFixed(2)}×`

/** The cellgate configuration the goals are about: 4 cells, else the most cells in the run. */
export function goalConfig(results: readonly TargetResult[]): TargetResult | undefined {
  const cg = results.filter((r) => r.target === 'cellgate').sort((a, b) => b.cells - a.cells)
  return cg.find((r) => r.cells === 4) ?? cg[0]
}

export function judgeGoals(results: readonly TargetResult[], nodes: number): GoalVerdict[] {
  const direct = results.find((r) => r.target === 'direct')
  const cg = goalConfig(results)
  const out: GoalVerdict[] = []
  const name = cg?.config ?? 'cellgate'
  const rpc = (r: TargetResult): { p50: number; p99: number } => r.replay.aggregates.rpc.latencyMs
  if (direct && cg) {
    const d = rpc(direct)
    const c = rpc(cg)
    out.push({ goal: `${name}: p99 RPC call latency ≤ direct's`, measured: `${x(c.p99 / d.p99)} (${c.p99.toFixed(1)} ÷ ${d.p99.toFixed(1)} ms)`, met: c.p99 <= d.p99 })
    out.push({ goal: `${name}: p50 RPC call latency ≤ 1.2× direct's`, measured: `${x(c.p50 / d.p50)} (${c.p50.toFixed(1)} ÷ ${d.p50.toFixed(1)} ms)`, met: c.p50 <= 1.2 * d.p50 })
    const ratio = cg.broker.connections > 0 ? direct.broker.connections / cg.broker.connections : Number.POSITIVE_INFINITY
    out.push({ goal: 'brokers see ≥ 10× fewer connections', measured: `${ratio.toFixed(1)}× fewer (${direct.broker.connections} ÷ ${cg.broker.connections})`, met: ratio >= 10 })
    const dm = direct.rabbit.rssMiB
    const cm = cg.rabbit.rssMiB
    if (dm !== undefined && cm !== undefined) {
      const shared = cg.rabbit.mode === 'shared' ? ' (shared broker: includes everyone else\'s use)' : ''
      const above = (r: TargetResult): string => (r.rabbit.idleRssMiB !== undefined && r.rabbit.rssMiB !== undefined ? `${(r.rabbit.rssMiB - r.rabbit.idleRssMiB).toFixed(0)}` : 'n/a')
      out.push({ goal: 'brokers use less memory', measured: `${cm.toFixed(0)} MiB vs ${dm.toFixed(0)} MiB direct (RSS of ${cg.rabbit.nodes.length} vs ${direct.rabbit.nodes.length} node${direct.rabbit.nodes.length > 1 ? 's' : ''}; above idle ${above(cg)} vs ${above(direct)} MiB)${shared}`, met: cm < dm })
    } else out.push({ goal: 'brokers use less memory', measured: 'broker RSS not readable', met: undefined })
  } else {
    for (const g of ['p99 RPC call latency ≤ direct\'s', 'p50 RPC call latency ≤ 1.2× direct\'s', 'brokers see ≥ 10× fewer connections', 'brokers use less memory']) {
      out.push({ goal: g, measured: 'not measured (needs direct and cellgate in the same run)', met: undefined })
    }
  }
  for (const r of results) {
    const t = r.replay.totals
    out.push({ goal: `${r.config}: zero lost, zero duplicated`, measured: `${t.lost} lost, ${t.duplicated} duplicated, ${t.timeouts} timeouts of ${t.expected}`, met: t.lost === 0 && t.duplicated === 0 })
  }
  if (cg) {
    const p99 = rpc(cg).p99
    const big = nodes >= 10_000
    out.push({ goal: `cellgate carries 10 000 nodes with p99 < 1 s`, measured: `${nodes} nodes: p99 ${p99.toFixed(0)} ms${big ? '' : ' (fewer than 10 000 nodes in this run)'}`, met: big ? p99 < 1000 && cg.replay.totals.lost === 0 : undefined })
  }
  return out
}

export const verdictWord = (m: boolean | undefined): string => (m === undefined ? 'not measured' : m ? 'met' : 'NOT met')
