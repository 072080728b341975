// The nova_api source against a nova_api database that nova's own nova-manage built
// (test/helpers/nova-api.ts): exact snapshot contents, change probe, live changes made by SQL as
// nova writes them and by nova-manage itself, errors, and a 100k-instance read.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { NovaApiSource } from '../../adapters/mapping/nova-api-source.js'
import { watchMapping } from '../../adapters/mapping/watch.js'
import type { MappingSource } from '../../adapters/mapping/source.js'
import { silentLogger } from '../../adapters/log/logger.js'
import type { MappingSnapshot } from '../../router/mapping-snapshot.js'
import { CELL0_UUID, createNovaApi } from '../helpers/nova-api.js'

const INST1 = '11111111-aaaa-4bbb-8ccc-000000000001'
const INST2 = '11111111-aaaa-4bbb-8ccc-000000000002'
const UNSCHEDULED = '11111111-aaaa-4bbb-8ccc-000000000003'

/** Comparable form; cells sorted by name because nova-manage created them in parallel (id order varies). */
function plain(s: MappingSnapshot): { cells: unknown[]; hosts: Record<string, unknown>; instances: Record<string, unknown> } {
  const cells = [...s.cells].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))
  return { cells, hosts: Object.fromEntries(s.hosts), instances: Object.fromEntries(s.instances) }
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return Date.now() - start
}

/** A source wrapper counting full reads, to prove the probe spares them. */
function counting(src: MappingSource): MappingSource & { reads: number } {
  const c = {
    name: src.name,
    reads: 0,
    read: async () => {
      c.reads++
      return src.read()
    },
    version: () => (src.version ? src.version() : Promise.reject(new Error('no version'))),
    close: () => src.close(),
  }
  return c
}

const nova = await createNovaApi(t, {
  cells: [{ name: 'cell1' }, { name: 'cell2', transportUrl: 'rabbit://nova:pw@rabbit-2:5672/' }, { name: 'cell3', disabled: true }],
  hosts: { 'compute-1': 'cell1', 'compute-2.example.org': 'cell1', 'compute-3': 'cell2' },
  instances: { [INST1]: 'cell1', [INST2]: 'cell2', [UNSCHEDULED]: null },
})
const uuid = (cell: string): string => nova.cellUuids.get(cell) ?? `no uuid for ${cell}`

t.test('the snapshot is exactly what nova-manage recorded', async (t) => {
  const src = new NovaApiSource({ url: nova.url, logger: silentLogger })
  t.teardown(() => src.close())
  const snap = await src.read()
  t.equal(snap.source, 'nova_api')
  t.same(plain(snap), {
    cells: [
      { uuid: CELL0_UUID, name: 'cell0', transportUrl: 'none:///', databaseUrl: nova.cellDbUrls.get('cell0'), disabled: false },
      { uuid: uuid('cell1'), name: 'cell1', transportUrl: 'rabbit://guest:guest@127.0.0.1:5672/cell1', databaseUrl: nova.cellDbUrls.get('cell1'), disabled: false },
      { uuid: uuid('cell2'), name: 'cell2', transportUrl: 'rabbit://nova:pw@rabbit-2:5672/', databaseUrl: nova.cellDbUrls.get('cell2'), disabled: false },
      { uuid: uuid('cell3'), name: 'cell3', transportUrl: 'rabbit://guest:guest@127.0.0.1:5672/cell3', databaseUrl: nova.cellDbUrls.get('cell3'), disabled: true },
    ],
    hosts: {
      'compute-1': { uuid: uuid('cell1') },
      'compute-2.example.org': { uuid: uuid('cell1') },
      'compute-3': { uuid: uuid('cell2') },
    },
    // The unscheduled instance (cell_id NULL) is not in the map.
    instances: { [INST1]: { uuid: uuid('cell1') }, [INST2]: { uuid: uuid('cell2') } },
  })
})

t.test('the change probe is stable while nothing changes', async (t) => {
  const src = new NovaApiSource({ url: nova.url, logger: silentLogger })
  t.teardown(() => src.close())
  const a = await src.version()
  const b = await src.version()
  t.equal(a.token, b.token)
  // nova-manage wrote created_at only, so nothing is "recently updated".
  t.equal(a.settled, true)
  t.match(a.token, /^cell_mappings:4:\d+:\|host_mappings:3:\d+:\|instance_mappings:3:\d+:$/)
})

t.test('live changes are reported, and only changes', async (t) => {
  const inner = new NovaApiSource({ url: nova.url, logger: silentLogger })
  const src = counting(inner)
  t.teardown(() => inner.close())
  const initial = await inner.read()
  const changes: MappingSnapshot[] = []
  const errors: Error[] = []
  const w = watchMapping({
    source: src,
    intervalMs: 100,
    initial,
    logger: silentLogger,
    onChange: (s) => changes.push(s),
    onError: (e) => errors.push(e),
  })
  t.teardown(() => w.stop())

  // The first poll reads once (the initial snapshot may predate its token); then probes only.
  await new Promise((r) => setTimeout(r, 500))
  t.equal(src.reads, 1, 'one baseline read')
  await new Promise((r) => setTimeout(r, 1_000))
  t.equal(changes.length, 0, 'no report while nothing changed')
  t.equal(src.reads, 1, 'the probe spared every full read after the baseline')

  // What nova's ORM does when a host mapping is saved: cell_id and updated_at (UTC).
  const cell2 = await nova.cellId('cell2')
  await nova.sql('host_mappings').where({ host: 'compute-1' }).update({ cell_id: cell2, updated_at: nova.sql.raw('UTC_TIMESTAMP()') })
  const ms = await until('moved compute-1', () => changes.length === 1, 3_000)
  t.same(changes[0]?.hosts.get('compute-1'), { uuid: uuid('cell2') }, `reported in ${ms} ms`)
  t.same(changes[0]?.hosts.get('compute-2.example.org'), { uuid: uuid('cell1') })

  // A second move right away, most likely within the same second: MAX(updated_at) may not move,
  // which is what the "unsettled" re-reads are for.
  await nova.sql('host_mappings').where({ host: 'compute-2.example.org' }).update({ cell_id: cell2, updated_at: nova.sql.raw('UTC_TIMESTAMP()') })
  await until('moved compute-2', () => changes.length === 2, 3_000)
  t.same(changes[1]?.hosts.get('compute-2.example.org'), { uuid: uuid('cell2') })

  // The conductor maps the waiting instance to a cell (_map_instance_to_cell).
  const cell1 = await nova.cellId('cell1')
  await nova.sql('instance_mappings').where({ instance_uuid: UNSCHEDULED }).update({ cell_id: cell1, updated_at: nova.sql.raw('UTC_TIMESTAMP()') })
  await until('scheduled instance', () => changes.length === 3, 3_000)
  t.same(changes[2]?.instances.get(UNSCHEDULED), { uuid: uuid('cell1') })

  // nova-manage itself: disable cell2, then remove a host mapping.
  await nova.novaManage(['cell_v2', 'update_cell', '--cell_uuid', uuid('cell2'), '--disable'])
  await until('disabled cell2', () => changes.length === 4, 3_000)
  t.equal(changes[3]?.cells.find((c) => c.uuid === uuid('cell2'))?.disabled, true)
  t.equal(changes[3]?.cells.find((c) => c.uuid === uuid('cell1'))?.disabled, false)

  await nova.novaManage(['cell_v2', 'delete_host', '--cell_uuid', uuid('cell2'), '--host', 'compute-3'])
  await until('deleted compute-3', () => changes.length === 5, 3_000)
  t.equal(changes[4]?.hosts.has('compute-3'), false)
  t.same([...(changes[4]?.hosts.keys() ?? [])].sort(), ['compute-1', 'compute-2.example.org'])

  // A new compute started in cell1 and discovered by the real discover_hosts.
  await nova.addHosts({ 'compute-4': 'cell1' })
  await until('discovered compute-4', () => changes.length === 6, 3_000)
  t.same(changes[5]?.hosts.get('compute-4'), { uuid: uuid('cell1') })

  // Once settled again, polls go back to probing only.
  const settledBy = Date.now() + 6_500
  await until('the probe to settle', () => Date.now() > settledBy, 8_000)
  const readsBefore = src.reads
  await new Promise((r) => setTimeout(r, 600))
  t.equal(src.reads, readsBefore, 'no full reads once the newest change is older than settleSeconds')
  t.equal(changes.length, 6, 'no spurious reports')
  t.same(errors, [])
  t.same(plain(w.current() ?? initial), plain(await inner.read()), 'the watcher holds what the database says')
})

t.test('a hand-written UPDATE that leaves updated_at alone is found by the periodic full read', async (t) => {
  const src = new NovaApiSource({ url: nova.url, logger: silentLogger, settleSeconds: 1 })
  t.teardown(() => src.close())
  for (let i = 0; (await src.version()).settled !== true; i++) {
    if (i > 100) throw new Error('probe never settled')
    await new Promise((r) => setTimeout(r, 100))
  }
  const changes: MappingSnapshot[] = []
  const w = watchMapping({
    source: src,
    intervalMs: 100,
    fullReadEveryMs: 1_500,
    initial: await src.read(),
    logger: silentLogger,
    onChange: (s) => changes.push(s),
    onError: (e) => t.fail(e.message),
  })
  t.teardown(() => w.stop())
  // Let the baseline poll (a read) pass, so what follows relies on the probe.
  await new Promise((r) => setTimeout(r, 300))
  const before = await src.version()
  const cell1 = await nova.cellId('cell1')
  await nova.sql('host_mappings').where({ host: 'compute-1' }).update({ cell_id: cell1 })
  t.equal((await src.version()).token, before.token, 'the probe cannot see this edit')
  const ms = await until('the hand edit', () => changes.length === 1, 4_000)
  t.same(changes[0]?.hosts.get('compute-1'), { uuid: uuid('cell1') })
  t.ok(ms > 500, `found by the periodic full read, not by the probe (after ${ms} ms)`)
})

t.test('an unreachable database is reported, with backoff, and the last good map stays', async (t) => {
  const good = new NovaApiSource({ url: nova.url, logger: silentLogger })
  const initial = await good.read()
  await good.close()
  const bad = new NovaApiSource({ url: `${nova.url}_does_not_exist`, logger: silentLogger })
  t.teardown(() => bad.close())
  const failures: { n: number; at: number; msg: string }[] = []
  const changes: MappingSnapshot[] = []
  const w = watchMapping({
    source: bad,
    intervalMs: 50,
    maxBackoffMs: 400,
    initial,
    logger: silentLogger,
    onChange: (s) => changes.push(s),
    onError: (e, n) => failures.push({ n, at: Date.now(), msg: e.message }),
  })
  t.teardown(() => w.stop())
  await until('four failures', () => failures.length >= 4, 5_000)
  await w.stop()
  t.same(failures.slice(0, 4).map((f) => f.n), [1, 2, 3, 4], 'consecutive failures counted')
  t.match(failures[0]?.msg, /Unknown database/)
  const gap = (failures[3]?.at ?? 0) - (failures[2]?.at ?? 0)
  t.ok(gap >= 350, `backoff reached the cap (gap ${gap} ms, interval 50 ms)`)
  t.equal(changes.length, 0)
  t.equal(w.current(), initial, 'the last good snapshot stays in force')
})

t.test('100k instances: probe and full read', async (t) => {
  const cell1 = await nova.cellId('cell1')
  const rows = Array.from({ length: 100_000 }, () => ({
    instance_uuid: randomUUID(),
    cell_id: cell1,
    project_id: 'cgt-scale',
    user_id: 'cgt-user',
    queued_for_delete: 0,
    created_at: nova.sql.raw('UTC_TIMESTAMP()'),
  }))
  const t0 = Date.now()
  await nova.sql.batchInsert('instance_mappings', rows, 5_000)
  t.comment(`inserted 100k instance_mappings in ${Date.now() - t0} ms`)
  const src = new NovaApiSource({ url: nova.url, logger: silentLogger })
  t.teardown(() => src.close())
  await src.version()
  const p0 = Date.now()
  await src.version()
  const probeMs = Date.now() - p0
  const r0 = Date.now()
  const snap = await src.read()
  const readMs = Date.now() - r0
  t.equal(snap.instances.size, 100_003, 'every mapped instance read')
  t.same(snap.instances.get(rows[99_999]?.instance_uuid ?? ''), { uuid: uuid('cell1') })
  t.same(snap.instances.get(rows[0]?.instance_uuid ?? ''), { uuid: uuid('cell1') })
  t.comment(`probe ${probeMs} ms, full read ${readMs} ms`)
  t.ok(probeMs < 1_000, `probe is cheap (${probeMs} ms)`)
  t.ok(readMs < 5_000, `full read is bounded (${readMs} ms)`)
})
