/**
 * Group commit: items submitted while a flush is in flight wait and go together in the next one,
 * so N concurrent writers cost ~2 round trips (and 2 commits) instead of N serialized ones. At most
 * one flush runs at a time, so the store sees the batches in submission order.
 */
export class GroupCommit<T, R> {
  private waiting: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = []
  private flushing = false

  constructor(
    private readonly flush: (items: readonly T[]) => Promise<R>,
    private readonly maxBatch = 256,
  ) {}

  /** Resolves with the result of the flush that carried `item`. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      if (!this.flushing) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.flushing = true
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch)
      try {
        const r = await this.flush(batch.map((w) => w.item))
        for (const w of batch) w.resolve(r)
      } catch (e) {
        for (const w of batch) w.reject(e)
      }
    }
    this.flushing = false
  }
}
