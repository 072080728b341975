/**
 * The operator view behind `cellgate routes` and the admin endpoint's `/routes`: one plain,
 * JSON-able snapshot of the cell map, each cell's broker health, what cellgate has learned
 * (queues, processes) and its routing counters. Built on demand from live state, never kept,
 * so it costs nothing until an operator asks.
 */
import { explainHost } from '../router/amqp/explain.js'
import type { HostPlacement } from '../router/amqp/host-cell.js'
import { RoutingTable } from '../router/amqp/routing-table.js'
import { isWorkCell, type CellMap } from '../router/cell-map.js'
import { redactUrl } from './config.js'

/** What the view reads from the routing layer; CellRouting satisfies it as it is. */
export interface RoutingState {
  readonly cellMap: CellMap
  readonly routingTable: Pick<RoutingTable, 'placeHost' | 'knownTopics'>
  readonly queues: { entries(): Iterable<readonly [string, readonly string[]]>; readonly size: number }
  readonly processHosts: { readonly size: number }
  readonly counters: {
    readonly routedByCell: ReadonlyMap<string, number>
    readonly parkedByHost: ReadonlyMap<string, number>
    readonly refusedByHost: ReadonlyMap<string, number>
  }
}

/** One cell's broker pool as the view sees it (adapters/rabbit/cell-pool.ts has these fields). */
export interface CellHealth {
  readonly reachable: boolean
  readonly connections: number
  readonly reconnects: number
}

/** The fields of a CellPool the view reads: kept structural so app/ needs no broker adapter. */
export interface PoolLike {
  readonly reachable: boolean
  readonly connectionCount: number
  readonly reconnects: number
}

export type HealthLookup = (cell: string) => CellHealth | undefined

export interface RoutesViewInput {
  readonly routing: RoutingState
  /** Absent when there are no brokers to ask (`routes --offline`): health fields are then null. */
  readonly health?: HealthLookup
  /** Hosts to explain ("where does H go, and why"). */
  readonly explain?: readonly string[]
  readonly startedAt?: Date
  readonly now?: Date
  /** 'live' from a running cellgate, 'config' when built from a configuration file alone. */
  readonly source?: RoutesViewSource
  /** Longest host and queue lists shown; the totals are always exact. */
  readonly limit?: number
}

export type RoutesViewSource = 'live' | 'config'

export interface CellView {
  readonly name: string
  readonly uuid: string | null
  readonly region: string | null
  readonly pod: string | null
  readonly disabled: boolean
  readonly parking: boolean
  /** Takes ordinary work: enabled and not the parking cell. */
  readonly work: boolean
  /** Broker URL with its password hidden. */
  readonly rabbit: string | null
  /** null when unknown (offline, or a cell no broker pool serves). */
  readonly reachable: boolean | null
  readonly connections: number | null
  readonly reconnects: number | null
  /** Hosts the mapping names for this cell. */
  readonly hosts: number
  readonly routed: number
}

export interface HostView {
  readonly host: string
  /** The cell the mapping names (which may be disabled or unknown). */
  readonly cell: string
  /** The mapping source that named it, when the map says ("nova_api", "file:..."). */
  readonly source: string | null
  /** Where its work goes now, e.g. "cell1" or "parked in cell0". */
  readonly routesTo: string
}

export interface QueueView {
  readonly queue: string
  readonly cells: readonly string[]
}

export interface HostExplanation {
  readonly host: string
  readonly outcome: HostPlacement['kind']
  /** The cell that receives the host's work (the parking cell when parked); null when refused. */
  readonly cell: string | null
  /** host-mapping, rendezvous, or the park/refuse reason. */
  readonly why: string
  readonly mappedCell: string | null
  readonly source: string | null
  /** One line, as router/amqp/explain.ts words it. */
  readonly text: string
}

export interface RoutesView {
  readonly source: RoutesViewSource
  readonly generatedAt: string
  readonly startedAt: string | null
  readonly uptimeSeconds: number | null
  readonly parkingCell: string | null
  readonly cells: readonly CellView[]
  readonly hostsTotal: number
  readonly hosts: readonly HostView[]
  readonly instances: number
  readonly queuesTotal: number
  readonly queues: readonly QueueView[]
  readonly processes: number
  readonly knownTopics: readonly string[]
  readonly counters: {
    readonly routed: Readonly<Record<string, number>>
    readonly parked: Readonly<Record<string, number>>
    readonly refused: Readonly<Record<string, number>>
  }
  readonly explain: readonly HostExplanation[]
}

export type CellReadiness = 'reachable' | 'unreachable' | 'no-broker' | 'disabled'

export interface Readiness {
  readonly ready: boolean
  readonly detail: {
    /** Enabled cells whose broker is not reachable (or that no broker pool serves). */
    readonly unreachable: readonly string[]
    readonly cells: Readonly<Record<string, CellReadiness>>
  }
}

/** Enough for a large deployment's host list, small enough for one HTTP answer. */
export const DEFAULT_VIEW_LIMIT = 10_000

export function buildRoutesView(input: RoutesViewInput): RoutesView {
  const { routing } = input
  const map = routing.cellMap
  const table = routing.routingTable
  const limit = input.limit ?? DEFAULT_VIEW_LIMIT
  const now = input.now ?? new Date()

  const hostsPerCell = new Map<string, number>()
  for (const cell of map.hostCell.values()) hostsPerCell.set(cell, (hostsPerCell.get(cell) ?? 0) + 1)

  const cells = map.cells.map((c): CellView => {
    const h = input.health?.(c.name)
    return {
      name: c.name,
      uuid: c.uuid ?? null,
      region: c.region ?? null,
      pod: c.pod ?? null,
      disabled: c.disabled,
      parking: c.name === map.parkingCell,
      work: isWorkCell(map, c.name),
      rabbit: c.transportUrl === undefined ? null : redactUrl(c.transportUrl),
      reachable: h?.reachable ?? null,
      connections: h?.connections ?? null,
      reconnects: h?.reconnects ?? null,
      hosts: hostsPerCell.get(c.name) ?? 0,
      routed: routing.counters.routedByCell.get(c.name) ?? 0,
    }
  })

  const hosts = [...map.hostCell].sort(byKey).slice(0, limit).map(([host, cell]): HostView => ({
    host,
    cell,
    source: map.hostSource?.get(host) ?? null,
    routesTo: routesTo(table.placeHost(host)),
  }))

  return {
    source: input.source ?? 'live',
    generatedAt: now.toISOString(),
    startedAt: input.startedAt?.toISOString() ?? null,
    uptimeSeconds: input.startedAt === undefined ? null : Math.max(0, Math.floor((now.getTime() - input.startedAt.getTime()) / 1000)),
    parkingCell: map.parkingCell ?? null,
    cells,
    hostsTotal: map.hostCell.size,
    hosts,
    instances: map.instanceCell.size,
    queuesTotal: routing.queues.size,
    queues: firstQueues(routing.queues.entries(), limit),
    processes: routing.processHosts.size,
    knownTopics: [...table.knownTopics].sort(),
    counters: {
      routed: sortedRecord(routing.counters.routedByCell),
      parked: sortedRecord(routing.counters.parkedByHost),
      refused: sortedRecord(routing.counters.refusedByHost),
    },
    explain: explainHosts(table, map, input.explain ?? []),
  }
}

/** Where each host goes and why, in the order asked (duplicates kept: the caller asked twice). */
export function explainHosts(table: Pick<RoutingTable, 'placeHost'>, map: CellMap, hosts: readonly string[]): HostExplanation[] {
  return hosts.map((host) => {
    const p = table.placeHost(host)
    const source = map.hostSource?.get(host) ?? null
    const text = explainHost(host, p)
    switch (p.kind) {
      case 'cell':
        return { host, outcome: p.kind, cell: p.cell, why: p.why, mappedCell: p.why === 'host-mapping' ? p.cell : null, source, text }
      case 'park':
        return { host, outcome: p.kind, cell: p.cell, why: p.reason, mappedCell: p.mappedCell, source, text }
      case 'refuse':
        return { host, outcome: p.kind, cell: null, why: p.reason, mappedCell: p.mappedCell ?? null, source, text }
    }
  })
}

/**
 * Health per cell from the broker pools (startCellgate's Map<cell, CellPool>), read at the
 * moment the view is built, so the lookup can be made once and kept.
 */
export function poolHealth(pools: ReadonlyMap<string, PoolLike>): HealthLookup {
  return (cell) => {
    const p = pools.get(cell)
    return p === undefined ? undefined : { reachable: p.reachable, connections: p.connectionCount, reconnects: p.reconnects }
  }
}

/**
 * Ready = every enabled cell's broker reachable. The parking cell counts: parked messages must
 * land somewhere. A cell the map names but no broker pool serves can take nothing, so it counts
 * as unreachable rather than being skipped.
 */
export function readiness(map: CellMap, health: HealthLookup): Readiness {
  const states = map.cells.map((c): [string, CellReadiness] => {
    if (c.disabled) return [c.name, 'disabled']
    const h = health(c.name)
    return [c.name, h === undefined ? 'no-broker' : h.reachable ? 'reachable' : 'unreachable']
  })
  const unreachable = states.filter(([, s]) => s === 'unreachable' || s === 'no-broker').map(([name]) => name)
  // fromEntries, not assignment: a cell named "__proto__" must stay a plain key.
  return { ready: unreachable.length === 0, detail: { unreachable, cells: Object.fromEntries(states) } }
}

/** A routing state with nothing learned: the map and its table alone (`routes --offline`). */
export function configOnlyRouting(map: CellMap): RoutingState {
  return {
    cellMap: map,
    routingTable: new RoutingTable(map),
    queues: { entries: () => [], size: 0 },
    processHosts: { size: 0 },
    counters: { routedByCell: new Map(), parkedByHost: new Map(), refusedByHost: new Map() },
  }
}

function routesTo(p: HostPlacement): string {
  switch (p.kind) {
    case 'cell':
      return p.cell
    case 'park':
      return `parked in ${p.cell}`
    case 'refuse':
      return 'refused'
  }
}

function firstQueues(entries: Iterable<readonly [string, readonly string[]]>, limit: number): QueueView[] {
  const out: QueueView[] = []
  for (const [queue, cells] of entries) {
    if (out.length >= limit) break
    out.push({ queue, cells: [...cells] })
  }
  return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0))
}

function sortedRecord(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort(byKey))
}

function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}
