/**
 * What one mapping source (nova_api, cellgate's own tables, a mapping file) knows, as plain
 * data. Sources name cells the way they know them: nova by uuid (and maybe name), cellgate's
 * tables and files by cellgate cell name. The router resolves both to cellgate cell names when it
 * merges snapshots into a CellMap; the adapters in adapters/mapping only read and report.
 */
export interface SnapshotCell {
  /** nova cell uuid, when the source is nova_api. */
  readonly uuid?: string
  /** Cell name (nova's cell_mappings.name may be null: then only the uuid identifies it). */
  readonly name?: string
  readonly transportUrl?: string
  readonly databaseUrl?: string
  readonly disabled?: boolean
}

/** A reference to a cell as a source wrote it: by uuid (nova) or by cellgate name. */
export type CellRef = { readonly uuid: string } | { readonly name: string }

export interface MappingSnapshot {
  /** Which source this came from, for logs and `cellgate routes` ("nova_api", "cellgate-db", "file:/etc/x.yaml"). */
  readonly source: string
  readonly cells: readonly SnapshotCell[]
  readonly hosts: ReadonlyMap<string, CellRef>
  readonly instances: ReadonlyMap<string, CellRef>
}
