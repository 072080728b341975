// Shard mode through real PyMySQL: rows placed on exactly one shard (checked on the shard
// databases), point selects on one shard, scatter reads (ORDER BY/LIMIT/OFFSET, hidden sort
// columns, COUNT/SUM/MIN/MAX, GROUP BY, DISTINCT) equal to the same query on one plain database
// holding the same rows, DDL on every shard, and a two-shard write transaction refused with 9101
// and rolled back.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { pymysqlSession, viaDirect, viaFront, type PyStep } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'
import type { PyEvent } from '../helpers/python.js'

const N = 3
const INSTANCES_DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'host VARCHAR(255), project_id VARCHAR(255), vcpus INT, memory_mb INT, price DECIMAL(10,2), created_at DATETIME, deleted INT NOT NULL DEFAULT 0, ' +
  'UNIQUE KEY uniq_instances0uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

const results = (evs: PyEvent[]) => evs.filter((e) => e.event === 'result' || e.event === 'error')
const byStep = (evs: PyEvent[]) => new Map(results(evs).map((e) => [e.i as number, e]))

t.test('shard mode through PyMySQL', async (t) => {
  const sh = await startShards(t, N, { extra: 1 })
  const plain = sh.extraDbs[0]!
  const conn = viaFront(sh.front, { database: sh.logical, charset: 'utf8mb4' })

  // ---- DDL through cellgate reaches every shard ----
  const ddl = await pymysqlSession(t, conn, [{ sql: INSTANCES_DDL }, { sql: 'ALTER TABLE instances ADD COLUMN display_name VARCHAR(255) NULL' }])
  t.same(results(ddl).map((e) => e.event), ['result', 'result'], 'CREATE TABLE and ALTER TABLE succeed')
  const cols = await sh.perShard<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'instances'")
  t.same(cols.map((r) => Number(r[0]!.n)), [11, 11, 11], 'every shard has the table with the added column')

  // ---- inserts: each row on exactly one shard, ids unique and id % N naming the shard ----
  const projects = ['p-a', 'p-b', 'p-c', 'p-d']
  const uuids = Array.from({ length: 24 }, () => randomUUID())
  const inserts: PyStep[] = uuids.map((u, i) => ({
    sql:
      'INSERT INTO instances (uuid, hostname, project_id, vcpus, memory_mb, price, created_at, display_name) VALUES ' +
      `('${u}', 'vm-${String(i % 7).padStart(2, '0')}', '${projects[i % projects.length]}', ${1 + (i % 4)}, ${512 * (1 + (i % 5))}, ${(i * 1.25).toFixed(2)}, ` +
      `'2024-01-0${1 + (i % 3)} 10:00:0${i % 2}', ${i % 6 === 0 ? 'NULL' : `'Server ${i}'`})`,
  }))
  const ins = await pymysqlSession(t, conn, [{ op: 'autocommit', on: true }, ...inserts])
  t.equal(results(ins).filter((e) => e.event === 'error').length, 0, 'every INSERT succeeded', { errors: results(ins).filter((e) => e.event === 'error') })
  const lastrowids = results(ins).slice(1).map((e) => e.lastrowid as number)
  t.equal(new Set(lastrowids).size, uuids.length, 'lastrowid is unique across shards')
  const placed = await sh.perShard<{ id: number; uuid: string }>('SELECT id, uuid FROM instances')
  const where = new Map<string, number[]>()
  placed.forEach((rows, s) => rows.forEach((r) => where.set(r.uuid, [...(where.get(r.uuid) ?? []), s])))
  t.equal(where.size, uuids.length, 'every row exists')
  t.ok([...where.values()].every((s) => s.length === 1), 'each row is on exactly one shard')
  t.ok(placed.every((rows) => rows.length > 0), `rows spread over all shards: ${placed.map((r) => r.length).join('/')}`)
  t.ok(
    placed.every((rows, s) => rows.every((r) => r.id % N === (s + 1) % N)),
    'auto-increment ids follow the shard offset (id % N names the shard)',
  )
  const mapping = await sh.perShard<{ n: number }>("SELECT COUNT(*) AS n FROM cellgate_placement WHERE kind = 'instance'")
  t.same(mapping.map((r) => Number(r[0]!.n)), placed.map((r) => r.length), 'each shard records the instances placed on it')

  // ---- point selects by uuid run on the row's shard ----
  const probe = uuids.slice(0, 6)
  const points = await pymysqlSession(
    t,
    conn,
    probe.map((u) => ({ sql: `SELECT uuid, hostname, DATABASE() FROM instances WHERE uuid = '${u}'` })),
  )
  results(points).forEach((e, k) => {
    const rows = e.rows as string[][][]
    const shard = where.get(probe[k]!)![0]!
    t.equal(rows.length, 1, `point select ${k}: one row`)
    t.equal(rows[0]?.[2]?.[1], `'${sh.databases[shard]}'`, `point select ${k} ran on the row's shard only`)
  })

  // ---- differential: the same rows in one plain database give the same answers ----
  const all = await sh.perShard<Record<string, unknown>>('SELECT * FROM instances')
  await sh.admin.query(`USE \`${plain}\``)
  await sh.admin.query(INSTANCES_DDL)
  await sh.admin.query('ALTER TABLE instances ADD COLUMN display_name VARCHAR(255) NULL')
  for (const r of all.flat()) await sh.admin.query('INSERT INTO instances SET ?', [r])
  const queries = [
    'SELECT id, uuid, hostname, vcpus, created_at FROM instances ORDER BY created_at DESC, id DESC LIMIT 5 OFFSET 3',
    'SELECT uuid, hostname, price FROM instances ORDER BY hostname, id LIMIT 7',
    'SELECT hostname, vcpus FROM instances ORDER BY vcpus, id LIMIT 4, 6',
    'SELECT uuid FROM instances ORDER BY memory_mb DESC, id LIMIT 5',
    'SELECT display_name, id FROM instances ORDER BY display_name, id LIMIT 10',
    'SELECT display_name, id FROM instances ORDER BY display_name DESC, id DESC LIMIT 10',
    'SELECT COUNT(*), SUM(vcpus), MIN(memory_mb), MAX(memory_mb), SUM(price) FROM instances WHERE deleted = 0',
    'SELECT project_id, COUNT(*), SUM(vcpus), MAX(created_at) FROM instances GROUP BY project_id',
    'SELECT project_id, COUNT(id) FROM instances WHERE vcpus > 1 GROUP BY project_id ORDER BY project_id DESC',
    'SELECT DISTINCT hostname FROM instances ORDER BY hostname',
    'SELECT COUNT(*) FROM instances WHERE hostname = \'nope\'',
    `SELECT uuid, vcpus FROM instances WHERE uuid IN ('${uuids[1]}', '${uuids[2]}', '${uuids[3]}', '${uuids[4]}') ORDER BY uuid`,
    'SELECT id, uuid FROM instances WHERE id > 5 ORDER BY id LIMIT 3',
  ]
  const steps = queries.map((sql) => ({ sql }))
  const viaCg = byStep(await pymysqlSession(t, conn, steps))
  const direct = byStep(await pymysqlSession(t, viaDirect({ database: plain, charset: 'utf8mb4' }), steps))
  queries.forEach((q, i) => {
    const a = viaCg.get(i)!
    const b = direct.get(i)!
    t.equal(a.event, 'result', `through cellgate: ${q}`, { error: a })
    t.same(a.rows, b.rows, `same rows as one database: ${q}`)
    t.same(
      (a.description as unknown[][]).map((d) => d.slice(0, 2)),
      (b.description as unknown[][]).map((d) => d.slice(0, 2)),
      `same column names and types: ${q}`,
    )
  })

  // ---- a transaction that writes to two shards: 9101, rolled back ----
  const [ua, ub] = [0, 1].map((s) => [...where].find(([, v]) => v[0] === s)![0])
  const tx = await pymysqlSession(t, conn, [
    { sql: `UPDATE instances SET hostname = 'moved-a' WHERE uuid = '${ua}'` },
    { sql: `UPDATE instances SET hostname = 'moved-b' WHERE uuid = '${ub}'` },
    { sql: `SELECT hostname FROM instances WHERE uuid = '${ua}'` },
    { op: 'rollback' },
    { sql: `UPDATE instances SET hostname = 'moved-b2' WHERE uuid = '${ub}'` },
    { op: 'commit' },
  ])
  const txs = byStep(tx)
  t.equal(txs.get(0)?.event, 'result', 'first write (shard of a) accepted')
  t.equal(txs.get(1)?.event, 'error', 'a write to a second shard is refused')
  t.same((txs.get(1)?.args as unknown[])?.[0], 9101, 'with error 9101')
  t.match(String((txs.get(1)?.args as unknown[])?.[1]), /already writes to shard s0; this write needs shard s1/)
  t.not((txs.get(2)?.rows as string[][][])?.[0]?.[0]?.[1], "'moved-a'", 'the first write was rolled back with the transaction')
  t.equal(txs.get(4)?.event, 'result', 'after ROLLBACK the session writes again')
  const [[rowA], [rowB]] = [
    (await sh.perShard<{ hostname: string }>(`SELECT hostname FROM instances WHERE uuid = '${ua}'`))[0]!,
    (await sh.perShard<{ hostname: string }>(`SELECT hostname FROM instances WHERE uuid = '${ub}'`))[1]!,
  ]
  t.not(rowA?.hostname, 'moved-a', 'shard s0 never committed the refused transaction')
  t.equal(rowB?.hostname, 'moved-b2', 'the later transaction committed on s1')

  // ---- scatter write: matched rows on one shard only is fine in a transaction ----
  const sw = byStep(
    await pymysqlSession(t, conn, [
      { sql: `UPDATE instances SET vcpus = 99 WHERE hostname = 'moved-b2'` },
      { op: 'commit' },
      { sql: `UPDATE instances SET deleted = 0 WHERE deleted = 0` },
      { op: 'rollback' },
    ]),
  )
  t.equal(sw.get(0)?.rowcount, 1, 'a scatter UPDATE matching rows on one shard reports them')
  t.equal(sw.get(2)?.event, 'error', 'a scatter UPDATE matching rows on several shards in a transaction is refused')
  t.same((sw.get(2)?.args as unknown[])?.[0], 9101, 'rows matched (not changed) count: the no-op UPDATE is still a write on every shard')
  const found = byStep(
    await pymysqlSession(t, { ...conn, client_flag: 2 /* CLIENT_FOUND_ROWS, as SQLAlchemy sets it */ }, [
      { op: 'autocommit', on: true },
      { sql: 'UPDATE instances SET deleted = 0 WHERE deleted = 0' },
      { sql: 'UPDATE instances SET vcpus = vcpus + 1 WHERE vcpus < 99' },
    ]),
  )
  t.equal(found.get(1)?.rowcount, uuids.length, 'in autocommit mode a scatter UPDATE runs everywhere; matched rows add up')
  t.equal(found.get(2)?.rowcount, uuids.length - 1, 'changed rows add up too')

  // ---- refusals are clear errors ----
  const bad = byStep(await pymysqlSession(t, conn, [{ sql: 'SELECT AVG(vcpus) FROM instances' }, { sql: 'SET SESSION auto_increment_offset = 1' }, { sql: 'SELECT 1' }]))
  t.same((bad.get(0)?.args as unknown[])?.[0], 9102, 'AVG over shards: 9102')
  t.same((bad.get(1)?.args as unknown[])?.[0], 9102, 'auto_increment settings are fixed: 9102')
  t.equal(bad.get(2)?.event, 'result', 'the session goes on after a refusal')
})
