import { isWorkCell, workCellNames, type CellMap } from '../cell-map.js'
import { NO_HINTS, type ArgsHints } from './args-hints.js'
import { placeHost } from './host-cell.js'

/**
 * What the adapter knows about a publishing connection. Everything is optional but the vhost;
 * `argsHints` is a thunk so the body is only decoded when no cheaper evidence decided.
 */
export interface PublisherFacts {
  readonly vhost: string
  /** The host this cellgate sidecar is configured to serve, if it is a per-host sidecar. */
  readonly sidecarHost?: string
  /** The host learned from the same process's listening connection (peer address + pid). */
  readonly learnedHost?: string
  readonly argsHints?: () => ArgsHints
}

export interface PublisherCellOptions {
  /** The cell publishers with no other evidence belong to; else the first work cell. */
  readonly defaultCell?: string
}

export type PublisherWhy = 'vhost' | 'sidecar-host' | 'learned-host' | 'args-instance' | 'args-host' | 'default-cell'

export type PublisherCell =
  | {
      readonly kind: 'cell'
      readonly cell: string
      readonly why: PublisherWhy
      /** The host or instance uuid that decided, and for hosts whether a mapping or rendezvous did. */
      readonly evidence?: string
      readonly via?: 'host-mapping' | 'rendezvous'
    }
  | { readonly kind: 'none'; readonly reason: 'no-enabled-cell' }

/**
 * The publisher's cell, in the order of issue 3 §2: vhost, sidecar host, learned host, args
 * (instance uuid, then host), default cell.
 *
 * Evidence that points at a cell that takes no work (disabled, unknown, parking) is skipped and
 * the next evidence decides: a publisher's anycast work must land where a consumer runs, and a
 * disabled cell is being drained.
 *
 * Sidecar and learned hosts are the publisher's own identity, so an unmapped one is placed by
 * rendezvous exactly like its `T.<host>` queue. Hosts in args are someone's arguments, not the
 * publisher's identity: only an explicit mapping counts, a hash of an arbitrary argument says
 * nothing about where the publisher is.
 */
export function inferPublisherCell(facts: PublisherFacts, map: CellMap, opts: PublisherCellOptions = {}): PublisherCell {
  const own = ownCell(facts, map)
  if (own !== undefined) return own
  const hints = facts.argsHints?.() ?? NO_HINTS
  for (const uuid of hints.instanceUuids) {
    const cell = map.instanceCell.get(uuid)
    if (cell !== undefined && isWorkCell(map, cell)) return { kind: 'cell', cell, why: 'args-instance', evidence: uuid }
  }
  for (const host of hints.hosts) {
    const cell = map.hostCell.get(host)
    if (cell !== undefined && isWorkCell(map, cell)) return { kind: 'cell', cell, why: 'args-host', evidence: host, via: 'host-mapping' }
  }
  const cell = defaultCell(map, opts)
  return cell === undefined ? { kind: 'none', reason: 'no-enabled-cell' } : { kind: 'cell', cell, why: 'default-cell' }
}

/**
 * The cell a connection belongs to by its identity alone (vhost, sidecar host, learned host), or
 * undefined: a connection that belongs to no cell is a "super" service (super-conductor,
 * top-level scheduler, neutron-server) whose anycast queues go on every work cell.
 */
export function ownCell(facts: PublisherFacts, map: CellMap): (PublisherCell & { kind: 'cell' }) | undefined {
  const v = map.vhostCell.get(facts.vhost)
  if (v !== undefined && isWorkCell(map, v)) return { kind: 'cell', cell: v, why: 'vhost', evidence: facts.vhost }
  return byHost(facts.sidecarHost, 'sidecar-host', map) ?? byHost(facts.learnedHost, 'learned-host', map)
}

function byHost(host: string | undefined, why: 'sidecar-host' | 'learned-host', map: CellMap): (PublisherCell & { kind: 'cell' }) | undefined {
  if (host === undefined || host === '') return undefined
  const p = placeHost(host, map)
  return p.kind === 'cell' ? { kind: 'cell', cell: p.cell, why, evidence: host, via: p.why } : undefined
}

/** The configured default when it takes work, else the first work cell in configuration order. */
export function defaultCell(map: CellMap, opts: PublisherCellOptions = {}): string | undefined {
  if (opts.defaultCell !== undefined && isWorkCell(map, opts.defaultCell)) return opts.defaultCell
  return workCellNames(map)[0]
}
