/**
 * The cell map as the router sees it: plain data, no I/O. Adapters build it from configuration,
 * nova_api, cellgate's own mapping tables and mapping files (see mapping-snapshot.ts) and hand a
 * snapshot to the router; a new snapshot replaces the old one without touching cached decisions.
 */
export interface Cell {
  /** Stable name used in logs, metrics and decisions ("cell1"). */
  readonly name: string
  /** The nova cell uuid when the cell is known to nova_api (matches cell_mappings.uuid). */
  readonly uuid?: string
  /** The shard broker this cell's queues live on (amqp://user:pass@host:port/vhost). */
  readonly transportUrl?: string
  /** The shard database for the SQL front end (mysql://user:pass@host:port/db). */
  readonly databaseUrl?: string
  readonly region?: string
  /** Pod or availability zone inside the region. */
  readonly pod?: string
  /** A disabled cell receives no new work; its hosts' messages are parked. */
  readonly disabled: boolean
}

export interface CellMap {
  readonly cells: readonly Cell[]
  /** Client vhost → the cell its publishers belong to (cells v2 points each cell at a vhost). */
  readonly vhostCell: ReadonlyMap<string, string>
  /** Host (oslo `server`, nova CONF.host, cinder `h@b`'s h) → cell name. */
  readonly hostCell: ReadonlyMap<string, string>
  /** Instance uuid (lower case, with dashes) → cell name. */
  readonly instanceCell: ReadonlyMap<string, string>
  /** Where messages for hosts of a disabled or unknown cell are parked (nova's cell0); optional. */
  readonly parkingCell?: string
  /** Host → the mapping source that named it ("nova_api", "file:..."), for explanations only. */
  readonly hostSource?: ReadonlyMap<string, string>
}

export interface CellMapFacts {
  readonly vhostCell?: Iterable<readonly [string, string]>
  readonly hostCell?: Iterable<readonly [string, string]>
  readonly instanceCell?: Iterable<readonly [string, string]>
  readonly parkingCell?: string
}

export function buildCellMap(cells: readonly Cell[], vhostCell: Iterable<readonly [string, string]> = [], facts: CellMapFacts = {}): CellMap {
  return {
    cells: [...cells],
    vhostCell: new Map(vhostCell),
    hostCell: new Map(facts.hostCell ?? []),
    instanceCell: new Map(facts.instanceCell ?? []),
    ...(facts.parkingCell !== undefined ? { parkingCell: facts.parkingCell } : {}),
  }
}

export function enabledCells(map: CellMap): Cell[] {
  return map.cells.filter((c) => !c.disabled)
}

export function findCell(map: CellMap, name: string): Cell | undefined {
  return map.cells.find((c) => c.name === name)
}

/**
 * Cells that take ordinary work: enabled and not the parking cell. The parking cell only holds
 * what could not be delivered, so rendezvous, fanouts, super-conductor queues and the default
 * cell must never pick it, or a new host or a broadcast would silently land in the car park.
 */
export function workCellNames(map: CellMap): string[] {
  return map.cells.filter((c) => !c.disabled && c.name !== map.parkingCell).map((c) => c.name)
}

/** True when `name` is a cell that takes ordinary work (see workCellNames). */
export function isWorkCell(map: CellMap, name: string): boolean {
  if (name === map.parkingCell) return false
  const cell = findCell(map, name)
  return cell !== undefined && !cell.disabled
}
