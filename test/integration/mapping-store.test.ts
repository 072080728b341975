// cellgate's own mapping tables on the embedded SQLite database (a temp file, and :memory:) and on
// the local MariaDB (a unique temporary database): migrations (idempotent), writes and reads
// round-trip, input checks, the revision probe, and live changes seen by a second handle.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CellgateStore } from '../../adapters/mapping/cellgate-store.js'
import { MappingInputError } from '../../adapters/mapping/names.js'
import { watchMapping } from '../../adapters/mapping/watch.js'
import { silentLogger } from '../../adapters/log/logger.js'
import type { MappingSnapshot } from '../../router/mapping-snapshot.js'
import { adminConnection, MYSQL_HOST, MYSQL_PORT, MYSQL_USER, uniqueDbName } from '../helpers/nova-api.js'

function plain(s: MappingSnapshot): { cells: unknown[]; hosts: Record<string, unknown>; instances: Record<string, unknown> } {
  return { cells: [...s.cells], hosts: Object.fromEntries(s.hosts), instances: Object.fromEntries(s.instances) }
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - start
}

async function sqliteUrl(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'mapping.sqlite')
}

async function mariadbUrl(t: Test): Promise<string> {
  const db = uniqueDbName()
  const admin = await adminConnection()
  await admin.query(`CREATE DATABASE \`${db}\``)
  await admin.end()
  t.teardown(async () => {
    const a = await adminConnection()
    await a.query(`DROP DATABASE IF EXISTS \`${db}\``)
    await a.end()
  })
  return `mysql://${MYSQL_USER}@${MYSQL_HOST}:${MYSQL_PORT}/${db}`
}

const backends: { name: string; url: (t: Test) => Promise<string>; persistent: boolean }[] = [
  { name: 'SQLite file', url: sqliteUrl, persistent: true },
  { name: 'SQLite :memory:', url: () => Promise.resolve(':memory:'), persistent: false },
  { name: 'MariaDB', url: mariadbUrl, persistent: true },
]

const UUID_A = '0a0a0a0a-1111-4222-8333-444444444444'

for (const b of backends) {
  t.test(b.name, async (t) => {
    const url = await b.url(t)
    const store = await CellgateStore.open({ url, logger: silentLogger })
    t.teardown(() => store.close())

    t.same(await store.migrationStatus(), { applied: ['0001_mapping_tables'], pending: [] }, 'open() applied the migrations')
    t.same(await store.migrate(), [], 'running them again is a no-op')
    if (b.persistent) {
      const again = await CellgateStore.open({ url, logger: silentLogger })
      t.same(await again.migrate(), [], 'a second cellgate opening the same store migrates nothing')
      await again.close()
    }

    t.same(plain(await store.read()), { cells: [], hosts: {}, instances: {} }, 'a new store is empty')
    const v0 = await store.version()
    t.same(await store.version(), v0, 'revision stable without writes')

    await store.setCell({ name: 'cell1', uuid: UUID_A.toUpperCase(), transportUrl: 'rabbit://a@r1:5672/', region: 'RegionOne', pod: 'az1' })
    await store.setCell({ name: 'cell2', disabled: true })
    await store.setHost('network-1', 'cell1')
    await store.setHost('volume-1', 'cell1')
    await store.setHost('volume-1', 'cell2') // moved: replaces the earlier row
    await store.setHost('node-7.example.org', 'cell2')
    await store.setInstance('9B6E8F4C-2D1A-4C3B-8E5F-0A1B2C3D4E5F', 'cell2')
    await store.setInstance('9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e60', 'cell1')
    t.not((await store.version()).token, v0.token, 'writes bump the revision')

    t.equal(await store.removeHost('network-1'), true)
    t.equal(await store.removeHost('network-1'), false, 'removing twice reports nothing removed')
    t.equal(await store.removeInstance('9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e60'), true)

    const snap = await store.read()
    t.equal(snap.source, 'cellgate-db')
    t.same(plain(snap), {
      cells: [
        { name: 'cell1', uuid: UUID_A, transportUrl: 'rabbit://a@r1:5672/', region: 'RegionOne', pod: 'az1', disabled: false },
        { name: 'cell2', disabled: true },
      ],
      hosts: { 'volume-1': { name: 'cell2' }, 'node-7.example.org': { name: 'cell2' } },
      instances: { '9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e5f': { name: 'cell2' } },
    })

    // setCell replaces the description; removeCell forgets it.
    await store.setCell({ name: 'cell2' })
    t.same((await store.read()).cells[1], { name: 'cell2', disabled: false })
    t.equal(await store.removeCell('cell2'), true)
    t.same((await store.read()).cells.map((c) => c.name), ['cell1'])

    const bad: [string, () => Promise<unknown>, string][] = [
      ['empty host', () => store.setHost('', 'cell1'), 'host'],
      ['host with a space', () => store.setHost('a b', 'cell1'), 'host'],
      ['bad cell name', () => store.setHost('h', 'cell 1'), 'cell'],
      ['instance not a uuid', () => store.setInstance('i-123', 'cell1'), 'instance'],
      ['cell uuid malformed', () => store.setCell({ name: 'c3', uuid: 'xyz' }), 'uuid'],
      ['cell name malformed', () => store.setCell({ name: '-c' }), 'name'],
    ]
    const before = await store.read()
    for (const [what, op, field] of bad) {
      const err = await op().then(
        () => undefined,
        (e: unknown) => e,
      )
      t.ok(err instanceof MappingInputError, `${what}: refused`)
      t.equal((err as MappingInputError).field, field, `${what}: names ${field}`)
    }
    t.same(plain(await store.read()), plain(before), 'refused writes changed nothing')

    if (b.persistent) {
      await store.close()
      const reopened = await CellgateStore.open({ url, logger: silentLogger })
      t.teardown(() => reopened.close())
      t.same(plain(await reopened.read()), plain(before), 'the data survives a restart')
    }
  })
}

for (const b of backends.filter((x) => x.persistent)) {
  t.test(`${b.name}: an operator's write through another handle is reported live`, async (t) => {
    const url = await b.url(t)
    const cellgate = await CellgateStore.open({ url, logger: silentLogger })
    const operator = await CellgateStore.open({ url, logger: silentLogger })
    t.teardown(async () => {
      await cellgate.close()
      await operator.close()
    })
    await operator.setHost('h1', 'cell1')
    let reads = 0
    const counted = { name: cellgate.name, read: () => (reads++, cellgate.read()), version: () => cellgate.version(), close: () => cellgate.close() }
    const changes: MappingSnapshot[] = []
    const w = watchMapping({
      source: counted,
      intervalMs: 50,
      logger: silentLogger,
      onChange: (s) => changes.push(s),
      onError: (e) => t.fail(e.message),
    })
    t.teardown(() => w.stop())
    await until('first snapshot', () => changes.length === 1, 2_000)
    await new Promise((r) => setTimeout(r, 500))
    t.equal(changes.length, 1, 'no report while nothing changes')
    t.equal(reads, 1, 'polls of an unchanged store read only the revision')

    await operator.setHost('h1', 'cell2')
    const ms = await until('moved h1', () => changes.length === 2, 2_000)
    t.same(changes[1]?.hosts.get('h1'), { name: 'cell2' }, `reported in ${ms} ms`)
    t.equal(reads, 2)
    await w.stop()
  })
}
