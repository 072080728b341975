/**
 * Markdown tables of a storm replay: one row per message kind and target (so direct and
 * cellgate sit next to each other), and one row per target for the deployment-wide figures.
 */
import type { ReplayResult } from './storm-run.js'
import type { StormBrokerView } from './storm-cells.js'
import type { BrokerMode } from './storm-brokers.js'
import { fmt } from './stats.js'

export type StormTarget = 'direct' | 'cellgate'

/** One configuration of the comparison: direct, or cellgate over `cells` cells. */
export interface TargetResult {
  /** direct, cellgate-1, cellgate-2, ... */
  config: string
  target: StormTarget
  cells: number
  vhosts: string[]
  replay: ReplayResult
  simulator?: { cpuMsStorm: number }
  broker: StormBrokerView
  cellgate?: { pid: number | undefined; cpuMsStorm: number | undefined; rssMiB: number | undefined; peakRssMiB: number | undefined }
  /** The brokers of this configuration (shared: the machine's RabbitMQ, everyone's use included). */
  rabbit: { mode: BrokerMode; nodes: string[]; pids: (number | undefined)[]; bootS: number; cpuMsStorm: number | undefined; rssMiB: number | undefined; idleRssMiB: number | undefined }
}

const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`

export function kindTable(results: readonly TargetResult[]): string {
  const whats = [...new Set(results.flatMap((r) => r.replay.kinds.map((k) => k.what)))]
  const lines = [
    row(['kind', 'pattern', 'config', 'sent', 'delivered/expected', 'lost', 'dup', 'timeouts', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'steady p50 / p99 ms', 'per s']),
    row(Array.from({ length: 14 }, (_, i) => (i < 3 ? '---' : '---:'))),
  ]
  for (const w of whats) {
    for (const r of results) {
      const k = r.replay.kinds.find((x) => x.what === w)
      if (!k) continue
      const extra = k.heartbeats !== undefined ? ` (${k.heartbeats} heartbeats, max gap ${fmt(k.maxGapMs, 0)} ms)` : ''
      lines.push(row([w + extra, k.pattern, r.config, k.sent, `${k.delivered}/${k.expected}`, k.lost, k.duplicated, k.timeouts, fmt(k.latencyMs.p50, 1), fmt(k.latencyMs.p95, 1), fmt(k.latencyMs.p99, 1), fmt(k.latencyMs.max, 1), `${fmt(k.latencySteadyMs.p50, 1)} / ${fmt(k.latencySteadyMs.p99, 1)}`, fmt(k.throughput, 1)]))
    }
  }
  return lines.join('\n')
}

export function summaryTable(results: readonly TargetResult[]): string {
  const lines = [
    row(['config', 'client conns', 'broker conns', 'broker channels', 'broker queues', 'lost', 'dup', 'timeouts', 'misrouted', 'returned', 'dropped conns', 'cellgate CPU s', 'cellgate RSS MiB (peak)', 'RabbitMQ CPU s', 'RabbitMQ RSS MiB (idle)', 'simulator CPU s']),
    row(Array.from({ length: 16 }, (_, i) => (i < 1 ? '---' : '---:'))),
  ]
  for (const r of results) {
    const t = r.replay.totals
    lines.push(
      row([
        r.config, r.replay.connectionsOpened, r.broker.connections, r.broker.channels, r.broker.queues, t.lost, t.duplicated, t.timeouts, t.misrouted, r.replay.returned, r.replay.connectionsDropped,
        r.cellgate ? fmt((r.cellgate.cpuMsStorm ?? Number.NaN) / 1000, 1) : '—',
        r.cellgate ? `${fmt(r.cellgate.rssMiB, 0)} (${fmt(r.cellgate.peakRssMiB, 0)})` : '—',
        fmt((r.rabbit.cpuMsStorm ?? Number.NaN) / 1000, 1), `${fmt(r.rabbit.rssMiB, 0)} (${fmt(r.rabbit.idleRssMiB, 0)})`,
        fmt((r.simulator?.cpuMsStorm ?? Number.NaN) / 1000, 1),
      ]),
    )
  }
  return lines.join('\n')
}
