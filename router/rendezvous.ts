/**
 * Rendezvous (highest-random-weight) hashing: a host with no mapping goes to the cell with the
 * highest weight(cell, host). Every cellgate computes the same answer from the same cell list
 * without talking to the others, and adding or removing a cell only moves the hosts that win
 * or lose that one cell.
 *
 * The weight must be identical on every process, machine and release, so it is defined here
 * bit for bit rather than borrowed from a runtime:
 *   bytes(s)        = UTF-8 of s (lone surrogates as U+FFFD, like TextEncoder)
 *   fnv1a64(s)      = 64-bit FNV-1a over bytes(s) (offset 0xcbf29ce484222325, prime 0x100000001b3)
 *   fmix64(k)       = MurmurHash3's 64-bit finaliser (xor-shift 33, ×0xff51afd7ed558ccd,
 *                     xor-shift 33, ×0xc4ceb9fe1a85ec53, xor-shift 33), mod 2^64
 *   weight(cell, h) = fmix64(fnv1a64(h) XOR fmix64(fnv1a64(cell)))
 * FNV-1a alone mixes the last bytes poorly (hosts differ in their last digits: node1, node2…);
 * the finaliser gives full avalanche. Ties (probability 2^-64) go to the smaller cell name.
 * Changing any of this moves hosts between cells on upgrade: don't.
 */

const MASK64 = (1n << 64n) - 1n
const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n

export function fnv1a64(s: string): bigint {
  let h = FNV_OFFSET
  for (const b of utf8(s)) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64
  return h
}

export function fmix64(k: bigint): bigint {
  let x = k & MASK64
  x ^= x >> 33n
  x = (x * 0xff51afd7ed558ccdn) & MASK64
  x ^= x >> 33n
  x = (x * 0xc4ceb9fe1a85ec53n) & MASK64
  x ^= x >> 33n
  return x
}

export function rendezvousWeight(cell: string, host: string): bigint {
  return fmix64(fnv1a64(host) ^ fmix64(fnv1a64(cell)))
}

/**
 * The winning cell for `host` among `cells` (names of the enabled work cells, any order), or
 * undefined when there is none. The order of `cells` never changes the answer.
 */
export function rendezvousCell(host: string, cells: readonly string[]): string | undefined {
  const h = fnv1a64(host)
  let best: string | undefined
  let bestWeight = -1n
  for (const cell of cells) {
    const w = fmix64(h ^ cellSeed(cell))
    if (w > bestWeight || (w === bestWeight && best !== undefined && cell < best)) {
      best = cell
      bestWeight = w
    }
  }
  return best
}

// Cell names are few and long-lived; their seeds are memoised (bounded: a runaway caller with
// endless names only resets the memo).
const seeds = new Map<string, bigint>()
function cellSeed(cell: string): bigint {
  let s = seeds.get(cell)
  if (s === undefined) {
    if (seeds.size >= 4096) seeds.clear()
    s = fmix64(fnv1a64(cell))
    seeds.set(cell, s)
  }
  return s
}

function* utf8(s: string): Generator<number> {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        i++
      } else c = 0xfffd
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd
    if (c < 0x80) yield c
    else if (c < 0x800) {
      yield 0xc0 | (c >> 6)
      yield 0x80 | (c & 0x3f)
    } else if (c < 0x10000) {
      yield 0xe0 | (c >> 12)
      yield 0x80 | ((c >> 6) & 0x3f)
      yield 0x80 | (c & 0x3f)
    } else {
      yield 0xf0 | (c >> 18)
      yield 0x80 | ((c >> 12) & 0x3f)
      yield 0x80 | ((c >> 6) & 0x3f)
      yield 0x80 | (c & 0x3f)
    }
  }
}
