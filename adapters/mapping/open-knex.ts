/**
 * One knex instance per database URL, configured the way the mapping sources need it: a small
 * pool (mapping reads are rare and sequential), MySQL via mysql2, SQLite via better-sqlite3.
 */
import knex, { type Knex } from 'knex'
import type { Logger } from '../log/logger.js'
import { parseDbUrl, type DbTarget } from './db-url.js'

export interface OpenedDb {
  readonly db: Knex
  readonly target: DbTarget
}

export interface OpenKnexOptions {
  /** Upper bound of pooled MySQL connections (default 2). SQLite always uses one. */
  maxConnections?: number
  /**
   * Where knex's own messages go (debug level: the same failures reach callers as rejected
   * promises; without this knex prints every failed connection attempt to the console).
   */
  logger?: Logger
}

/** The part of a better-sqlite3 Database used on a new pooled connection. */
interface SqlitePragmas {
  pragma(source: string): unknown
}

function knexLog(logger: Logger | undefined): Knex.Config['log'] {
  const to = (msg: unknown): void => logger?.debug('knex', { detail: msg instanceof Error ? msg.message : String(msg) })
  return { warn: to, error: to, deprecate: to, debug: to }
}

export function openKnex(url: string, opts: OpenKnexOptions = {}): OpenedDb {
  const target = parseDbUrl(url)
  if (target.kind === 'sqlite') {
    const db = knex({
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      // SQLite has no DEFAULT keyword for omitted columns; knex needs this to insert NULLs.
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // WAL lets an operator command write while cellgate reads; busy_timeout makes a writer
        // wait for the other process's lock instead of failing with SQLITE_BUSY at once.
        afterCreate: (conn: SqlitePragmas, done: (err: Error | null, conn: SqlitePragmas) => void) => {
          try {
            if (target.filename !== ':memory:') conn.pragma('journal_mode = WAL')
            conn.pragma('busy_timeout = 5000')
            done(null, conn)
          } catch (err) {
            done(err instanceof Error ? err : new Error(String(err)), conn)
          }
        },
      },
      log: knexLog(opts.logger),
    })
    return { db, target }
  }
  const db = knex({
    client: 'mysql2',
    connection: target.connection,
    // min 0: an idle cellgate holds no connection to nova_api between polls.
    pool: { min: 0, max: opts.maxConnections ?? 2, idleTimeoutMillis: 30_000 },
    log: knexLog(opts.logger),
  })
  return { db, target }
}
