import type { Histogram } from '@opentelemetry/sdk-metrics'

/**
 * Bucket bounds in seconds. The semantic conventions' advisory buckets start at 5 ms, but a hop
 * through cellgate takes tens to hundreds of µs, so finer bounds come first.
 */
export const LATENCY_BOUNDS_S: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
])

/**
 * A fixed-bucket, cumulative histogram recorded on the hot path: no attribute hashing, no
 * allocation, a short scan (most values land in the first buckets). The SDK's own instruments
 * hash their attributes on every record, which costs more than the whole measurement here.
 */
export class LatencyHistogram {
  private readonly counts: Float64Array
  private sum = 0
  private count = 0
  private min = Infinity
  private max = -Infinity

  constructor(private readonly bounds: readonly number[] = LATENCY_BOUNDS_S) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  record(seconds: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && seconds > b[i]!) i++
    this.counts[i]!++
    this.count++
    this.sum += seconds
    if (seconds < this.min) this.min = seconds
    if (seconds > this.max) this.max = seconds
  }

  get total(): number {
    return this.count
  }

  /** The OpenTelemetry data point value (a copy: exporters may hold it after the next record). */
  snapshot(): Histogram {
    return {
      buckets: { boundaries: [...this.bounds], counts: Array.from(this.counts) },
      sum: this.sum,
      count: this.count,
      ...(this.count > 0 ? { min: this.min, max: this.max } : {}),
    }
  }
}

/** A monotonic count, as a mutable cell a series holds. */
export class Count {
  value = 0
}
