// nova's own schema tooling through cellgate's SQL front end in schema mode: every database URL
// nova is given points at cellgate, which routes each database name to its server. Debian's
// nova-manage (nova.cmd.manage:main, see test/python/nova_manage.py) creates the API database,
// maps cell0, syncs a cell database and creates the cell, as an operator does on a new region.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import { startTestCellgate, RABBIT_URL } from '../helpers/cellgate.js'
import { runNovaManage, writeNovaConf } from '../helpers/nova-api.js'
import { uniqueName } from '../helpers/env.js'

const run = uniqueName('novaschema').replace(/-/gu, '_')
const apiDb = `${run}_api`
const cell0Db = `${run}_cell0`
const cell1Db = `${run}_cell1`
const dir = mkdtempSync(join(tmpdir(), 'cellgate-nova-schema-'))
const admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' })
t.teardown(async () => {
  for (const db of [apiDb, cell0Db, cell1Db]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
  await admin.end()
  rmSync(dir, { recursive: true, force: true })
})
for (const db of [apiDb, cell0Db, cell1Db]) await admin.query(`CREATE DATABASE \`${db}\``)

const cg = await startTestCellgate({
  cells: [{ name: 'cell1', rabbit: RABBIT_URL, disabled: false, database: `mysql://root@127.0.0.1:3306/${cell1Db}` }],
})
t.teardown(() => cg.close())
const viaCellgate = (db: string): string => `mysql+pymysql://root@127.0.0.1:${cg.sqlPort}/${db}`

const conf = writeNovaConf(join(dir, 'nova.conf'), dir, viaCellgate(apiDb), viaCellgate(cell1Db))

const tablesOf = async (db: string): Promise<string[]> => {
  const [rows] = await admin.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?`, [db])
  return (rows as Array<{ t: string }>).map((r) => r.t)
}

t.test('nova-manage api_db sync, cell_v2 map_cell0, db sync and create_cell through cellgate', async (t) => {
  await runNovaManage(conf, ['api_db', 'sync'])
  const apiTables = await tablesOf(apiDb)
  t.ok(apiTables.includes('cell_mappings') && apiTables.includes('host_mappings') && apiTables.includes('instance_mappings'), `nova_api schema created (${apiTables.length} tables)`)

  await runNovaManage(conf, ['cell_v2', 'map_cell0', '--database_connection', viaCellgate(cell0Db)])
  await runNovaManage(conf, ['db', 'sync'])
  const cell0Tables = await tablesOf(cell0Db)
  const cell1Tables = await tablesOf(cell1Db)
  t.ok(cell0Tables.includes('instances'), `cell0 schema created through cellgate (${cell0Tables.length} tables)`)
  t.ok(cell1Tables.includes('instances') && cell1Tables.includes('compute_nodes'), `cell1 schema created through cellgate (${cell1Tables.length} tables)`)

  const created = await runNovaManage(conf, ['cell_v2', 'create_cell', '--name', 'cell1', '--verbose', '--database_connection', viaCellgate(cell1Db), '--transport-url', 'rabbit://guest:guest@127.0.0.1:5673/cell1'])
  t.match(created.stdout, /[0-9a-f]{8}-[0-9a-f]{4}-/, 'create_cell printed the new cell uuid')
  const listed = await runNovaManage(conf, ['cell_v2', 'list_cells', '--verbose'])
  t.match(listed.stdout, /cell0/, 'list_cells shows cell0')
  t.match(listed.stdout, /cell1/, 'list_cells shows cell1')

  const [mappings] = await admin.query(`SELECT name, database_connection AS db FROM \`${apiDb}\`.cell_mappings ORDER BY id`)
  t.same(
    (mappings as Array<{ name: string; db: string }>).map((m) => [m.name, m.db]),
    [
      ['cell0', viaCellgate(cell0Db)],
      ['cell1', viaCellgate(cell1Db)],
    ],
    'nova_api holds both cells, each pointing at cellgate',
  )
})

t.end()
