// Shard mode's placement writes are grouped across sessions (adapters/mysql/group-commit.ts):
// many connections creating instances at once must still leave exactly one placement row per
// instance, on the shard that holds the instance row, and reads by uuid must find each row there.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'
const EXTRA_DDL =
  'CREATE TABLE instance_extra (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, flavor TEXT) ENGINE=InnoDB'
const SESSIONS = 8
const PER_SESSION = 25

t.test('concurrent instance creation through grouped placement writes', async (t) => {
  const sh = await startShards(t, 3)
  await sh.onEveryShard(DDL)
  const conns = await Promise.all(
    Array.from({ length: SESSIONS }, () => mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })),
  )
  t.teardown(() => Promise.all(conns.map((c) => c.end())))
  const created = conns.map(() => Array.from({ length: PER_SESSION }, () => randomUUID()))
  await Promise.all(
    conns.map(async (c, i) => {
      for (const u of created[i]!) await c.query(`INSERT INTO instances (uuid, hostname) VALUES ('${u}', 'host-${i}')`)
    }),
  )
  const all = created.flat()
  const rows = await sh.perShard<{ uuid: string }>('SELECT uuid FROM instances ORDER BY uuid')
  const placed = await sh.perShard<{ name: string }>("SELECT name FROM cellgate_placement WHERE kind = 'instance' ORDER BY name")
  t.equal(rows.flat().length, all.length, `all ${all.length} instances stored once`)
  t.same(
    placed.map((p) => p.map((r) => r.name)),
    rows.map((r) => r.map((x) => x.uuid)),
    'each shard holds a placement row for exactly the instances stored on it',
  )
  t.ok(rows.every((r) => r.length > 0), `instances spread over every shard: ${rows.map((r) => r.length).join('/')}`)

  let found = 0
  for (const [i, u] of all.entries()) {
    const [got] = await conns[i % SESSIONS]!.query<mysql.RowDataPacket[]>(`SELECT uuid, hostname FROM instances WHERE uuid = '${u}'`)
    if (got.length === 1 && got[0]!.uuid === u) found++
  }
  t.equal(found, all.length, 'every instance is read back by uuid')
})

t.test('an INSERT whose placement cannot be stored still succeeds, and its row stays reachable', async (t) => {
  const sh = await startShards(t, 3)
  await sh.onEveryShard(DDL, EXTRA_DDL)
  const c = await mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })
  t.teardown(() => c.end())
  // Placement stores now fail with 1146 on every shard, while the instances table is fine.
  for (const db of sh.databases) await sh.admin.query(`DROP TABLE \`${db}\`.cellgate_placement`)
  const uuids = Array.from({ length: 4 }, () => randomUUID())
  for (const u of uuids) {
    const [ok] = await c.query<mysql.ResultSetHeader>(`INSERT INTO instances (uuid, hostname) VALUES ('${u}', 'h')`)
    t.equal(ok.affectedRows, 1, `the INSERT of ${u.slice(0, 8)} is reported as it happened`)
  }
  const rows = await sh.perShard<{ uuid: string }>('SELECT uuid FROM instances')
  t.equal(rows.flat().length, uuids.length, 'each row is stored once')
  for (const u of uuids) {
    const [got] = await c.query<mysql.RowDataPacket[]>(`SELECT uuid FROM instances WHERE uuid = '${u}'`)
    t.same(
      got.map((r) => r.uuid),
      [u],
      'read back by uuid through the mapping kept in memory',
    )
  }
  // A child row is placed by its instance: an instance unknown to cellgate would be refused (9103).
  await c.query(`INSERT INTO instance_extra (instance_uuid, flavor) VALUES ('${uuids[0]}', 'm1.small')`)
  const extra = await sh.perShard<{ instance_uuid: string }>('SELECT instance_uuid FROM instance_extra')
  const home = rows.findIndex((r) => r.some((x) => x.uuid === uuids[0]))
  t.same(
    extra.map((r) => r.map((x) => x.instance_uuid)),
    sh.databases.map((_, i) => (i === home ? [uuids[0]] : [])),
    'a child row of an instance whose placement was not stored lands beside it',
  )
})
