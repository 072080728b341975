/**
 * A content digest of a MappingSnapshot, independent of row order, so two reads of unchanged data
 * compare equal even if the database returned rows in another order.
 */
import { createHash } from 'node:crypto'
import type { CellRef, MappingSnapshot } from '../../router/mapping-snapshot.js'

function refText(ref: CellRef): string {
  return 'uuid' in ref ? `u:${ref.uuid}` : `n:${ref.name}`
}

function sortedEntries(m: ReadonlyMap<string, CellRef>): string[] {
  const out: string[] = []
  for (const [k, ref] of m) out.push(`${k}\u0000${refText(ref)}`)
  return out.sort()
}

/** Stable text of one cell: keys sorted so property order never matters. */
function cellText(cell: object): string {
  const entries = Object.entries(cell)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(entries)
}

/** SHA-256 hex over cells, hosts and instances (the `source` label is not part of the content). */
export function snapshotDigest(snap: MappingSnapshot): string {
  const h = createHash('sha256')
  for (const c of snap.cells.map(cellText).sort()) h.update(`c\u0000${c}\n`)
  for (const e of sortedEntries(snap.hosts)) h.update(`h\u0000${e}\n`)
  for (const e of sortedEntries(snap.instances)) h.update(`i\u0000${e}\n`)
  return h.digest('hex')
}
