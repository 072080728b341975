import type { SqlBackend, SqlFrontOptions } from '../adapters/mysql/sql-front.js'
import type { CellgateConfig } from './config-types.js'

/**
 * The SQL front end's options from the configuration. Schema mode: each cell's `database` URL
 * makes its database name route to that cell's server (a cells v2 deployment points every
 * `cell_mappings.database_connection` at cellgate with the cell's database name), `sql.databases`
 * adds more names, and every other name goes to `sql.defaultBackend`. Shard mode
 * (`sql.shardMode`): the logical database is spread over the listed shards, in their order.
 */
export function sqlFrontOptions(config: CellgateConfig): SqlFrontOptions {
  const databases: Record<string, SqlBackend> = {}
  for (const cell of config.cells) {
    if (cell.database === undefined) continue
    const b = backendOf(cell.database)
    if (b.database !== undefined) databases[b.database] = b
  }
  for (const [name, url] of Object.entries(config.sql.databases)) databases[name] = backendOf(url)
  const users: SqlFrontOptions['users'] = Object.fromEntries(
    config.sql.users.map((u) => [
      u.name,
      {
        ...(u.password !== undefined ? { password: u.password } : {}),
        ...(u.nativePasswordHash !== undefined ? { nativePasswordHash: u.nativePasswordHash } : {}),
      },
    ]),
  )
  const options: SqlFrontOptions = { listen: { host: config.sql.host, port: config.sql.port }, users, databases, defaultBackend: backendOf(config.sql.defaultBackend) }
  const sm = config.sql.shardMode
  if (sm !== undefined) {
    // A shard URL without a database path uses the logical name (the usual layout when every
    // shard is its own server).
    const shards = sm.shards.map((s) => {
      const b = backendOf(s.url)
      return { name: s.name, backend: { ...b, database: b.database ?? sm.database } }
    })
    options.shardMode = { database: sm.database, shards }
  }
  return options
}

/** mysql://user:password@host:port/db → the backend and, when the URL names one, its database. */
export function backendOf(url: string): SqlBackend {
  const u = new URL(url)
  const database = decodeURIComponent(u.pathname.replace(/^\//u, ''))
  return {
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    ...(database !== '' ? { database } : {}),
  }
}
