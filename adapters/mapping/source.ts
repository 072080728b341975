/**
 * What every mapping source offers the watcher and the composition root. A source only reads and
 * reports (router/mapping-snapshot.ts is the contract); merging sources into a CellMap is the
 * router's job.
 */
import type { MappingSnapshot, SnapshotCell } from '../../router/mapping-snapshot.js'

/**
 * A cell as cellgate's own tables and mapping files describe it. The router's SnapshotCell has no
 * region/pod yet; these extra fields ride along structurally until it does.
 */
export interface PlacedSnapshotCell extends SnapshotCell {
  readonly region?: string
  readonly pod?: string
}

/**
 * A cheap token that changes when the source's data may have changed. `settled: false` says the
 * token cannot be trusted to have caught every change yet (e.g. nova's second-resolution
 * `updated_at` may hide a second update within the same second), so the watcher re-reads anyway.
 */
export interface SourceVersion {
  readonly token: string
  readonly settled: boolean
}

export interface MappingSource {
  /** For logs and `MappingSnapshot.source`. */
  readonly name: string
  /** The whole mapping, as of now. */
  read(): Promise<MappingSnapshot>
  /** Optional cheap change probe; without it the watcher reads and compares digests every poll. */
  version?(): Promise<SourceVersion>
  /**
   * Optional push hint (a file source uses fs.watch): `poke` is called when the data may have
   * changed, so the watcher polls at once. Returns an unsubscribe function.
   */
  subscribe?(poke: () => void): () => void
  /** Release connections/handles. Idempotent. */
  close(): Promise<void>
}
