import type { Cell, CellMap } from './cell-map.js'
import type { CellRef, MappingSnapshot, SnapshotCell } from './mapping-snapshot.js'

/** nova's cell0 (failed builds, never a host's home): cell_mappings.uuid of cell0, fixed by nova. */
export const NOVA_CELL0_UUID = '00000000-0000-0000-0000-000000000000'

export interface MergeInput {
  /** Cells from cellgate's configuration: the only cells that exist for routing. */
  readonly cells: readonly Cell[]
  readonly vhostCell?: Iterable<readonly [string, string]>
  readonly parkingCell?: string
  /**
   * Sources in priority order, first wins for a host or instance named by several. The intended
   * order is cellgate's own override tables, then a mapping file, then nova_api: an operator's
   * explicit override beats a file, and both beat what nova happens to record.
   */
  readonly snapshots: readonly MappingSnapshot[]
}

export type MergeWarning =
  | { readonly kind: 'unresolved-ref'; readonly source: string; readonly entry: 'host' | 'instance'; readonly key: string; readonly ref: string }
  | {
      readonly kind: 'conflict'
      readonly entry: 'host' | 'instance'
      readonly key: string
      readonly kept: { readonly source: string; readonly cell: string }
      readonly ignored: { readonly source: string; readonly cell: string }
    }
  /** A cell a source knows that no configured cell stands for (no shard to route to). */
  | { readonly kind: 'unconfigured-cell'; readonly source: string; readonly cell: string }
  | { readonly kind: 'parking-cell-unknown'; readonly cell: string }
  | { readonly kind: 'cell0-without-parking'; readonly source: string; readonly entries: number }

export interface MergeResult {
  readonly map: CellMap
  readonly warnings: readonly MergeWarning[]
  /** Instance uuid → source, like CellMap.hostSource for hosts. */
  readonly instanceSource: ReadonlyMap<string, string>
}

/**
 * One CellMap from the configured cells and every source's snapshot. Never throws: what cannot be
 * resolved is reported as a warning and still routed conservatively.
 *
 * A ref resolves to a configured cell by (1) the cell's configured nova uuid, (2) the name nova
 * gives that uuid in the same snapshot's cell list, equal to a cellgate cell name, (3) for
 * `{name}` refs, the cellgate name itself. nova's cell0 resolves to the parking cell when one is
 * configured. An unresolvable ref is kept under a name no configured cell has (nova's name for
 * it, else `uuid:<uuid>`), so its hosts are parked rather than hashed onto a cell the source
 * never put them in; the warning tells the operator which mapping to fix.
 *
 * Disabled flags come from configuration only: nova's `cell_mappings.disabled` means "schedule
 * no new instances", not "stop delivering to existing computes", which is what disabled means here.
 */
export function mergeSnapshots(input: MergeInput): MergeResult {
  const warnings: MergeWarning[] = []
  const byName = new Map(input.cells.map((c) => [c.name, c]))
  const byUuid = new Map(input.cells.flatMap((c) => (c.uuid === undefined ? [] : [[c.uuid.toLowerCase(), c.name] as const])))
  const parking = input.parkingCell
  if (parking !== undefined && !byName.has(parking)) warnings.push({ kind: 'parking-cell-unknown', cell: parking })

  const hostCell = new Map<string, string>()
  const hostSource = new Map<string, string>()
  const instanceCell = new Map<string, string>()
  const instanceSource = new Map<string, string>()

  for (const snap of input.snapshots) {
    const novaNames = new Map(snap.cells.flatMap((c) => (c.uuid === undefined ? [] : [[c.uuid.toLowerCase(), c] as const])))
    let cell0Dropped = 0
    const resolve = (ref: CellRef): { cell: string; resolved: boolean } | 'cell0' => {
      if ('name' in ref) return { cell: ref.name, resolved: byName.has(ref.name) }
      const uuid = ref.uuid.toLowerCase()
      const configured = byUuid.get(uuid)
      if (configured !== undefined) return { cell: configured, resolved: true }
      if (uuid === NOVA_CELL0_UUID) return parking === undefined ? 'cell0' : { cell: parking, resolved: true }
      const name = novaNames.get(uuid)?.name
      if (name !== undefined && byName.has(name)) return { cell: name, resolved: true }
      return { cell: name ?? `uuid:${uuid}`, resolved: false }
    }
    const take = (entry: 'host' | 'instance', entries: ReadonlyMap<string, CellRef>, cells: Map<string, string>, sources: Map<string, string>) => {
      for (const [rawKey, ref] of entries) {
        const key = entry === 'instance' ? rawKey.toLowerCase() : rawKey
        const r = resolve(ref)
        if (r === 'cell0') {
          cell0Dropped++
          continue
        }
        if (!r.resolved) warnings.push({ kind: 'unresolved-ref', source: snap.source, entry, key, ref: refText(ref) })
        const kept = cells.get(key)
        if (kept === undefined) {
          cells.set(key, r.cell)
          sources.set(key, snap.source)
        } else if (kept !== r.cell) {
          warnings.push({ kind: 'conflict', entry, key, kept: { source: sources.get(key) ?? '', cell: kept }, ignored: { source: snap.source, cell: r.cell } })
        }
      }
    }
    take('host', snap.hosts, hostCell, hostSource)
    take('instance', snap.instances, instanceCell, instanceSource)
    if (cell0Dropped > 0) warnings.push({ kind: 'cell0-without-parking', source: snap.source, entries: cell0Dropped })
    for (const c of snap.cells) if (!knownCell(c, byName, byUuid, parking)) warnings.push({ kind: 'unconfigured-cell', source: snap.source, cell: cellText(c) })
  }

  const map: CellMap = {
    cells: [...input.cells],
    vhostCell: new Map(input.vhostCell ?? []),
    hostCell,
    instanceCell,
    hostSource,
    ...(parking !== undefined ? { parkingCell: parking } : {}),
  }
  return { map, warnings, instanceSource }
}

function knownCell(c: SnapshotCell, byName: ReadonlyMap<string, Cell>, byUuid: ReadonlyMap<string, string>, parking: string | undefined): boolean {
  const uuid = c.uuid?.toLowerCase()
  if (uuid !== undefined && (byUuid.has(uuid) || (uuid === NOVA_CELL0_UUID && parking !== undefined))) return true
  return c.name !== undefined && byName.has(c.name)
}

function refText(ref: CellRef): string {
  return 'uuid' in ref ? `uuid ${ref.uuid}` : `name ${ref.name}`
}

function cellText(c: SnapshotCell): string {
  return c.name !== undefined && c.uuid !== undefined ? `${c.name} (${c.uuid})` : (c.name ?? c.uuid ?? '?')
}
