/**
 * The operator view as a readable table (`cellgate routes`, `/routes?format=text`). Only
 * formatting: every figure comes from the RoutesView, so text and JSON cannot disagree.
 */
import type { CellView, HostExplanation, RoutesView } from '../../app/routes-view.js'
import { renderTable } from './text-table.js'

export function renderRoutesText(view: RoutesView): string {
  const out: string[] = [header(view), '']

  const live = view.source === 'live'
  const parking = view.parkingCell === null ? '' : `, parking cell ${view.parkingCell}`
  out.push(`Cells: ${view.cells.length}${parking}`)
  // Broker health and counters exist only in a running cellgate; from the file alone they would be noise.
  const cellTable = live
    ? renderTable(
        ['name', 'state', 'broker', 'conns', 'reconnects', 'hosts', 'routed', 'region', 'pod', 'uuid', 'rabbit'],
        view.cells.map((c) => [c.name, cellState(c), broker(c), c.connections, c.reconnects, c.hosts, c.routed, c.region, c.pod, c.uuid, c.rabbit]),
      )
    : renderTable(
        ['name', 'state', 'hosts', 'region', 'pod', 'uuid', 'rabbit'],
        view.cells.map((c) => [c.name, cellState(c), c.hosts, c.region, c.pod, c.uuid, c.rabbit]),
      )
  out.push(...cellTable, '')

  const learned = live ? `, ${view.processes} processes learned` : ''
  out.push(`Hosts: ${view.hostsTotal} mapped${shown(view.hosts.length, view.hostsTotal)}, ${view.instances} instances mapped${learned}`)
  if (view.hosts.length > 0) {
    out.push(...renderTable(['host', 'cell', 'routes to', 'source'], view.hosts.map((h) => [h.host, h.cell, h.routesTo, h.source])))
  }
  out.push('(unmapped hosts go to a work cell by rendezvous hashing)')
  // Queues, counters and topics are learned from traffic: a view from the file alone has none.
  if (live) out.push('', ...learnedSections(view))
  if (view.explain.length > 0) out.push('', 'Explain', ...view.explain.map((e) => e.text))
  return `${out.join('\n')}\n`
}

function learnedSections(view: RoutesView): string[] {
  const out: string[] = []
  out.push(`Queues: ${view.queuesTotal} known${shown(view.queues.length, view.queuesTotal)}`)
  if (view.queues.length > 0) out.push(...renderTable(['queue', 'cells'], view.queues.map((q) => [q.queue, q.cells.join(',')])))
  out.push('')

  out.push('Counters')
  out.push(
    ...renderTable(
      ['outcome', 'by'],
      [
        ['routed', counts(view.counters.routed)],
        ['parked', counts(view.counters.parked)],
        ['refused', counts(view.counters.refused)],
      ],
    ),
  )
  out.push(`known topics: ${view.knownTopics.length === 0 ? '-' : view.knownTopics.join(', ')}`)
  return out
}

/** One line per asked host: the answer to "where does H go, and why". */
export function renderExplanations(explain: readonly HostExplanation[]): string {
  return explain.map((e) => `${e.text}\n`).join('')
}

function header(view: RoutesView): string {
  const from = view.source === 'live' ? 'live' : 'from the configuration only: no broker asked, nothing learned'
  const up = view.uptimeSeconds === null ? '' : `, up ${duration(view.uptimeSeconds)}`
  return `cellgate routes (${from}; at ${view.generatedAt}${up})`
}

function cellState(c: CellView): string {
  if (c.disabled) return 'disabled'
  return c.parking ? 'parking' : 'work'
}

function broker(c: CellView): string {
  if (c.reachable === null) return '-'
  return c.reachable ? 'up' : 'down'
}

function counts(r: Readonly<Record<string, number>>): string {
  const parts = Object.entries(r).map(([k, n]) => `${k === '*' ? '*(several)' : k}=${n}`)
  return parts.length === 0 ? '-' : parts.join(' ')
}

function shown(listed: number, total: number): string {
  return listed < total ? ` (first ${listed} shown)` : ''
}

/** "3d 4h 5m 6s", dropping leading zero units. */
export function duration(seconds: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ]
  let left = Math.floor(seconds)
  const parts: string[] = []
  for (const [name, size] of units) {
    const n = Math.floor(left / size)
    left -= n * size
    if (n > 0 || parts.length > 0 || size === 1) parts.push(`${n}${name}`)
  }
  return parts.join(' ')
}
