/**
 * Statement digest: the token stream with every literal replaced by `?`, so statements that differ
 * only in values share one cached plan (ProxySQL's digests, Vitess's normalized plan cache).
 *
 * - Literal values are kept in order as *slots*; a cached plan refers to slot numbers and is
 *   applied to a new statement's slots.
 * - A parenthesised run of literals after IN collapses into one list slot (`IN (?,...)`), so IN
 *   lists of any length share a digest and later slot numbers do not shift with the list length.
 * - Multi-row INSERT … VALUES rows are not collapsed: each row count is its own digest (nova's
 *   multi-row inserts are few and short, and per-row slots keep INSERT plans trivial).
 * - Words are upper-cased in the digest (tables are matched case-insensitively anyway). NULL,
 *   TRUE and FALSE stay keywords, so SQLAlchemy's empty IN, `IN (NULL)`, has its own digest.
 *
 * The digest also keeps, per digest token, its offsets in the original text: plans name digest
 * token numbers (stable for a digest) and rewrite the text at those offsets.
 */
import type { Token, TokenizeOptions } from './tokenize.js'
import { tokenize } from './tokenize.js'

export type LiteralKind = 'string' | 'number' | 'hex' | 'bit' | 'param'

export interface Literal {
  readonly kind: LiteralKind
  /** Decoded value for strings, the digits for numbers/hex/bit, '?' or '%s' for params. */
  readonly value: string
  readonly start: number
  readonly end: number
}

export interface LiteralList {
  readonly kind: 'list'
  readonly items: readonly Literal[]
  readonly start: number
  readonly end: number
}

export type Slot = Literal | LiteralList

/** A token of the digest stream: a lexer token, or a slot (literal or collapsed list). */
export type DigestToken =
  | { readonly kind: 'token'; readonly token: Token }
  | { readonly kind: 'slot'; readonly slot: number; readonly start: number; readonly end: number }

export interface Digest {
  readonly text: string
  readonly slots: readonly Slot[]
  readonly stream: readonly DigestToken[]
}

export type DigestResult =
  | { readonly ok: true; readonly digest: Digest }
  | { readonly ok: false; readonly reason: string; readonly at: number }

const LITERAL: ReadonlySet<string> = new Set(['string', 'number', 'hex', 'bit', 'param'])

function literalOf(t: Token): Literal {
  return { kind: t.kind as LiteralKind, value: t.text, start: t.start, end: t.end }
}

function render(t: Token): string {
  switch (t.kind) {
    case 'word':
      return t.upper
    case 'qident':
      return '`' + t.text.toUpperCase().replace(/`/g, '``') + '`'
    case 'var':
      return '@' + t.text
    case 'sysvar':
      return '@@' + t.text
    default:
      return t.text
  }
}

export function digestTokens(tokens: readonly Token[]): Digest {
  const slots: Slot[] = []
  const stream: DigestToken[] = []
  const parts: string[] = []
  const n = tokens.length
  for (let i = 0; i < n; i++) {
    const t = tokens[i]!
    if (LITERAL.has(t.kind)) {
      // IN ( lit , lit , … ) → one list slot.
      const prev = tokens[i - 1]
      const before = tokens[i - 2]
      if (prev?.kind === 'op' && prev.text === '(' && before?.kind === 'word' && before.upper === 'IN') {
        const items: Literal[] = [literalOf(t)]
        let j = i + 1
        while (j + 1 < n && tokens[j]!.kind === 'op' && tokens[j]!.text === ',' && LITERAL.has(tokens[j + 1]!.kind)) {
          items.push(literalOf(tokens[j + 1]!))
          j += 2
        }
        const close = tokens[j]
        if (close?.kind === 'op' && close.text === ')') {
          const last = items[items.length - 1]!
          stream.push({ kind: 'slot', slot: slots.length, start: t.start, end: last.end })
          slots.push({ kind: 'list', items, start: t.start, end: last.end })
          parts.push('?,...')
          i = j - 1
          continue
        }
      }
      stream.push({ kind: 'slot', slot: slots.length, start: t.start, end: t.end })
      slots.push(literalOf(t))
      parts.push('?')
      continue
    }
    stream.push({ kind: 'token', token: t })
    parts.push(render(t))
  }
  // A trailing ';' is not part of the statement's shape.
  if (parts[parts.length - 1] === ';') {
    parts.pop()
    stream.pop()
  }
  return { text: parts.join(' '), slots, stream }
}

export function digest(sql: string, options: TokenizeOptions = {}): DigestResult {
  const t = tokenize(sql, options)
  if (t.error) return { ok: false, reason: t.error.reason, at: t.error.at }
  return { ok: true, digest: digestTokens(t.tokens) }
}
