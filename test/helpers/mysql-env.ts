// The local MariaDB for the SQL front-end tests: unique throwaway databases, a direct mysql2
// connection for setup and comparisons, and a cellgate SQL front end in front of it.
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { silentLogger } from '../../adapters/log/logger.js'
import { startSqlFront, type SqlFront, type SqlFrontOptions } from '../../adapters/mysql/sql-front.js'
import { runPy, type PyEvent, type Teardownable } from './python.js'

export const MARIADB = {
  host: process.env.CELLGATE_TEST_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.CELLGATE_TEST_MYSQL_PORT ?? 3306),
  user: process.env.CELLGATE_TEST_MYSQL_USER ?? 'root',
  password: process.env.CELLGATE_TEST_MYSQL_PASSWORD ?? '',
}

/** The client account tests log in to cellgate with. */
export const APP_USER = { user: 'app', password: 'app-secret' }

/** A direct admin connection to MariaDB, closed in teardown. */
export async function direct(t: Teardownable, database?: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ ...MARIADB, ...(database ? { database } : {}), multipleStatements: true })
  t.teardown(() => c.end())
  return c
}

/** Creates `n` databases named cg_sql_<random>_<i> and drops them in teardown. */
export async function testDatabases(t: Teardownable, n: number): Promise<string[]> {
  const admin = await mysql.createConnection(MARIADB)
  const stem = `cg_sql_${randomBytes(4).toString('hex')}`
  const names = Array.from({ length: n }, (_, i) => `${stem}_${i}`)
  for (const db of names) await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`)
  t.teardown(async () => {
    for (const db of names) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
  })
  return names
}

/** A SQL front end on a free port in front of the local MariaDB, closed in teardown. */
export async function startFront(t: Teardownable, overrides: Partial<SqlFrontOptions> = {}): Promise<SqlFront> {
  const front = await startSqlFront(
    {
      listen: { host: '127.0.0.1', port: 0 },
      users: { [APP_USER.user]: { password: APP_USER.password } },
      databases: {},
      defaultBackend: { ...MARIADB },
      ...overrides,
    },
    silentLogger,
  )
  t.teardown(() => front.close())
  return front
}

export interface PyStep {
  sql?: string
  op?: string
  [k: string]: unknown
}

/** Runs test/python/sql_pymysql.py with a connection spec and steps; returns its events. */
export async function pymysqlSession(t: Teardownable, conn: Record<string, unknown>, steps: PyStep[]): Promise<PyEvent[]> {
  const r = await runPy(t, 'sql_pymysql.py', [JSON.stringify({ conn, steps })], 60_000)
  if (r.code !== 0) throw new Error(`sql_pymysql.py failed:\n${r.proc.diagnostics()}`)
  return r.events
}

/** PyMySQL connect kwargs for cellgate (app user) or for MariaDB directly (root). */
export function viaFront(front: SqlFront, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: '127.0.0.1', port: front.port, user: APP_USER.user, password: APP_USER.password, ...extra }
}

export function viaDirect(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: MARIADB.host, port: MARIADB.port, user: MARIADB.user, password: MARIADB.password, ...extra }
}
