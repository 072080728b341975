/**
 * Database URLs as operators write them, turned into knex connection settings. nova's own
 * configuration uses SQLAlchemy URLs (`mysql+pymysql://nova:pw@db/nova_api?charset=utf8`), so we
 * accept those verbatim: an operator can paste `[api_database] connection` from nova.conf.
 * cellgate's embedded store is SQLite: a `sqlite:` URL, a plain file path, or `:memory:`.
 */
import type { Knex } from 'knex'

export type DbTarget =
  | { readonly kind: 'mysql'; readonly connection: Knex.MySql2ConnectionConfig }
  | { readonly kind: 'sqlite'; readonly filename: string }

/** Thrown for a URL we cannot connect with; the message never contains the password. */
export class DbUrlError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'DbUrlError'
  }
}

const MYSQL_SCHEMES = new Set(['mysql:', 'mariadb:', 'mysql+pymysql:', 'mysql+mysqldb:', 'mysql+mysqlconnector:'])

/**
 * `mysql://`, `mariadb://` and SQLAlchemy `mysql+<driver>://` URLs → MySQL; `sqlite:///abs/path`,
 * `sqlite://rel/path`, `sqlite::memory:`, `:memory:` and anything without a scheme → SQLite file.
 */
export function parseDbUrl(url: string): DbTarget {
  const text = url.trim()
  if (text === '') throw new DbUrlError('empty database URL')
  if (text === ':memory:' || text === 'sqlite::memory:' || text === 'sqlite://:memory:') {
    return { kind: 'sqlite', filename: ':memory:' }
  }
  if (text.startsWith('sqlite:')) {
    // SQLAlchemy spelling: sqlite:///relative, sqlite:////absolute. Also accept sqlite:/abs.
    const rest = text.slice('sqlite:'.length)
    const path = rest.startsWith('///') ? rest.slice(3) : rest.startsWith('//') ? rest.slice(2) : rest
    if (path === '') throw new DbUrlError(`no file in SQLite URL ${JSON.stringify(text)}`)
    return { kind: 'sqlite', filename: path }
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]
  if (scheme === undefined) return { kind: 'sqlite', filename: text }
  if (!MYSQL_SCHEMES.has(`${scheme.toLowerCase()}:`)) {
    throw new DbUrlError(`unsupported database URL scheme "${scheme}" (use mysql://, mysql+pymysql://, mariadb:// or sqlite:)`)
  }
  return { kind: 'mysql', connection: mysqlConnection(text) }
}

function mysqlConnection(text: string): Knex.MySql2ConnectionConfig {
  let u: URL
  try {
    // WHATWG URL only knows "special" schemes' hosts reliably; normalize to a known one.
    u = new URL(text.replace(/^[^:]+:/, 'http:'))
  } catch {
    throw new DbUrlError('malformed MySQL URL (expected mysql://user:password@host:port/database)')
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (database === '') throw new DbUrlError('MySQL URL names no database (expected mysql://user@host/database)')
  const conn: Knex.MySql2ConnectionConfig = {
    host: u.hostname === '' ? 'localhost' : u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 3306 : Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    // Timestamps are compared as text and never turned into JS Dates in the session's zone.
    dateStrings: true,
    supportBigNumbers: true,
  }
  // SQLAlchemy/PyMySQL query options that matter here; others (charset=utf8, plugin=...) are
  // PyMySQL-specific and safely ignored because mysql2 negotiates utf8mb4 itself.
  const socket = u.searchParams.get('unix_socket')
  if (socket !== null && socket !== '') conn.socketPath = socket
  return conn
}

/** The URL with its password replaced by "***", for logs and error messages. */
export function redactDbUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@')
}
