/**
 * The multiplexing benchmark's figures as Markdown (stdout and bench/RESULTS.md), and the marked
 * section update of RESULTS.md.
 */
import type { TallySummary } from './multiplex-tally.js'
import { fmt } from './stats.js'

export type TargetName = 'direct' | 'cellgate'

export interface BrokerView {
  connections: number
  connectionsByVhost: Record<string, number>
  /** Connections whose connection_name starts with `cellgate:<pid>:`. */
  namedCellgate: number
  channels: number
  channelsByVhost: Record<string, number>
  maxChannelsPerConnection: number
  queuesByVhost: Record<string, number>
  consumers: number
  /** Messages still sitting in the run's queues at the snapshot. */
  messagesLeft: number
}

export interface PhaseResult {
  target: TargetName
  vhosts: string[]
  setupMs: number
  loadMs: number
  tally: TallySummary
  broker: BrokerView
  /** beam.smp utime+stime during the load window. */
  brokerCpuMs: number | undefined
  cellgate?: {
    pid: number | undefined
    rssMiB: number | undefined
    peakRssMiB: number | undefined
    cpuMsLoad: number | undefined
    cpuMsSetup: number | undefined
    /** Lines cellgate wrote (it runs at warn: each one is worth reading). */
    output: string[]
    outputLines: number
  }
}

export const GOAL_RATIO = 10

const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)

export function connectionRatio(phases: readonly PhaseResult[]): number {
  const d = phases.find((p) => p.target === 'direct')?.broker.connections
  const c = phases.find((p) => p.target === 'cellgate')?.broker.connections
  return d === undefined || c === undefined || c === 0 ? Number.NaN : d / c
}

export function resultTable(phases: readonly PhaseResult[], shortVhost: (v: string) => string): string {
  const cols = phases.map((p) => p.target)
  const rows: [string, (p: PhaseResult) => string][] = [
    ['client connections opened (by the simulated processes)', (p) => String(p.tally.connectionsOpened)],
    ['**broker connections** (as RabbitMQ lists them, run vhosts)', (p) => `**${p.broker.connections}**`],
    ['broker connections per vhost', (p) => perVhost(p.broker.connectionsByVhost, shortVhost)],
    ['broker channels (per vhost)', (p) => `${p.broker.channels} (${perVhost(p.broker.channelsByVhost, shortVhost)})`],
    ['most channels on one broker connection', (p) => String(p.broker.maxChannelsPerConnection)],
    ['queues per vhost', (p) => `${sumValues(p.broker.queuesByVhost)} (${perVhost(p.broker.queuesByVhost, shortVhost)})`],
    ['consumers (broker side)', (p) => String(p.broker.consumers)],
    ['setup: open + declare everything, s', (p) => fmt(p.setupMs / 1000, 1)],
    ['calls completed / started', (p) => `${p.tally.calls.completed} / ${p.tally.calls.started}`],
    ['call timeouts / failed publishes', (p) => `${p.tally.calls.timeouts} / ${p.tally.calls.failed}`],
    ['call p50 / p99 / max ms, all calls', (p) => `${fmt(p.tally.calls.latencyMs.p50, 2)} / ${fmt(p.tally.calls.latencyMs.p99, 2)} / ${fmt(p.tally.calls.latencyMs.max, 1)}`],
    ['call p50 / p99 / max ms, calls started after the first 5 s', (p) => `${fmt(p.tally.calls.latencySteadyMs.p50, 2)} / ${fmt(p.tally.calls.latencySteadyMs.p99, 2)} / ${fmt(p.tally.calls.latencySteadyMs.max, 1)}`],
    ['calls/s', (p) => fmt((p.tally.calls.completed * 1000) / p.loadMs, 1)],
    ['casts to compute.<host>: delivered / expected (lost, dup, misrouted)', (p) => check(p.tally.casts, `, ${p.tally.casts.misrouted} misrouted`)],
    ['compute fanouts: deliveries / expected (lost, dup)', (p) => check(p.tally.computeFanouts)],
    ['scheduler fanouts: deliveries / expected (lost, dup)', (p) => check(p.tally.schedulerFanouts)],
    ['duplicate requests / duplicate replies / late replies', (p) => `${p.tally.calls.duplicateRequests} / ${p.tally.calls.duplicateReplies} / ${p.tally.calls.lateReplies}`],
    ['returned / nacked / strays', (p) => `${p.tally.returned} / ${p.tally.nacked} / ${p.tally.strays}`],
    ['connections dropped / channel errors', (p) => `${p.tally.connectionsDropped} / ${p.tally.channelErrors}`],
    ['messages left in queues at the end', (p) => String(p.broker.messagesLeft)],
    ['RabbitMQ CPU during the load, % of one core', (p) => (p.brokerCpuMs === undefined ? 'n/a' : fmt((100 * p.brokerCpuMs) / p.loadMs, 1))],
    ['cellgate RSS now / peak, MiB', (p) => (p.cellgate ? `${fmt(p.cellgate.rssMiB, 0)} / ${fmt(p.cellgate.peakRssMiB, 0)}` : '—')],
    ['cellgate CPU during the load, % of one core', (p) => (p.cellgate?.cpuMsLoad === undefined ? '—' : fmt((100 * p.cellgate.cpuMsLoad) / p.loadMs, 1))],
    ['cellgate CPU during setup, s', (p) => (p.cellgate?.cpuMsSetup === undefined ? '—' : fmt(p.cellgate.cpuMsSetup / 1000, 1))],
    ['cellgate log lines (warn and above)', (p) => (p.cellgate ? String(p.cellgate.outputLines) : '—')],
  ]
  const lines = [`| | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`]
  for (const [label, f] of rows) lines.push(`| ${label} | ${phases.map(f).join(' | ')} |`)
  return lines.join('\n')
}

function perVhost(r: Record<string, number>, shortVhost: (v: string) => string): string {
  const keys = Object.keys(r).sort()
  return keys.length === 0 ? '—' : keys.map((k) => `${shortVhost(k)} ${r[k]}`).join(', ')
}

function check(c: { expected: number; delivered: number; lost: number; duplicated: number }, extra = ''): string {
  return `${c.delivered} / ${c.expected} (${c.lost} lost, ${c.duplicated} dup${extra})`
}

