/**
 * What resolving a cached shape needs of one statement: its literal slots and where each digest
 * token sits in its text. A statement digested in full answers from its own stream; one matched
 * against a statement template (template.ts) answers from the template's stream, shifted by how
 * much longer or shorter its literals are.
 */
import type { Digest, Slot } from './digest.js'
import type { Token } from './tokenize.js'

export interface DigestView {
  readonly slots: readonly Slot[]
  /** Offset of digest token `index` in the text, or -1 past the end of the stream. */
  startOf(index: number): number
  /** Offset after digest token `index`, or -1 past the end of the stream. */
  endOf(index: number): number
  /** The lexer token at digest index `index`; undefined for a slot or past the end. */
  tokenAt(index: number): Token | undefined
}

export function streamView(d: Digest): DigestView {
  return {
    slots: d.slots,
    startOf: (i) => {
      const t = d.stream[i]
      return t === undefined ? -1 : t.kind === 'slot' ? t.start : t.token.start
    },
    endOf: (i) => {
      const t = d.stream[i]
      return t === undefined ? -1 : t.kind === 'slot' ? t.end : t.token.end
    },
    tokenAt: (i) => {
      const t = d.stream[i]
      return t?.kind === 'token' ? t.token : undefined
    },
  }
}

/**
 * The view of a statement that differs from the template digest `base` only inside its literals,
 * whose new spans are `slots` (same count and order as base.slots). A token's offset moves by the
 * length change of the literals before it.
 */
export function rebasedView(base: Digest, baseSlotEnds: Int32Array, slots: readonly Slot[]): DigestView {
  const shift = (offset: number): number => {
    // The last base slot ending at or before `offset` (tokens never sit inside a slot).
    let lo = 0
    let hi = baseSlotEnds.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (baseSlotEnds[mid]! <= offset) lo = mid + 1
      else hi = mid
    }
    return lo === 0 ? offset : offset + slots[lo - 1]!.end - baseSlotEnds[lo - 1]!
  }
  return {
    slots,
    startOf: (i) => {
      const t = base.stream[i]
      return t === undefined ? -1 : t.kind === 'slot' ? slots[t.slot]!.start : shift(t.token.start)
    },
    endOf: (i) => {
      const t = base.stream[i]
      return t === undefined ? -1 : t.kind === 'slot' ? slots[t.slot]!.end : shift(t.token.end)
    },
    tokenAt: (i) => {
      const t = base.stream[i]
      return t?.kind === 'token' ? t.token : undefined
    },
  }
}
