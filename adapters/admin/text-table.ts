/**
 * Aligned plain-text columns, the way `rabbitmqctl list_queues` prints: a header row, one row per
 * item, columns padded to the widest cell. No borders, so the output greps and cuts well.
 */
export type TableCell = string | number | boolean | null

/** null and '' print as "-" so an empty column stays visible. */
export function formatCell(v: TableCell): string {
  if (v === null || v === '') return '-'
  return String(v)
}

export function renderTable(headers: readonly string[], rows: readonly (readonly TableCell[])[]): string[] {
  const text = rows.map((r) => headers.map((_, i) => formatCell(r[i] ?? null)))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...text.map(line)]
}
