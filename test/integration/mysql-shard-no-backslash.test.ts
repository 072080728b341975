// Shard mode under sql_mode NO_BACKSLASH_ESCAPES: MariaDB then reads 'x\' as a complete string,
// and cellgate's router must read it the same way (from the session's status flag 0x0200), or it
// would see an unterminated string, or literals other than the server's. Text queries (planned
// twice, so the second goes through the statement template) and a prepared statement.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

t.test('NO_BACKSLASH_ESCAPES in shard mode', async (t) => {
  const sh = await startShards(t, 3)
  await sh.onEveryShard(DDL)
  const c = await mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })
  t.teardown(() => c.end())
  await c.query(`SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'`)

  const uuids = Array.from({ length: 6 }, () => randomUUID())
  // The value ends in a backslash: with backslash escapes the statement would not even end.
  for (const u of uuids) await c.query(`INSERT INTO instances (uuid, hostname) VALUES ('${u}', 'c:\\dir\\')`)
  const stored = await sh.perShard<{ uuid: string; hostname: string }>('SELECT uuid, hostname FROM instances')
  const all = stored.flat()
  t.equal(all.length, uuids.length, 'every row landed on exactly one shard')
  t.ok(all.every((r) => r.hostname === 'c:\\dir\\'), 'the stored value is the server reading of the literal: c:\\dir\\')
  t.ok(stored.filter((rows) => rows.length > 0).length >= 2, 'the rows are spread over shards')

  for (const u of uuids) {
    for (let pass = 0; pass < 2; pass++) {
      const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT uuid, hostname FROM instances WHERE uuid = '${u}' AND hostname <> 'x\\'`)
      t.same(rows.map((r) => r.uuid), [u], `point read by uuid past a 'x\\' literal (pass ${pass + 1})`)
    }
  }
  // An OR with a keyless side scatters: the shard answers must be merged to find the row.
  const [either] = await c.query<mysql.RowDataPacket[]>(`SELECT uuid FROM instances WHERE hostname = 'a\\' OR uuid = '${uuids[3]}'`)
  t.same(either.map((r) => r.uuid), [uuids[3]], "'a\\' OR uuid = … is one string and a key, as the server reads it")

  const [prepared] = await c.execute<mysql.RowDataPacket[]>(`SELECT uuid FROM instances WHERE hostname <> 'x\\' AND uuid = ?`, [uuids[1] as string])
  t.same(prepared.map((r) => r.uuid), [uuids[1]], 'a prepared statement whose ? follows a \\-terminated string')

  // Back to the default mode: the same text is an unterminated string again, and cellgate says so.
  await c.query(`SET SESSION sql_mode = 'TRADITIONAL'`)
  const err = await c.query(`SELECT uuid FROM instances WHERE uuid = '${uuids[0]}' AND hostname <> 'x\\'`).then(
    () => null,
    (e: { errno?: number; message?: string }) => e,
  )
  t.match(err?.message, /unterminated string/, 'with backslash escapes the same text is refused as unterminated')
})
