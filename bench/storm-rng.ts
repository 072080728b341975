/**
 * A small seeded random generator (mulberry32) for the storm bench: the generator and the
 * replayer's expansion of periodic rules must draw the same numbers from the same seed on every
 * machine and Node version, which Math.random cannot promise.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number
  /** Exponential with the given mean (gaps of a Poisson process). */
  exp(mean: number): number
  pick<T>(xs: readonly T[]): T
}

/** Mixes a seed with stream numbers (rule index, node index...) so every stream is independent. */
function mix(seed: number, streams: readonly number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0
  for (const s of streams) {
    h = Math.imul(h ^ (s >>> 0), 0x85ebca6b) >>> 0
    h = (h ^ (h >>> 13)) >>> 0
    h = Math.imul(h, 0xc2b2ae35) >>> 0
    h = (h ^ (h >>> 16)) >>> 0
  }
  return h
}

export function rng(seed: number, ...streams: number[]): Rng {
  let a = mix(seed, streams)
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    uniform: (min, max) => min + next() * (max - min),
    exp: (mean) => -Math.log(1 - next()) * mean,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  }
}
