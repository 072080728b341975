// Backend connections stay with their database: sessions that alternate between shards (or cell
// databases) on one server get a connection already there, rather than one converted with
// COM_INIT_DB and SET auto_increment_offset on every statement (BackendPool.pickIdle). The backend
// thread that answers (CONNECTION_ID(), run on the row's shard) shows which connection served.
// With room for only one connection, the same alternation converts it and stays correct.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER, startFront, testDatabases } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const DDL = 'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB'
const ROUNDS = 12
const IDLE_MS = 200
/** The pool's idle sweep runs every second at most; this outlasts one sweep plus the idle time. */
const SWEPT_MS = 1500

/** For each key, the set of answers seen. */
function group(pairs: readonly (readonly [string, string])[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>()
  for (const [k, v] of pairs) m.set(k, (m.get(k) ?? new Set()).add(v))
  return m
}

for (const maxPerServer of [64, 1]) {
  t.test(`shard mode, three shards on one server, ${maxPerServer} backend connection(s) allowed`, async (t) => {
    const sh = await startShards(t, 3, { front: { pool: { maxPerServer, idleTimeoutMs: IDLE_MS } } })
    await sh.onEveryShard(DDL)
    const c = await mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })
    t.teardown(() => c.end())
    const uuids = Array.from({ length: 6 }, () => randomUUID())
    for (const u of uuids) await c.query(`INSERT INTO instances (uuid) VALUES ('${u}')`)
    const home = new Map<string, string>()
    const stored = await sh.perShard<{ uuid: string }>('SELECT uuid FROM instances')
    stored.forEach((rows, i) => rows.forEach((r) => home.set(r.uuid, sh.databases[i]!)))
    // After an INSERT the session keeps that shard's connection for LAST_INSERT_ID() and takes
    // others beyond the limit meanwhile; let those expire and be swept so the limit holds below.
    for (let i = 0; i < 6; i++) await c.query('SELECT 1')
    await new Promise((r) => setTimeout(r, SWEPT_MS))

    const seen: [string, string][] = []
    let right = 0
    for (let round = 0; round < ROUNDS; round++) {
      for (const u of uuids) {
        const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT uuid, DATABASE() AS db, CONNECTION_ID() AS thread FROM instances WHERE uuid = '${u}'`)
        const r = rows[0]
        if (r && r.uuid === u && r.db === home.get(u)) right++
        if (r) seen.push([String(r.db), String(r.thread)])
      }
    }
    t.equal(right, ROUNDS * uuids.length, 'every read found its row on its shard')
    const threads = group(seen)
    t.ok(threads.size >= 2, `the reads alternated between ${threads.size} shards`)
    if (maxPerServer === 1) {
      t.equal(new Set(seen.map(([, th]) => th)).size, 1, 'one connection, converted between shards, served all of them')
      return
    }
    t.ok(
      [...threads.values()].every((s) => s.size === 1),
      `each shard was served by one backend thread throughout: ${[...threads].map(([db, s]) => `${db.slice(-1)}→${[...s].join(',')}`).join(' ')}`,
    )
    t.equal(new Set(seen.map(([, th]) => th)).size, threads.size, 'a different thread for each shard')
  })
}

t.test('schema mode, one session switching between two databases on one server', async (t) => {
  const dbs = await testDatabases(t, 2)
  const front = await startFront(t)
  const c = await mysql.createConnection({ host: '127.0.0.1', port: front.port, ...APP_USER, database: dbs[0]! })
  t.teardown(() => c.end())
  const seen: [string, string][] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const db of dbs) {
      await c.query(`USE \`${db}\``)
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db, CONNECTION_ID() AS thread')
      seen.push([String(rows[0]!.db), String(rows[0]!.thread)])
    }
  }
  t.same(
    seen.map(([db]) => db),
    Array.from({ length: ROUNDS }, () => dbs).flat(),
    'each statement ran in the database the session had chosen',
  )
  const threads = group(seen)
  t.ok([...threads.values()].every((s) => s.size === 1), 'each database kept its backend thread')
  t.equal(new Set(seen.map(([, th]) => th)).size, 2, 'two threads, one per database')
})
