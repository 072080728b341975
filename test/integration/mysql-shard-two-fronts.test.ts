// Two cellgate processes in front of the same shards (a sidecar per controller): instances that
// one of them created are unknown to the other until it needs them. An INSERT of their child rows
// through the other one must look the placement up in the shards and land beside the instance,
// as text, as a prepared statement and as a multi-row INSERT; a truly unknown instance is still
// refused with 9103.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER, MARIADB, startFront } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const INSTANCES =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'
const EXTRA = 'CREATE TABLE instance_extra (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, flavor TEXT) ENGINE=InnoDB'

t.test('child rows through a second front end for instances the first one placed', async (t) => {
  const sh = await startShards(t, 3)
  await sh.onEveryShard(INSTANCES, EXTRA)
  // Started before any instance exists, so it loads an empty map.
  const second = await startFront(t, {
    shardMode: { database: sh.logical, shards: sh.databases.map((database, i) => ({ name: sh.names[i]!, backend: { ...MARIADB, database } })) },
  })
  const connect = (port: number): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port, ...APP_USER, database: sh.logical })
  const a = await connect(sh.front.port)
  const b = await connect(second.port)
  t.teardown(() => Promise.all([a.end(), b.end()]))

  const uuids = Array.from({ length: 9 }, () => randomUUID())
  for (const u of uuids) await a.query(`INSERT INTO instances (uuid, hostname) VALUES ('${u}', 'via-a')`)
  const stored = await sh.perShard<{ uuid: string }>('SELECT uuid FROM instances')
  const homeOf = (u: string): number => stored.findIndex((rows) => rows.some((r) => r.uuid === u))

  // Text INSERTs, one child each, for the first three.
  for (const u of uuids.slice(0, 3)) await b.query(`INSERT INTO instance_extra (instance_uuid, flavor) VALUES ('${u}', 'text')`)
  // A prepared INSERT for the next three.
  for (const u of uuids.slice(3, 6)) await b.execute('INSERT INTO instance_extra (instance_uuid, flavor) VALUES (?, ?)', [u, 'prepared'])
  // One multi-row INSERT naming the last three, none of them known to the second front end.
  const rest = uuids.slice(6)
  await b.query(`INSERT INTO instance_extra (instance_uuid, flavor) VALUES ${rest.map((u) => `('${u}', 'multi')`).join(', ')}`)

  const extra = await sh.perShard<{ instance_uuid: string; flavor: string }>('SELECT instance_uuid, flavor FROM instance_extra')
  t.equal(extra.flat().length, uuids.length, 'one child row per instance, none duplicated')
  for (const [i, rows] of extra.entries()) {
    const misplaced = rows.filter((r) => homeOf(r.instance_uuid) !== i)
    t.same(misplaced, [], `shard ${i}: every child row is beside its instance (${rows.map((r) => r.flavor).join(',') || 'none'})`)
  }

  const [read] = await b.query<mysql.RowDataPacket[]>(`SELECT uuid, hostname FROM instances WHERE uuid = '${uuids[0]}'`)
  t.same(read.map((r) => [r.uuid, r.hostname]), [[uuids[0], 'via-a']], 'the second front end reads the instance back by uuid')

  const unknown = randomUUID()
  const err = await b.query(`INSERT INTO instance_extra (instance_uuid, flavor) VALUES ('${unknown}', 'x')`).then(
    () => null,
    (e: { errno?: number; message?: string }) => e,
  )
  t.equal(err?.errno, 9103, `an instance placed nowhere is still refused: ${err?.message}`)

  // Reads learn too. An instance the second front end never saw: with the other shards' tables
  // renamed away, only a read routed to its shard alone can answer.
  const fresh = randomUUID()
  await a.query(`INSERT INTO instances (uuid, hostname) VALUES ('${fresh}', 'read-me')`)
  const placedOn = (await sh.perShard<{ uuid: string }>(`SELECT uuid FROM instances WHERE uuid = '${fresh}'`)).findIndex((r) => r.length > 0)
  const others = sh.databases.filter((_, i) => i !== placedOn)
  for (const db of others) await sh.admin.query(`RENAME TABLE \`${db}\`.instances TO \`${db}\`.instances_off`)
  t.teardown(async () => {
    for (const db of others) await sh.admin.query(`RENAME TABLE \`${db}\`.instances_off TO \`${db}\`.instances`).catch(() => {})
  })
  const [learned] = await b.query<mysql.RowDataPacket[]>(`SELECT uuid, hostname FROM instances WHERE uuid = '${fresh}'`)
  t.same(learned.map((r) => r.hostname), ['read-me'], "a read by the other front end's uuid goes to its shard alone (learned from the placement tables)")
  const nowhere = await b.query(`SELECT uuid FROM instances WHERE uuid = '${randomUUID()}'`).then(
    () => null,
    (e: { errno?: number }) => e.errno,
  )
  t.equal(nowhere, 1146, 'a uuid no shard has still scatters (and meets the renamed tables): never a guessed shard')
})
