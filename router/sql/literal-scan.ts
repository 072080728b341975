/**
 * The lexer's rules for where a literal ends, shared by the tokenizer (tokenize.ts) and the
 * statement-template matcher (template.ts). One copy of each rule: the matcher accepts a statement
 * only where these agree with what the tokenizer would have produced, so the two must never
 * diverge.
 */

export function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c >= 0x80
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}
export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12
}

const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' }

/**
 * Reads the quoted run whose opening quote `q` is at `at`: doubled quotes and (with `escapes`)
 * backslash escapes. Returns [decoded, offset after the closing quote], or null when unterminated.
 */
export function readQuoted(sql: string, at: number, q: number, escapes: boolean): [string, number] | null {
  const n = sql.length
  let j = at + 1
  let out = ''
  let from = j
  while (j < n) {
    const c = sql.charCodeAt(j)
    if (c === 92 && escapes) {
      out += sql.slice(from, j)
      const e = sql[j + 1]
      if (e === undefined) return null
      // \% and \_ keep their backslash (they are LIKE escapes), others map or drop it.
      out += e === '%' || e === '_' ? '\\' + e : (ESCAPES[e] ?? e)
      j += 2
      from = j
      continue
    }
    if (c === q) {
      if (sql.charCodeAt(j + 1) === q) {
        out += sql.slice(from, j + 1)
        j += 2
        from = j
        continue
      }
      return [out + sql.slice(from, j), j + 1]
    }
    j++
  }
  return null
}

/**
 * End of the number starting at `i` (digits, an optional fraction, an optional exponent). When an
 * identifier character follows, MySQL reads the whole run as an identifier (`1abc`): the caller
 * checks that with isIdentChar at the returned offset.
 */
export function numberEnd(sql: string, i: number): number {
  const n = sql.length
  let j = i
  while (j < n && isDigit(sql.charCodeAt(j))) j++
  if (sql.charCodeAt(j) === 46) {
    j++
    while (j < n && isDigit(sql.charCodeAt(j))) j++
  }
  const e = sql.charCodeAt(j)
  if (e === 101 || e === 69) {
    let k = j + 1
    const s = sql.charCodeAt(k)
    if (s === 43 || s === 45) k++
    if (isDigit(sql.charCodeAt(k))) {
      while (k < n && isDigit(sql.charCodeAt(k))) k++
      j = k
    }
  }
  return j
}

/** `%s` (not `%suffix`) at `i`: a pyformat placeholder not yet interpolated. */
export function isPercentS(sql: string, i: number): boolean {
  return sql.charCodeAt(i) === 37 && sql.charCodeAt(i + 1) === 115 && !(i + 2 < sql.length && isIdentChar(sql.charCodeAt(i + 2)))
}

/** End of the `%(name)s` placeholder starting at `i`, or -1 when there is none. */
export function pyformatEnd(sql: string, i: number): number {
  if (sql.charCodeAt(i) !== 37 || sql.charCodeAt(i + 1) !== 40) return -1
  const close = sql.indexOf(')', i + 2)
  return close > 0 && sql[close + 1] === 's' && /^[\w]+$/.test(sql.slice(i + 2, close)) ? close + 2 : -1
}
