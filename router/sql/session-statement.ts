/**
 * Pure classification of a COM_QUERY text for what it does to the *session* (not where it goes):
 * a USE that changes the default database, SET statements whose effect must be replayed on any
 * backend connection the session later uses, and statements after which the session must stay on
 * its backend connection (ProxySQL's multiplexing rules: user variables, GET_LOCK, temporary
 * tables, text-protocol PREPARE, LOCK TABLES, SQL_CALC_FOUND_ROWS, XA, SET TRANSACTION for the next
 * transaction). Transactions themselves are tracked from server status flags, not from text.
 *
 * Works on a "skeleton": the statement with comments removed, string literals replaced by '?',
 * quoted identifiers unquoted into a placeholder, and upper-cased, so keywords inside strings or
 * comments never match.
 */

export interface SessionAssignment {
  /** Identity of the state it sets: a later assignment with the same key replaces it. */
  key: string
  /** The statement to replay on another connection. */
  sql: string
  /** Keys this assignment makes obsolete (SET NAMES overrides character_set_client, ...). */
  clears: readonly string[]
}

export type SessionEffect =
  | { kind: 'use'; database: string }
  | { kind: 'set'; assignments: SessionAssignment[]; pin: string | null }
  | { kind: 'other'; pin: string | null; unlockTables: boolean; tableLock: boolean }

const CHARSET_VARS = ['character_set_client', 'character_set_connection', 'character_set_results', 'collation_connection']
const ALIASES: Record<string, string> = { tx_isolation: 'transaction_isolation', tx_read_only: 'transaction_read_only' }

interface Lexed {
  /** Upper-cased skeleton: strings → ?, comments → space. */
  skeleton: string
  /** The original text with comments removed (literals kept), for replaying SETs. */
  text: string
}

/** Removes comments (keeping MariaDB/MySQL executable comments' content) and masks literals. */
export function lex(sql: string): Lexed {
  let skeleton = ''
  let text = ''
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const d = sql[i + 1]
    if (c === '/' && d === '*') {
      const end = sql.indexOf('*/', i + 2)
      const stop = end < 0 ? n : end
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) {
        // Executable comment: its body is SQL the server runs (after an optional version number).
        const body = sql.slice(i + (sql[i + 2] === '!' ? 3 : 4), stop).replace(/^\d{5,6}/, '')
        const inner = lex(body)
        skeleton += ' ' + inner.skeleton + ' '
        text += ' ' + inner.text + ' '
      } else {
        skeleton += ' '
        text += ' '
      }
      i = end < 0 ? n : end + 2
      continue
    }
    if ((c === '-' && d === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]!))) || c === '#') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? n : end + 1
      skeleton += ' '
      text += ' '
      continue
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < n) {
        const e = sql[j]!
        if (e === '\\' && c !== '`') {
          j += 2
          continue
        }
        if (e === c) {
          if (sql[j + 1] === c) {
            j += 2
            continue
          }
          break
        }
        j++
      }
      const lit = sql.slice(i, Math.min(j + 1, n))
      skeleton += c === '`' ? '`' + lit.slice(1, -1).toUpperCase() + '`' : '?'
      text += lit
      i = j + 1
      continue
    }
    skeleton += c.toUpperCase()
    text += c
    i++
  }
  return { skeleton, text }
}

/** Splits at top-level commas (outside parentheses; literals are already masked). */
function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  let quote = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
      continue
    }
    if (c === "'" || c === '"' || c === '`') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i))
      start = i + 1
    }
  }
  out.push(s.slice(start))
  return out
}

const USER_VAR = /(^|[^@\w$])@(?!@)/

function pinReason(sk: string): string | null {
  if (USER_VAR.test(sk)) return 'user variable'
  if (/\bGET_LOCK\s*\(/.test(sk)) return 'GET_LOCK'
  if (/^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\b/.test(sk)) return 'temporary table'
  if (/^\s*PREPARE\b/.test(sk)) return 'text-protocol PREPARE'
  if (/\bSQL_CALC_FOUND_ROWS\b/.test(sk)) return 'SQL_CALC_FOUND_ROWS'
  if (/^\s*XA\b/.test(sk)) return 'XA transaction'
  if (/^\s*HANDLER\b/.test(sk)) return 'HANDLER'
  return null
}

/** First words of every statement kind below that affects the session (USE, SET, the pinning ones). */
const SESSION_VERBS: ReadonlySet<string> = new Set(['USE', 'SET', 'LOCK', 'UNLOCK', 'FLUSH', 'CREATE', 'PREPARE', 'XA', 'HANDLER'])
// Looser than the texts it stands for (any `_lock` word end), because a regular expression that
// starts with a plain '_' runs at twice the speed of GET_LOCK|SQL_CALC_FOUND_ROWS on 6 KB SELECTs.
const PIN_ANYWHERE = /_(?:LOCK\b|CALC_FOUND_ROWS)/i
const NO_EFFECT: SessionEffect = Object.freeze({ kind: 'other', pin: null, unlockTables: false, tableLock: false }) as SessionEffect

/**
 * True when `sql` certainly has no session effect, decided without lexing: its first word is no
 * session verb and it contains none of the texts a pin needs ('@', GET_LOCK, SQL_CALC_FOUND_ROWS).
 * Conservative: a leading comment or non-letter sends it to the full classifier. This is the
 * path of nearly every statement; the full one costs ~0.1 µs per character.
 */
function plainly(sql: string): boolean {
  let i = 0
  const n = sql.length
  while (i < n && sql.charCodeAt(i) <= 32) i++
  let j = i
  for (; j < n; j++) {
    const c = sql.charCodeAt(j) | 0x20
    if (c < 97 || c > 122) break
  }
  if (j === i || j - i > 7) return j - i > 7 && sql.indexOf('@') < 0 && !PIN_ANYWHERE.test(sql)
  if (SESSION_VERBS.has(sql.slice(i, j).toUpperCase())) return false
  return sql.indexOf('@') < 0 && !PIN_ANYWHERE.test(sql)
}

export function classifySession(sql: string): SessionEffect {
  if (plainly(sql)) return { ...NO_EFFECT }
  const { skeleton, text } = lex(sql)
  const sk = skeleton.replace(/;\s*$/, '')
  const use = /^\s*USE\s+(`((?:[^`]|``)*)`|([^\s;`]+))\s*$/i.exec(text.replace(/;\s*$/, ''))
  if (use && /^\s*USE\b/.test(sk)) return { kind: 'use', database: use[2] !== undefined ? use[2].replace(/``/g, '`') : use[3]! }
  if (/^\s*SET\b/.test(sk)) return classifySet(sk, text.replace(/;\s*$/, ''))
  const tableLock = /^\s*LOCK\s+TABLES?\b/.test(sk) || /^\s*FLUSH\s+TABLES?\b.*\bWITH\s+READ\s+LOCK\b/.test(sk)
  const unlockTables = /^\s*UNLOCK\s+TABLES?\b/.test(sk)
  return { kind: 'other', pin: pinReason(sk), unlockTables, tableLock }
}

function classifySet(sk: string, text: string): SessionEffect {
  const body = /^\s*SET\b/i.exec(text)!
  const rest = text.slice(body[0].length)
  const skRest = sk.slice(/^\s*SET\b/.exec(sk)![0].length)
  // Statements that look like SET but are not session variables.
  if (/^\s*(PASSWORD|ROLE|DEFAULT\s+ROLE|STATEMENT|GLOBAL\b|@@GLOBAL\.)/.test(skRest)) return { kind: 'set', assignments: [], pin: null }
  if (/^\s*TRANSACTION\b/.test(skRest)) return { kind: 'set', assignments: [], pin: 'SET TRANSACTION (next transaction)' }
  if (/^\s*(SESSION|LOCAL)\s+TRANSACTION\b/.test(skRest)) {
    const norm = skRest.trim().replace(/\s+/g, ' ').replace(/^LOCAL /, 'SESSION ')
    const key = /ISOLATION/.test(norm) && !/,/.test(norm) ? 'transaction_isolation' : /READ (ONLY|WRITE)/.test(norm) && !/,/.test(norm) ? 'transaction_read_only' : 'tx:' + norm
    return { kind: 'set', assignments: [{ key, sql: 'SET ' + rest.trim(), clears: [] }], pin: null }
  }
  if (/^\s*NAMES\b/.test(skRest)) {
    return { kind: 'set', assignments: [{ key: 'names', sql: 'SET ' + rest.trim(), clears: ['charset', ...CHARSET_VARS] }], pin: pinReason(sk) }
  }
  if (/^\s*(CHARACTER\s+SET|CHARSET)\b/.test(skRest)) {
    return { kind: 'set', assignments: [{ key: 'charset', sql: 'SET ' + rest.trim(), clears: ['names', ...CHARSET_VARS] }], pin: pinReason(sk) }
  }
  const assignments: SessionAssignment[] = []
  let pin: string | null = null
  for (const part of splitTopLevel(rest)) {
    const m = /^\s*(?:(GLOBAL|SESSION|LOCAL)\s+|@@(GLOBAL|SESSION|LOCAL)\.|@@)?([A-Za-z_$][\w$]*|`[^`]+`)\s*(:?=)/i.exec(part)
    if (!m) {
      // A user variable assignment (@x = ...) or something unrecognised: stay on this connection.
      pin = pin ?? (/^\s*@(?!@)/.test(part) ? 'user variable' : 'unrecognised SET')
      continue
    }
    const scope = (m[1] ?? m[2] ?? 'SESSION').toUpperCase()
    if (scope === 'GLOBAL') continue
    let name = m[3]!.replace(/`/g, '').toLowerCase()
    name = ALIASES[name] ?? name
    const value = part.slice(m[0].length)
    if (USER_VAR.test(lex(value).skeleton)) pin = pin ?? 'user variable'
    const clears = name.startsWith('character_set_') || name === 'collation_connection' ? ['names', 'charset'] : []
    assignments.push({ key: name, sql: `SET SESSION ${name} = ${value.trim()}`, clears })
  }
  return { kind: 'set', assignments, pin }
}
