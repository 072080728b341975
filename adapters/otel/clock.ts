import type { HrTime } from '@opentelemetry/api'

/**
 * The front end stamps messages with process.hrtime.bigint() (monotonic, cheap); spans need wall
 * time. One anchor taken at load maps the first onto the second: both clocks tick at the same
 * rate, so the offset holds for the life of the process (NTP steps move Date, not this anchor,
 * which is what a duration wants).
 */
const anchorNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint()

export function epochOf(monotonic: bigint): HrTime {
  const ns = monotonic + anchorNs
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]
}

/** Seconds elapsed since a process.hrtime.bigint() reading. */
export function secondsSince(monotonic: bigint): number {
  return Number(process.hrtime.bigint() - monotonic) / 1e9
}
