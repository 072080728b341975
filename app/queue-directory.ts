/**
 * Where the queues declared through this cellgate live, so a publish to a queue by name (an oslo
 * reply to `reply_<hex>`, a default-exchange publish) goes to the cell that holds it, whichever
 * connection declared it. Entries are counted per declaring connection and forgotten when the
 * last one goes, so the directory is bounded by the queues that have a live declarer.
 */
export class QueueDirectory {
  private readonly queues = new Map<string, { cells: readonly string[]; declarers: Set<string> }>()

  declared(queue: string, cells: readonly string[], connection: string): void {
    const entry = this.queues.get(queue)
    if (entry === undefined) this.queues.set(queue, { cells, declarers: new Set([connection]) })
    else entry.declarers.add(connection)
  }

  cellsOf(queue: string): readonly string[] | undefined {
    return this.queues.get(queue)?.cells
  }

  /** A remap moved the queue: publishes and re-declarations go to its new cells from now on. */
  relocate(queue: string, cells: readonly string[]): void {
    const entry = this.queues.get(queue)
    if (entry !== undefined) entry.cells = cells
  }

  deleted(queue: string): void {
    this.queues.delete(queue)
  }

  connectionClosed(connection: string, queues: Iterable<string>): void {
    for (const q of queues) {
      const entry = this.queues.get(q)
      if (entry === undefined) continue
      entry.declarers.delete(connection)
      if (entry.declarers.size === 0) this.queues.delete(q)
    }
  }

  get size(): number {
    return this.queues.size
  }

  /** Every known queue and its cells, in declaration order: for the operator view only. */
  *entries(): IterableIterator<readonly [queue: string, cells: readonly string[]]> {
    for (const [queue, entry] of this.queues) yield [queue, entry.cells]
  }
}
