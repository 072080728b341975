// Shard mode: a client (mysql2, PyMySQL) that vanishes mid-transaction (socket destroyed, no COMMIT). Its insert
// must not survive, the shard's row lock must be gone, and the backend connection must not reach
// the next session with the transaction (or the session's user variables) still on it. The front
// has one backend connection per server, so the next session gets that very connection if it was
// pooled again (each session here stays on one shard, so that it is that very connection).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import mysql from 'mysql2/promise'
import { APP_USER, MARIADB, pymysqlSession, viaFront } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

t.test('shard mode: client disconnect mid-transaction', async (t) => {
  const sh = await startShards(t, 3, { front: { pool: { maxPerServer: 1 } } })
  await sh.onEveryShard(DDL)
  const client = (): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })
  const shardOf = async (uuid: string): Promise<string> => {
    for (const db of sh.databases) {
      const [rows] = await sh.admin.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${db}\`.cellgate_placement WHERE kind = 'instance' AND name = ?`, [uuid])
      if (Number(rows[0]!.n) > 0) return db
    }
    throw new Error(`${uuid} not placed`)
  }

  for (const variant of ['mysql2', 'mysql2 with a user variable', 'PyMySQL'] as const) {
    const uuid = randomUUID()
    if (variant === 'PyMySQL') {
      // PyMySQL runs with autocommit off and never sends BEGIN: the INSERT opens the transaction.
      const evs = await pymysqlSession(t, viaFront(sh.front, { database: sh.logical }), [
        { sql: `INSERT INTO instances (uuid, hostname) VALUES ('${uuid}', 'doomed')` },
        { op: 'abort' },
      ])
      t.same(evs.filter((e) => e.event === 'error'), [], `${variant}: the insert ran, then the socket was shut without COMMIT`)
    }
    const c = variant === 'PyMySQL' ? null : await client()
    if (c !== null && variant !== 'mysql2') {
      // Place the instance first, so that the variable and the transaction share one shard
      // connection (the only one the pool has for the server).
      await c.query('INSERT INTO instances (uuid, hostname) VALUES (?, ?)', [uuid, 'placed'])
      await c.query('DELETE FROM instances WHERE uuid = ?', [uuid])
      await c.query('SET @leak = 42')
    }
    if (c !== null) {
      await c.beginTransaction()
      await c.query('INSERT INTO instances (uuid, hostname) VALUES (?, ?)', [uuid, 'doomed'])
      const [inTx] = await c.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances WHERE uuid = ?', [uuid])
      t.equal(Number(inTx[0]!.n), 1, `${variant}: the session sees its uncommitted row`)
      ;(c as unknown as { connection: { stream: Socket } }).connection.stream.destroy()
    }
    const db = await shardOf(uuid)

    // The shard directly: the row is gone and its key is not locked (a direct insert does not wait).
    const d = await mysql.createConnection({ ...MARIADB, database: db })
    await d.query('SET SESSION innodb_lock_wait_timeout = 1')
    let inserted = false
    for (let i = 0; i < 20 && !inserted; i++) {
      await d.beginTransaction()
      inserted = await d.query("INSERT INTO instances (uuid, hostname) VALUES (?, 'direct')", [uuid]).then(
        () => true,
        (e: { errno?: number }) => {
          if (e.errno !== 1205) throw e
          return false
        },
      )
      await d.rollback()
    }
    t.ok(inserted, `${variant}: the key is free on shard ${db} (the abandoned transaction was rolled back)`)
    const [direct] = await d.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances WHERE uuid = ?', [uuid])
    t.equal(Number(direct[0]!.n), 0, `${variant}: the row is not on the shard`)
    await d.end()

    // The next session, on the same (only) backend connection if it was pooled again.
    const next = await client()
    const started = Date.now()
    const [seen] = await next.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n, @leak AS leak FROM instances WHERE uuid = ?', [uuid])
    t.equal(Number(seen[0]!.n), 0, `${variant}: the next session does not see the row (no transaction handed over)`)
    t.equal(seen[0]!.leak, null, `${variant}: nor the previous session's user variable`)
    await next.beginTransaction()
    await next.query("UPDATE instances SET hostname = 'x' WHERE uuid = ?", [uuid])
    await next.query('INSERT INTO instances (uuid, hostname) VALUES (?, ?)', [uuid, 'kept'])
    await next.commit()
    t.ok(Date.now() - started < 1500, `${variant}: the next session wrote that key without waiting for a lock (${Date.now() - started} ms)`)
    await next.end()
    const [rows] = await sh.admin.query<mysql.RowDataPacket[]>(`SELECT hostname FROM \`${db}\`.instances WHERE uuid = ?`, [uuid])
    t.same(rows, [{ hostname: 'kept' }], `${variant}: the next session's committed row is on the shard`)
  }

  const last = await client()
  const [ping] = await last.query<mysql.RowDataPacket[]>('SELECT 1 AS one')
  t.same(ping, [{ one: 1 }], 'cellgate keeps serving')
  await last.end()
})
