/**
 * The front end stamps messages with process.hrtime.bigint() (monotonic, cheap); spans take
 * their times as milliseconds on the performance clock (the SDK adds timeOrigin). One anchor
 * taken at load maps the first onto the second: both are monotonic and tick at the same rate.
 * Number arithmetic, not BigInt division: this runs per sampled span.
 */
const anchorHr = process.hrtime.bigint()
const anchorPerfMs = performance.now()

/** A process.hrtime.bigint() reading as a performance.now() value (ms), for span start times. */
export function perfMsOf(monotonic: bigint): number {
  return anchorPerfMs + Number(monotonic - anchorHr) / 1e6
}
