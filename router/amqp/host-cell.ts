import { findCell, workCellNames, type CellMap } from '../cell-map.js'
import { rendezvousCell } from '../rendezvous.js'

/**
 * Where a host's work goes. A mapped host in a work cell goes there; a host the mapping puts in
 * a disabled or unknown cell is parked (never hashed elsewhere: the mapping said where it
 * belongs, and moving its work to a cell that does not know it would lose it quietly); an
 * unmapped host is placed by rendezvous so every cellgate agrees without talking.
 *
 * Without a parking cell a parked host has nowhere to go: the outcome is `refuse`, and the
 * adapter turns it into a publisher-visible failure (a nack, or a return for mandatory
 * publishes) and counts it. That is what RabbitMQ does when it cannot take a message, and
 * it keeps the rule "never silently lost" without inventing a store.
 */
export type HostPlacement =
  | { readonly kind: 'cell'; readonly cell: string; readonly why: 'host-mapping'; readonly source?: string }
  | { readonly kind: 'cell'; readonly cell: string; readonly why: 'rendezvous' }
  | {
      readonly kind: 'park'
      readonly cell: string
      readonly host: string
      readonly reason: ParkReason
      /** The cell the mapping names (disabled, or unknown to cellgate, or the parking cell itself). */
      readonly mappedCell: string
    }
  | { readonly kind: 'refuse'; readonly host: string; readonly reason: ParkReason | 'no-enabled-cell'; readonly mappedCell?: string }

export type ParkReason = 'cell-disabled' | 'cell-unknown' | 'mapped-to-parking'

export function placeHost(host: string, map: CellMap, work: readonly string[] = workCellNames(map)): HostPlacement {
  const mapped = map.hostCell.get(host)
  if (mapped === undefined) {
    const cell = rendezvousCell(host, work)
    return cell === undefined ? { kind: 'refuse', host, reason: 'no-enabled-cell' } : { kind: 'cell', cell, why: 'rendezvous' }
  }
  const reason = parkReason(map, mapped)
  if (reason === undefined) {
    const source = map.hostSource?.get(host)
    return source === undefined ? { kind: 'cell', cell: mapped, why: 'host-mapping' } : { kind: 'cell', cell: mapped, why: 'host-mapping', source }
  }
  return park(map, host, reason, mapped)
}

function parkReason(map: CellMap, cellName: string): ParkReason | undefined {
  if (cellName === map.parkingCell) return 'mapped-to-parking'
  const cell = findCell(map, cellName)
  if (cell === undefined) return 'cell-unknown'
  return cell.disabled ? 'cell-disabled' : undefined
}

/** A parking cell that does not exist in the map cannot hold anything: treat it as absent. */
function park(map: CellMap, host: string, reason: ParkReason, mappedCell: string): HostPlacement {
  const parking = map.parkingCell
  if (parking !== undefined && findCell(map, parking) !== undefined) return { kind: 'park', cell: parking, host, reason, mappedCell }
  return { kind: 'refuse', host, reason, mappedCell }
}
