// Shard-mode fixtures: N throwaway shard databases (cg_shard_<random>_<n>) on the local MariaDB,
// a cellgate SQL front end in shard mode in front of them, and direct per-shard reads for checking
// where rows really landed.
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import type { SqlFront, SqlFrontOptions } from '../../adapters/mysql/sql-front.js'
import { MARIADB, startFront } from './mysql-env.js'
import type { Teardownable } from './python.js'

export interface Shards {
  /** The logical database clients use through cellgate. */
  readonly logical: string
  /** Physical shard databases, in shard order (shard i is named `s<i>`). */
  readonly databases: readonly string[]
  readonly names: readonly string[]
  readonly front: SqlFront
  /** A direct admin connection (multi-statement) for setup and checks. */
  readonly admin: mysql.Connection
  /** Rows of `sql` run directly on each shard, in shard order. */
  perShard<T = mysql.RowDataPacket>(sql: string): Promise<T[][]>
  /** Runs each statement (DDL) directly on every shard, in order. */
  onEveryShard(...statements: string[]): Promise<void>
}

/** Creates `n` shard databases (+ `extra` plain ones) and a shard-mode front end; all dropped in teardown. */
export async function startShards(t: Teardownable, n: number, opts: { extra?: number; front?: Partial<SqlFrontOptions> } = {}): Promise<Shards & { extraDbs: string[] }> {
  const admin = await mysql.createConnection({ ...MARIADB, multipleStatements: true })
  const stem = `cg_shard_${randomBytes(4).toString('hex')}`
  const databases = Array.from({ length: n }, (_, i) => `${stem}_${i}`)
  const extraDbs = Array.from({ length: opts.extra ?? 0 }, (_, i) => `${stem}_x${i}`)
  for (const db of [...databases, ...extraDbs]) await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`)
  t.teardown(async () => {
    for (const db of [...databases, ...extraDbs]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await admin.end()
  })
  const logical = `${stem}_nova`
  const names = databases.map((_, i) => `s${i}`)
  const front = await startFront(t, {
    ...opts.front,
    shardMode: { database: logical, shards: databases.map((database, i) => ({ name: names[i]!, backend: { ...MARIADB, database } })) },
  })
  return {
    logical,
    databases,
    names,
    front,
    admin,
    extraDbs,
    async onEveryShard(...statements: string[]): Promise<void> {
      for (const db of databases) {
        await admin.query(`USE \`${db}\``)
        for (const sql of statements) await admin.query(sql)
      }
    },
    async perShard<T>(sql: string): Promise<T[][]> {
      const out: T[][] = []
      for (const db of databases) {
        await admin.query(`USE \`${db}\``)
        const [rows] = await admin.query(sql)
        out.push(rows as T[])
      }
      return out
    },
  }
}
