/**
 * A metric's labelled series, found by nested Map lookups so that a hot-path increment allocates
 * nothing (a joined string key would). The number of series is capped: past it, new label
 * combinations share one overflow series instead of growing memory and the scrape.
 */
export const OVERFLOW = '_overflow'

export interface Series<T> {
  readonly labels: readonly string[]
  readonly value: T
}

type Level<T> = Map<string, Level<T> | Series<T>>

export class Family<T> {
  private readonly root: Level<T> = new Map()
  private readonly all: Series<T>[] = []
  private overflow: Series<T> | undefined

  constructor(
    readonly labelNames: readonly string[],
    private readonly make: () => T,
    private readonly maxSeries = 2000,
  ) {}

  get series(): readonly Series<T>[] {
    return this.overflow === undefined ? this.all : [...this.all, this.overflow]
  }

  get1(a: string): T {
    return this.leaf(this.root, a, a, undefined, undefined)
  }

  get2(a: string, b: string): T {
    return this.leaf(this.level(this.root, a), b, a, b, undefined)
  }

  get3(a: string, b: string, c: string): T {
    return this.leaf(this.level(this.level(this.root, a), b), c, a, b, c)
  }

  private level(parent: Level<T>, key: string): Level<T> {
    let next = parent.get(key) as Level<T> | undefined
    if (next === undefined) {
      // Over the cap nothing new is stored, not even an inner level: lookups then miss into the overflow.
      if (this.all.length >= this.maxSeries) return new Map()
      next = new Map()
      parent.set(key, next)
    }
    return next
  }

  // The label values come one by one so that a hit builds no array.
  private leaf(parent: Level<T>, key: string, a: string, b: string | undefined, c: string | undefined): T {
    const hit = parent.get(key) as Series<T> | undefined
    if (hit !== undefined) return hit.value
    if (this.all.length >= this.maxSeries) {
      this.overflow ??= { labels: this.labelNames.map(() => OVERFLOW), value: this.make() }
      return this.overflow.value
    }
    const labels = b === undefined ? [a] : c === undefined ? [a, b] : [a, b, c]
    const s: Series<T> = { labels, value: this.make() }
    parent.set(key, s)
    this.all.push(s)
    return s.value
  }
}
