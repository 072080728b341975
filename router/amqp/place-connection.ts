import { enabledCells, type CellMap } from '../cell-map.js'

/**
 * Where a client connection's broker traffic goes, as data. With one cell per connection this is
 * the whole routing decision of the single-shard front end; per-queue and per-publish placement
 * across many cells builds on the same facts (vhost first, then the default cell).
 */
export type ConnectionPlacement =
  | { kind: 'cell'; cell: string; why: 'vhost' | 'default-cell' }
  | { kind: 'refuse'; reason: 'no-enabled-cell' | 'vhost-cell-disabled' }

export function placeConnection(vhost: string, map: CellMap): ConnectionPlacement {
  const mapped = map.vhostCell.get(vhost)
  if (mapped !== undefined) {
    const cell = map.cells.find((c) => c.name === mapped)
    if (cell !== undefined && !cell.disabled) return { kind: 'cell', cell: cell.name, why: 'vhost' }
    return { kind: 'refuse', reason: 'vhost-cell-disabled' }
  }
  const first = enabledCells(map)[0]
  if (first === undefined) return { kind: 'refuse', reason: 'no-enabled-cell' }
  return { kind: 'cell', cell: first.name, why: 'default-cell' }
}
