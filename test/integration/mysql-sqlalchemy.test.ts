// A SQLAlchemy ORM round trip (sessions, transactions, relationships, rollback, integrity errors,
// pool pre-ping) through cellgate must see exactly what it sees against MariaDB directly.
import t from 'tap'
import { runPy } from '../helpers/python.js'
import { APP_USER, MARIADB, startFront, testDatabases } from '../helpers/mysql-env.js'

t.test('SQLAlchemy ORM round trip: same as direct', async (t) => {
  const [dbCg, dbDirect] = await testDatabases(t, 2)
  const front = await startFront(t)
  const viaCg = await runPy(t, 'sql_sqlalchemy.py', [`mysql+pymysql://${APP_USER.user}:${APP_USER.password}@127.0.0.1:${front.port}/${dbCg}?charset=utf8mb4`])
  const viaDb = await runPy(t, 'sql_sqlalchemy.py', [`mysql+pymysql://${MARIADB.user}:${MARIADB.password}@${MARIADB.host}:${MARIADB.port}/${dbDirect}?charset=utf8mb4`])
  t.equal(viaCg.code, 0, 'runs to completion through cellgate', { diagnostics: viaCg.proc.diagnostics() })
  t.equal(viaDb.code, 0, 'runs to completion directly', { diagnostics: viaDb.proc.diagnostics() })
  const steps = (evs: typeof viaCg.events) => evs.filter((e) => e.event === 'step').map(({ t: _t, ...e }) => e)
  t.same(steps(viaCg.events), steps(viaDb.events), 'the ORM saw the same things')
  const byName = new Map(steps(viaCg.events).map((e) => [e.name, e]))
  t.equal(byName.get('noop_update')?.rowcount, 1, 'no-op UPDATE counted as matched (CLIENT_FOUND_ROWS)')
  t.same(byName.get('after_rollback')?.names, ['renamed'], 'the rolled-back changes are gone')
  t.equal(byName.get('integrity_error')?.code, 1062, 'duplicate key surfaces as IntegrityError 1062')
  t.ok(byName.has('done'))
})
