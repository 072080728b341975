/**
 * Statement templates: the cached-plan path without tokenizing.
 *
 * Clients send the same statement texts again and again with other values (SQLAlchemy renders
 * each query shape to one text). A template is one such text cut at its literals: the segments
 * between them, and the digest and shape computed for it in full once. A new statement matches
 * when every segment is found verbatim at its place and every gap holds one literal, read by the
 * tokenizer's own rules (literal-scan.ts) — for a 6 KB nova SELECT a few memcmp-speed string
 * comparisons instead of a character loop the machine runs at several ns per character.
 *
 * Why a match gives the tokenizer's answer: the tokenizer reads left to right, and outside the
 * literals the two texts are the same; a gap read as one literal by the same rule that ended the
 * template's literal leaves the tokenizer in the same state after it. Templates are only made where
 * that argument is simple: plain '…' / "…" strings, unsigned digits, ?, %s, %(name)s, IN lists of
 * those separated by commas and spaces, and no two literals separated by spaces alone (MySQL joins
 * adjacent strings). Each template must first reproduce its own statement's slots exactly (a
 * self-check); anything else stays on the full path.
 */
import type { Digest, Literal, Slot } from './digest.js'
import { isDigit, isIdentChar, isPercentS, isSpace, numberEnd, pyformatEnd, readQuoted } from './literal-scan.js'
import type { Shape } from './shape.js'

export interface StatementTemplate {
  /** Text before the first literal, between literals, and after the last (literals + 1 entries). */
  readonly segments: readonly string[]
  /** Per literal slot: a collapsed IN list. */
  readonly lists: readonly boolean[]
  /** The template statement's full digest; token positions are rebased from it. */
  readonly digest: Digest
  /** End offset of each of the template's slots, ascending. */
  readonly slotEnds: Int32Array
  readonly shape: Shape
}

/** The literal token at `at`, read as the tokenizer would, or null when it is not a simple one. */
function literalAt(sql: string, at: number, escapes: boolean): Literal | null {
  const c = sql.charCodeAt(at)
  if (c === 39 || c === 34) {
    const r = readQuoted(sql, at, c, escapes)
    return r === null ? null : { kind: 'string', value: r[0], start: at, end: r[1] }
  }
  if (isDigit(c)) {
    const next = sql.charCodeAt(at + 1)
    // 0x… / 0b… may be hex or bit literals or identifiers: the tokenizer decides, not this.
    if (c === 48 && (next === 120 || next === 98)) return null
    const end = numberEnd(sql, at)
    if (end < sql.length && isIdentChar(sql.charCodeAt(end))) return null
    return { kind: 'number', value: sql.slice(at, end), start: at, end }
  }
  if (c === 63) return { kind: 'param', value: '?', start: at, end: at + 1 }
  if (isPercentS(sql, at)) return { kind: 'param', value: '%s', start: at, end: at + 2 }
  const py = pyformatEnd(sql, at)
  return py > 0 ? { kind: 'param', value: sql.slice(at, py), start: at, end: py } : null
}

function skipSpace(sql: string, at: number): number {
  while (at < sql.length && isSpace(sql.charCodeAt(at))) at++
  return at
}

/** The IN list at `at`: literals separated by commas and spaces, as long as another follows. */
function listAt(sql: string, at: number, escapes: boolean): Slot | null {
  const first = literalAt(sql, at, escapes)
  if (first === null) return null
  const items: Literal[] = [first]
  let end = first.end
  for (;;) {
    const comma = skipSpace(sql, end)
    if (sql.charCodeAt(comma) !== 44) break
    const item = literalAt(sql, skipSpace(sql, comma + 1), escapes)
    if (item === null) break
    items.push(item)
    end = item.end
  }
  return { kind: 'list', items, start: at, end }
}

function segmentAt(sql: string, at: number, segment: string): boolean {
  // slice + === compares at memcmp speed; startsWith(segment, at) walks characters.
  return sql.length - at >= segment.length && sql.slice(at, at + segment.length) === segment
}

/** The new statement's slots when `sql` is `t`'s text with other literals, else null. */
export function matchTemplate(t: StatementTemplate, sql: string, escapes: boolean): Slot[] | null {
  const segments = t.segments
  if (!segmentAt(sql, 0, segments[0]!)) return null
  let at = segments[0]!.length
  const slots: Slot[] = []
  for (let k = 1; k < segments.length; k++) {
    const slot = t.lists[k - 1] === true ? listAt(sql, at, escapes) : literalAt(sql, at, escapes)
    if (slot === null) return null
    slots.push(slot)
    at = slot.end
    const seg = segments[k]!
    if (!segmentAt(sql, at, seg)) return null
    at += seg.length
  }
  return at === sql.length ? slots : null
}

function sameLiteral(a: Literal, b: Literal): boolean {
  return a.kind === b.kind && a.value === b.value && a.start === b.start && a.end === b.end
}

function sameSlot(a: Slot, b: Slot): boolean {
  if (a.kind === 'list' || b.kind === 'list') {
    return a.kind === 'list' && b.kind === 'list' && a.start === b.start && a.end === b.end && a.items.length === b.items.length && a.items.every((x, i) => sameLiteral(x, b.items[i]!))
  }
  return sameLiteral(a, b)
}

/** The template of `sql` (digested in full as `d`), or null when it does not qualify. */
export function makeTemplate(sql: string, d: Digest, shape: Shape, escapes: boolean): StatementTemplate | null {
  const segments: string[] = []
  let at = 0
  for (const s of d.slots) {
    const seg = sql.slice(at, s.start)
    // Literals with only spaces between them (or none) may be one string to MySQL ('a' 'b').
    if (segments.length > 0 && seg.trim() === '') return null
    segments.push(seg)
    at = s.end
  }
  segments.push(sql.slice(at))
  const t: StatementTemplate = {
    segments,
    lists: d.slots.map((s) => s.kind === 'list'),
    digest: d,
    slotEnds: Int32Array.from(d.slots, (s) => s.end),
    shape,
  }
  const again = matchTemplate(t, sql, escapes)
  if (again === null || again.length !== d.slots.length || !again.every((s, i) => sameSlot(s, d.slots[i]!))) return null
  return t
}

/** Characters of the statement's start that pick its template group. */
const PROBE_CHARS = 64

/**
 * The group key: the text before the first character that could start a literal (at most
 * PROBE_CHARS). Every statement a template matches shares it, since it lies in the first segment.
 */
export function probeOf(sql: string): string {
  const n = Math.min(sql.length, PROBE_CHARS)
  for (let i = 0; i < n; i++) {
    const c = sql.charCodeAt(i)
    if (c === 39 || c === 34 || c === 63 || c === 37) return sql.slice(0, i)
    if (isDigit(c) && !(i > 0 && isIdentChar(sql.charCodeAt(i - 1)))) return sql.slice(0, i)
  }
  return sql.slice(0, n)
}
