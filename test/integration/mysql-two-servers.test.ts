// Shards and cells on two different MariaDB servers: the shared one on 3306 and a private
// mariadbd this file starts (test/helpers/mariadb-server.ts). Shard mode with shard s0 on the
// first server and s1, s2 on the second; schema mode routing a cell's database to the second
// server; then the second server stops mid-test: statements that need it get a clear ERR at once,
// the first server's shard keeps working, and nothing hangs.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import mysql from 'mysql2/promise'
import { startMariadb } from '../helpers/mariadb-server.js'
import { APP_USER, MARIADB, startFront } from '../helpers/mysql-env.js'

const INSTANCES_DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, host VARCHAR(255), ' +
  'display_name VARCHAR(255), deleted INT NOT NULL DEFAULT 0, UNIQUE KEY uniq_instances_uuid (uuid)) ENGINE=InnoDB'

/** Settles within `ms` or fails the assertion: "nothing hangs". */
async function within<T>(ms: number, p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | { ok: 'timeout' }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<{ ok: 'timeout' }>((resolve) => (timer = setTimeout(() => resolve({ ok: 'timeout' }), ms)))
  const settled = p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  const r = await Promise.race([settled, timeout])
  clearTimeout(timer)
  return r
}

t.test('shard mode and schema mode across two servers, then the second server goes down', async (t) => {
  const second = await startMariadb(t)
  const stem = `cg_two_${randomBytes(4).toString('hex')}`
  const onFirst = await mysql.createConnection({ ...MARIADB, multipleStatements: true })
  const onSecond = await mysql.createConnection({ host: second.host, port: second.port, user: second.user, password: second.password, multipleStatements: true })
  const firstDbs = [`${stem}_s0`]
  const secondDbs = [`${stem}_s1`, `${stem}_s2`, `${stem}_cell2`]
  for (const db of firstDbs) await onFirst.query(`CREATE DATABASE \`${db}\``)
  for (const db of secondDbs) await onSecond.query(`CREATE DATABASE \`${db}\``)
  t.teardown(async () => {
    for (const db of firstDbs) await onFirst.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await onFirst.end()
    await onSecond.end().catch(() => {})
  })
  const secondBackend = { host: second.host, port: second.port, user: second.user, password: second.password }
  const logical = `${stem}_nova`
  const front = await startFront(t, {
    databases: { [`${stem}_cell2`]: { ...secondBackend } },
    pool: { connectTimeoutMs: 3000 },
    shardMode: {
      database: logical,
      shards: [
        { name: 's0', backend: { ...MARIADB, database: `${stem}_s0` } },
        { name: 's1', backend: { ...secondBackend, database: `${stem}_s1` } },
        { name: 's2', backend: { ...secondBackend, database: `${stem}_s2` } },
      ],
    },
  })
  const connect = (database: string): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port: front.port, ...APP_USER, database, multipleStatements: false })
  const shardConn = await connect(logical)
  t.teardown(() => shardConn.end().catch(() => {}))

  // ---- shard mode over both servers ----
  await shardConn.query(INSTANCES_DDL)
  const uuids = Array.from({ length: 9 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
  for (const [i, u] of uuids.entries()) {
    await shardConn.query('INSERT INTO instances (uuid, host, display_name) VALUES (?, ?, ?)', [u, 'cmp', `vm${i}`])
  }
  const [s0] = (await onFirst.query(`SELECT uuid FROM \`${stem}_s0\`.instances ORDER BY uuid`)) as unknown as [Array<{ uuid: string }>]
  const [s1] = (await onSecond.query(`SELECT uuid FROM \`${stem}_s1\`.instances ORDER BY uuid`)) as unknown as [Array<{ uuid: string }>]
  const [s2] = (await onSecond.query(`SELECT uuid FROM \`${stem}_s2\`.instances ORDER BY uuid`)) as unknown as [Array<{ uuid: string }>]
  t.same([s0.length, s1.length, s2.length], [3, 3, 3], 'new instances are spread over the shards on both servers (least loaded)')
  t.same([...s0, ...s1, ...s2].map((r) => r.uuid).sort(), uuids, 'every row landed exactly once')
  const [[ids]] = (await onSecond.query(`SELECT GROUP_CONCAT(id % 3 ORDER BY id) AS r FROM \`${stem}_s1\`.instances`)) as unknown as [[{ r: string }]]
  t.same(new Set(ids.r.split(',')), new Set(['2']), 'shard s1 (offset 2 of 3) on the second server hands out ids ≡ 2 mod 3')
  for (const u of uuids) {
    const [rows] = (await shardConn.query('SELECT uuid, display_name FROM instances WHERE uuid = ?', [u])) as unknown as [Array<{ uuid: string; display_name: string }>]
    t.equal(rows.length, 1, `point read of ${u.slice(-2)} finds its row on its server`)
  }
  const [all] = (await shardConn.query('SELECT uuid FROM instances WHERE deleted = 0 ORDER BY uuid DESC LIMIT 4')) as unknown as [Array<{ uuid: string }>]
  t.same(all.map((r) => r.uuid), [...uuids].reverse().slice(0, 4), 'a scatter page over both servers is merged in order')
  const [[count]] = (await shardConn.query('SELECT COUNT(*) AS n FROM instances')) as unknown as [[{ n: number }]]
  t.equal(Number(count.n), 9, 'COUNT(*) re-aggregated over both servers')

  // ---- schema mode: the cell database lives on the second server ----
  const cellConn = await connect(`${stem}_cell2`)
  await cellConn.query('CREATE TABLE cell_marker (id INT PRIMARY KEY, note VARCHAR(32))')
  await cellConn.query("INSERT INTO cell_marker VALUES (1, 'second server')")
  const [[port]] = (await cellConn.query('SELECT @@port AS p')) as unknown as [[{ p: number }]]
  t.equal(Number(port.p), second.port, 'the cell database session runs on the second server')
  const [direct] = (await onSecond.query(`SELECT note FROM \`${stem}_cell2\`.cell_marker`)) as unknown as [Array<{ note: string }>]
  t.same(direct, [{ note: 'second server' }], 'its rows are on the second server')
  const [onFirstToo] = (await onFirst.query('SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?', [`${stem}_cell2`])) as unknown as [[{ n: number }]]
  t.equal(Number(onFirstToo[0].n), 0, 'and the first server has no such database')
  await cellConn.end()

  // ---- the second server goes down ----
  const onS0 = uuids.find((u) => s0.some((r) => r.uuid === u))!
  const onS1 = uuids.find((u) => s1.some((r) => r.uuid === u))!
  await onSecond.end().catch(() => {})
  await second.stop()
  t.notOk(second.running(), 'second server stopped')

  const needsDown = await within(20_000, shardConn.query('SELECT uuid FROM instances WHERE uuid = ?', [onS1]))
  t.equal(needsDown.ok, false, 'a point read that needs the stopped server fails (does not hang)')
  if (needsDown.ok === false) {
    const e = needsDown.error as { errno?: number; message: string }
    t.ok(e.errno === 2013 || e.errno === 2003, `with a connection error oslo.db retries (${e.errno}: ${e.message})`)
  }
  // The client connection is still usable: the other server's shard answers.
  const still = await within(20_000, shardConn.query('SELECT uuid, display_name FROM instances WHERE uuid = ?', [onS0]))
  t.equal(still.ok, true, 'the same session still reads the shard on the first server')
  if (still.ok === true) t.equal((still.value[0] as unknown[]).length, 1, 'and finds its row')

  const scatter = await within(20_000, shardConn.query('SELECT COUNT(*) AS n FROM instances'))
  t.equal(scatter.ok, false, 'a scatter read that needs the stopped server fails (does not hang)')
  if (scatter.ok === false) t.match((scatter.error as Error).message, /connect|lost|s1|s2/i, `clear error: ${(scatter.error as Error).message}`)

  const fresh = await within(20_000, connect(logical))
  t.equal(fresh.ok, true, 'a new client session logs in while a shard is down')
  if (fresh.ok === true) {
    const c = fresh.value
    const r = await within(20_000, c.query('SELECT display_name FROM instances WHERE uuid = ?', [onS0]))
    t.equal(r.ok, true, 'and reads a row on the first server')
    const w = await within(20_000, c.query('UPDATE instances SET display_name = ? WHERE uuid = ?', ['renamed', onS0]))
    t.equal(w.ok, true, 'and writes it')
    const bad = await within(20_000, c.query('UPDATE instances SET display_name = ? WHERE uuid = ?', ['renamed', onS1]))
    t.equal(bad.ok, false, 'a write to a row on the stopped server fails with an error')
    await c.end().catch(() => {})
  }
  const cellDown = await within(20_000, connect(`${stem}_cell2`).then(async (c) => {
    try {
      return await c.query('SELECT COUNT(*) FROM cell_marker')
    } finally {
      await c.end().catch(() => {})
    }
  }))
  t.equal(cellDown.ok, false, 'schema mode: the cell on the stopped server gets an error, not a hang')
  if (cellDown.ok === false) {
    const errno = (cellDown.error as { errno?: number }).errno
    t.ok(errno === 2003 || errno === 2013, `a connection error (${errno}: ${(cellDown.error as Error).message})`)
  }
  const [[renamed]] = (await onFirst.query(`SELECT display_name AS d FROM \`${stem}_s0\`.instances WHERE uuid = ?`, [onS0])) as unknown as [[{ d: string }]]
  t.equal(renamed.d, 'renamed', 'the write on the first server really happened')
})
