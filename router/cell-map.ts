/**
 * The cell map as the router sees it: plain data, no I/O. Adapters build it from configuration
 * (and, later, from nova_api and cellgate's own mapping tables) and hand a snapshot to the
 * router; a new snapshot replaces the old one without touching cached decisions.
 */
export interface Cell {
  readonly name: string
  readonly disabled: boolean
}

export interface CellMap {
  readonly cells: readonly Cell[]
  /** Client vhost → the cell its publishers belong to (cells v2 points each cell at a vhost). */
  readonly vhostCell: ReadonlyMap<string, string>
}

export function buildCellMap(cells: readonly Cell[], vhostCell: Iterable<readonly [string, string]> = []): CellMap {
  return { cells: [...cells], vhostCell: new Map(vhostCell) }
}

export function enabledCells(map: CellMap): Cell[] {
  return map.cells.filter((c) => !c.disabled)
}
