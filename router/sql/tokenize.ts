/**
 * MySQL/MariaDB lexer for shard-mode routing. One pass over char codes, no regular expressions in
 * the loop: it runs on every statement, and the routing budget is a few microseconds.
 *
 * Dialect (default sql_mode, no ANSI_QUOTES, as oslo.db's TRADITIONAL):
 * - "…" and '…' are strings; doubled quotes and backslash escapes (unless the session has
 *   NO_BACKSLASH_ESCAPES, status flag 0x0200); adjacent strings concatenate as MySQL does.
 * - `…` quoted identifiers with doubled backquotes.
 * - _charset'…' and N'…' introducers fold into the string token; X'…'/0x… hex and B'…'/0b… bit
 *   literals; numbers with fraction and exponent; digits followed by letters are identifiers.
 * - ? and %s / %(name)s placeholders (prepared statements, pyformat text not yet interpolated).
 * - -- (followed by a space or control char), # and /* *\/ comments are skipped; /*! … *\/ and
 *   /*M! … *\/ executable comments are tokenized as SQL (the server runs them), optimizer hints
 *   /*+ … *\/ are comments.
 * Positions are offsets into the original text so plans can rewrite literals in place.
 */

import { isDigit, isIdentChar, isPercentS, isSpace, numberEnd, pyformatEnd, readQuoted } from './literal-scan.js'

export type TokenKind = 'word' | 'qident' | 'string' | 'number' | 'hex' | 'bit' | 'param' | 'var' | 'sysvar' | 'op'

export interface Token {
  readonly kind: TokenKind
  /** Offset of the first character in the statement. */
  readonly start: number
  /** Offset after the last character. */
  readonly end: number
  /**
   * word: as written; qident: unquoted; string: decoded value; number/hex/bit: as written
   * (hex/bit without the prefix and quotes); param: '?' or the %-form; var: the name after @;
   * sysvar: the name after @@ (with its scope, e.g. 'session.sql_mode'); op: the operator.
   */
  readonly text: string
  /** Upper-case `text` for words (keyword comparisons), else ''. */
  readonly upper: string
  /** The introducer charset of a string (`_utf8mb4'x'` → 'utf8mb4', N'x' → 'utf8'), else ''. */
  readonly charset: string
}

export interface TokenizeError {
  readonly reason: 'unterminated string' | 'unterminated quoted identifier' | 'unterminated comment'
  readonly at: number
}

export interface Tokenized {
  readonly tokens: readonly Token[]
  readonly error: TokenizeError | null
}

/** Charsets MySQL accepts as `_name` introducers; any other `_word` is an identifier. */
const INTRODUCERS = new Set([
  'armscii8', 'ascii', 'big5', 'binary', 'cp1250', 'cp1251', 'cp1256', 'cp1257', 'cp850', 'cp852', 'cp866', 'cp932',
  'dec8', 'eucjpms', 'euckr', 'gb2312', 'gbk', 'geostd8', 'greek', 'hebrew', 'hp8', 'keybcs2', 'koi8r', 'koi8u',
  'latin1', 'latin2', 'latin5', 'latin7', 'macce', 'macroman', 'sjis', 'swe7', 'tis620', 'ucs2', 'ujis', 'utf16',
  'utf16le', 'utf32', 'utf8', 'utf8mb3', 'utf8mb4', 'gb18030',
])

const THREE_CHAR_OPS = ['<=>', '->>']
const TWO_CHAR_OPS = new Set(['<=', '>=', '<>', '!=', ':=', '||', '&&', '<<', '>>', '->'])
/** First characters of the operators above. */
const MULTI_OP_START: ReadonlySet<number> = new Set([...THREE_CHAR_OPS, ...TWO_CHAR_OPS].map((op) => op.charCodeAt(0)))

export interface TokenizeOptions {
  /** The session's NO_BACKSLASH_ESCAPES (server status flag 0x0200): backslash is literal. */
  readonly noBackslashEscapes?: boolean
}

export function tokenize(sql: string, options: TokenizeOptions = {}): Tokenized {
  const noEsc = options.noBackslashEscapes === true
  const tokens: Token[] = []
  const n = sql.length
  let i = 0
  let inExecutable = false
  // Words' upper case sliced from one upper-cased copy of the statement: one toUpperCase per
  // statement instead of one per word (a third of the lexer's time on nova's 5 KB SELECTs).
  // Only when no character changed length in upper case (ß → SS would shift every offset after it).
  const upperAll = sql.toUpperCase()
  const aligned = upperAll.length === n
  const upperOf = (from: number, to: number, text: string): string => (aligned ? upperAll.slice(from, to) : text.toUpperCase())
  const push = (kind: TokenKind, start: number, end: number, text: string, upper = '', charset = ''): void => {
    tokens.push({ kind, start, end, text, upper, charset })
  }
  const quoted = (at: number, q: number, escapes: boolean): [string, number] | null => readQuoted(sql, at, q, escapes)
  const pushString = (start: number, quoteAt: number, charset: string): TokenizeError | null => {
    const r = quoted(quoteAt, sql.charCodeAt(quoteAt), !noEsc)
    if (r === null) return { reason: 'unterminated string', at: start }
    const prev = tokens[tokens.length - 1]
    // 'a' 'b' is one string 'ab' to MySQL; keep it one literal so the digest does not change.
    if (prev !== undefined && prev.kind === 'string' && charset === '' && sql.slice(prev.end, start).trim() === '') {
      tokens[tokens.length - 1] = { ...prev, end: r[1], text: prev.text + r[0] }
    } else push('string', start, r[1], r[0], '', charset)
    i = r[1]
    return null
  }

  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    // Comments.
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const bang = sql.charCodeAt(i + 2) === 33
      const mBang = sql.charCodeAt(i + 2) === 77 && sql.charCodeAt(i + 3) === 33
      if ((bang || mBang) && !inExecutable) {
        // Executable comment: skip the marker and an optional version number, then lex the body.
        i += bang ? 3 : 4
        while (i < n && isDigit(sql.charCodeAt(i))) i++
        inExecutable = true
        continue
      }
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) return { tokens, error: { reason: 'unterminated comment', at: i } }
      i = end + 2
      continue
    }
    if (c === 42 && inExecutable && sql.charCodeAt(i + 1) === 47) {
      inExecutable = false
      i += 2
      continue
    }
    if (c === 35 || (c === 45 && sql.charCodeAt(i + 1) === 45 && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32))) {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? n : end + 1
      continue
    }
    // Strings.
    if (c === 39 || c === 34) {
      const err = pushString(i, i, '')
      if (err) return { tokens, error: err }
      continue
    }
    if (c === 96) {
      const r = quoted(i, 96, false)
      if (r === null) return { tokens, error: { reason: 'unterminated quoted identifier', at: i } }
      push('qident', i, r[1], r[0])
      i = r[1]
      continue
    }
    // X'..', B'..', N'..'
    const next = sql.charCodeAt(i + 1)
    if (next === 39 && (c === 88 || c === 120 || c === 66 || c === 98)) {
      const end = sql.indexOf("'", i + 2)
      if (end < 0) return { tokens, error: { reason: 'unterminated string', at: i } }
      push(c === 88 || c === 120 ? 'hex' : 'bit', i, end + 1, sql.slice(i + 2, end))
      i = end + 1
      continue
    }
    if (next === 39 && (c === 78 || c === 110)) {
      const err = pushString(i, i + 1, 'utf8')
      if (err) return { tokens, error: err }
      continue
    }
    // 0x.. and 0b.. (only when the whole run is valid, else it is an identifier like 0xzz).
    if (c === 48 && (next === 120 || next === 98)) {
      let j = i + 2
      const hex = next === 120
      while (j < n && (hex ? /[0-9a-fA-F]/.test(sql[j]!) : sql[j] === '0' || sql[j] === '1')) j++
      if (j > i + 2 && !(j < n && isIdentChar(sql.charCodeAt(j)))) {
        push(hex ? 'hex' : 'bit', i, j, sql.slice(i + 2, j))
        i = j
        continue
      }
    }
    // Numbers (and identifiers that start with digits).
    if (isDigit(c) || (c === 46 && isDigit(next) && !isIdentBefore(tokens, sql, i))) {
      const j = numberEnd(sql, i)
      if (j < n && isIdentChar(sql.charCodeAt(j)) && c !== 46) {
        // 1abc is an identifier in MySQL.
        let k = j
        while (k < n && isIdentChar(sql.charCodeAt(k))) k++
        const text = sql.slice(i, k)
        push('word', i, k, text, upperOf(i, k, text))
        i = k
        continue
      }
      push('number', i, j, sql.slice(i, j))
      i = j
      continue
    }
    // Words (keywords, identifiers, introducers).
    if (isIdentChar(c)) {
      let j = i + 1
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++
      const text = sql.slice(i, j)
      if (c === 95) {
        let k = j
        while (k < n && isSpace(sql.charCodeAt(k))) k++
        const q = sql.charCodeAt(k)
        const cs = text.slice(1).toLowerCase()
        if ((q === 39 || q === 34) && INTRODUCERS.has(cs)) {
          const err = pushString(i, k, cs)
          if (err) return { tokens, error: err }
          continue
        }
      }
      push('word', i, j, text, upperOf(i, j, text))
      i = j
      continue
    }
    // Variables.
    if (c === 64) {
      if (next === 64) {
        let j = i + 2
        while (j < n && (isIdentChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46)) j++
        push('sysvar', i, j, sql.slice(i + 2, j).toLowerCase())
        i = j
        continue
      }
      if (next === 39 || next === 34 || next === 96) {
        const r = quoted(i + 1, next, next !== 96 && !noEsc)
        if (r === null) return { tokens, error: { reason: 'unterminated string', at: i } }
        push('var', i, r[1], r[0])
        i = r[1]
        continue
      }
      let j = i + 1
      while (j < n && (isIdentChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46)) j++
      push('var', i, j, sql.slice(i + 1, j))
      i = j
      continue
    }
    // Placeholders.
    if (c === 63) {
      push('param', i, i + 1, '?')
      i++
      continue
    }
    if (isPercentS(sql, i)) {
      push('param', i, i + 2, '%s')
      i += 2
      continue
    }
    const py = pyformatEnd(sql, i)
    if (py > 0) {
      push('param', i, py, sql.slice(i, py))
      i = py
      continue
    }
    // Operators and punctuation: most are one character (`,` `.` `(` `)` `=`) and take no slices.
    if (!MULTI_OP_START.has(c)) {
      push('op', i, i + 1, sql[i]!)
      i++
      continue
    }
    const three = sql.slice(i, i + 3)
    if (THREE_CHAR_OPS.includes(three)) {
      push('op', i, i + 3, three)
      i += 3
      continue
    }
    const two = sql.slice(i, i + 2)
    if (TWO_CHAR_OPS.has(two)) {
      push('op', i, i + 2, two)
      i += 2
      continue
    }
    push('op', i, i + 1, sql[i]!)
    i++
  }
  return { tokens, error: null }
}

/** `t.5col`-style qualified names: a '.' right after an identifier is a qualifier, not a number. */
function isIdentBefore(tokens: readonly Token[], sql: string, at: number): boolean {
  const prev = tokens[tokens.length - 1]
  return prev !== undefined && prev.end === at && (prev.kind === 'word' || prev.kind === 'qident') && sql[at] === '.'
}
