// The SQL front end as `cellgate serve` runs it (startCellgate with the config's sql section):
// each cell's database name routes to that cell's server, other names go to the default backend,
// and real PyMySQL sees what MariaDB would give it.
import t from 'tap'
import { createConnection } from 'mysql2/promise'
import { startTestCellgate, RABBIT_URL } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { runPy } from '../helpers/python.js'

const run = uniqueName('sqlcg').replace(/-/gu, '_')
const dbs = [`${run}_cell1`, `${run}_cell2`, `${run}_other`]
const admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' })
t.teardown(async () => {
  for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
  await admin.end()
})
for (const db of dbs) {
  await admin.query(`CREATE DATABASE \`${db}\``)
  await admin.query(`CREATE TABLE \`${db}\`.marker (name VARCHAR(64) PRIMARY KEY)`)
  await admin.query(`INSERT INTO \`${db}\`.marker VALUES (?)`, [db])
}

const cg = await startTestCellgate({
  cells: [
    { name: 'cell1', rabbit: RABBIT_URL, disabled: false, database: `mysql://root@127.0.0.1:3306/${dbs[0]}` },
    { name: 'cell2', rabbit: RABBIT_URL, disabled: false, database: `mysql://root@127.0.0.1:3306/${dbs[1]}` },
  ],
})
t.teardown(() => cg.close())

t.test('the SQL listener is up and routes each database name', async (t) => {
  t.ok(cg.sqlPort, `SQL front end on :${cg.sqlPort}`)
  const spec = {
    conn: { host: '127.0.0.1', port: cg.sqlPort, user: 'root', password: '', database: dbs[0] },
    steps: [
      { sql: 'SELECT name FROM marker' },
      { op: 'select_db', db: dbs[1] },
      { sql: 'SELECT name FROM marker' },
      { sql: 'INSERT INTO marker VALUES ("from-pymysql")' },
      { op: 'commit' },
      { op: 'select_db', db: dbs[2] },
      { sql: 'SELECT name FROM marker' },
    ],
  }
  const r = await runPy(t, 'sql_pymysql.py', [JSON.stringify(spec)], 60_000)
  t.equal(r.code, 0, 'PyMySQL script exit 0', { diag: r.proc.diagnostics() })
  const results = r.proc.named('result', (e) => Array.isArray(e.rows) && e.rows.length > 0).map((e) => JSON.stringify(e.rows))
  t.equal(results.length, 3, 'three result sets')
  t.match(results[0], dbs[0], 'cell1 database answered first')
  t.match(results[1], dbs[1], 'after select_db, cell2 database')
  t.match(results[2], dbs[2], 'a database no cell names goes to the default backend')
  const [rows] = await admin.query(`SELECT name FROM \`${dbs[1]}\`.marker ORDER BY name`)
  t.same((rows as Array<{ name: string }>).map((x) => x.name).sort(), [dbs[1], 'from-pymysql'].sort(), 'the insert landed in cell2 database, committed')
})

t.test('wrong password is refused with 1045', async (t) => {
  const err = await createConnection({ host: '127.0.0.1', port: cg.sqlPort, user: 'root', password: 'nope' }).then(
    () => undefined,
    (e: unknown) => e as { errno?: number; sqlState?: string },
  )
  t.hasStrict(err, { errno: 1045, sqlState: '28000' })
})

t.end()
