/**
 * `?` placeholders of a prepared statement, for shard-mode routing of COM_STMT_EXECUTE: the
 * front end substitutes each execution's parameter values as SQL literals and plans the result
 * exactly as it would plan the same text query, so a prepared statement can never be routed
 * differently from its text form. Only `?` counts (what the server binds); `%s` is a
 * client-side placeholder PyMySQL interpolates before sending.
 */
import { tokenize, type TokenizeOptions } from './tokenize.js'

export type Placeholders = { readonly ok: true; readonly offsets: readonly number[] } | { readonly ok: false; readonly reason: string }

/** Source offsets of the statement's `?` placeholders, in order (lexed in the session's sql_mode at prepare time, as the server does). */
export function placeholders(sql: string, options: TokenizeOptions = {}): Placeholders {
  const t = tokenize(sql, options)
  if (t.error !== null) return { ok: false, reason: `${t.error.reason} at offset ${t.error.at}` }
  return { ok: true, offsets: t.tokens.filter((k) => k.kind === 'param' && k.text === '?').map((k) => k.start) }
}

/** The statement with placeholder `i` (at offsets[i]) replaced by literals[i]. */
export function bindLiterals(sql: string, offsets: readonly number[], literals: readonly string[]): string {
  if (offsets.length !== literals.length) throw new RangeError(`${offsets.length} placeholders, ${literals.length} values`)
  let out = ''
  let at = 0
  for (let i = 0; i < offsets.length; i++) {
    out += sql.slice(at, offsets[i]) + literals[i]!
    at = offsets[i]! + 1
  }
  return out + sql.slice(at)
}
