// Shard mode through the SQLAlchemy ORM (oslo.db's engine setup): create_all on every shard, one
// instance per transaction placed on one shard, joinedload with LIMIT/OFFSET (parent-limit merge),
// plain sorted pages, aggregates and GROUP BY — the same as against one plain database. A
// transaction adding two instances that land on two shards fails with 9101 and leaves nothing.
import t from 'tap'
import { APP_USER, MARIADB } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'
import { runPy, type PyEvent } from '../helpers/python.js'

t.test('SQLAlchemy ORM in shard mode equals one plain database', async (t) => {
  const sh = await startShards(t, 3, { extra: 1 })
  const viaCg = await runPy(t, 'sql_shard_sqlalchemy.py', [`mysql+pymysql://${APP_USER.user}:${APP_USER.password}@127.0.0.1:${sh.front.port}/${sh.logical}?charset=utf8mb4`], 120_000)
  const direct = await runPy(t, 'sql_shard_sqlalchemy.py', [`mysql+pymysql://${MARIADB.user}:${MARIADB.password}@${MARIADB.host}:${MARIADB.port}/${sh.extraDbs[0]}?charset=utf8mb4`], 120_000)
  t.equal(viaCg.code, 0, 'runs through cellgate', { diagnostics: viaCg.proc.diagnostics() })
  t.equal(direct.code, 0, 'runs directly', { diagnostics: direct.proc.diagnostics() })
  const steps = (evs: PyEvent[]) => new Map(evs.filter((e) => e.event === 'step').map(({ t: _t, ...e }) => [e.name as string, e]))
  const a = steps(viaCg.events)
  const b = steps(direct.events)
  // cellgate's placement table lives in each shard's database, so reflection lists it too.
  const created = a.get('created')
  if (created) created.tables = (created.tables as string[]).filter((x) => x !== 'cellgate_placement')
  for (const name of ['created', 'inserted', 'get', 'page_joinedload', 'page_plain', 'aggregates', 'group_by', 'query_count', 'after_update']) {
    t.same(a.get(name), b.get(name), `same as one database: ${name}`)
  }
  t.ok((a.get('created')?.tables as string[]).includes('instances'), 'create_all: tables visible through cellgate')
  t.equal((a.get('page_joinedload')?.rows as unknown[]).length, 4, 'joinedload page: 4 parents')
  const placed = await sh.perShard<{ n: number }>('SELECT COUNT(*) AS n FROM instances')
  t.ok(placed.every((r) => Number(r[0]!.n) > 0), `instances spread: ${placed.map((r) => r[0]!.n).join('/')}`)
  t.equal(placed.reduce((n, r) => n + Number(r[0]!.n), 0), 15, 'each instance stored once')
  t.match(a.get('batch'), { result: 'error', code: 9101 }, 'two new instances on two shards in one transaction: 9101')
  t.match(b.get('batch'), { result: 'committed' }, '(directly: committed)')
  t.equal(a.get('batch_rows')?.n, 0, 'the refused transaction left no row')
  t.ok(a.has('done'))
})
