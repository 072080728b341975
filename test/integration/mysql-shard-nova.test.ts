// nova through cellgate in shard mode: Debian's real `nova-manage db sync` builds nova's main
// schema on every shard through the router, then nova's own DB API (nova.db.main.api) creates,
// reads, lists (limit + marker) and updates instances, records actions and events, services,
// compute nodes and migrations through it; rows land spread over the shards and each instance
// exists on exactly one. The same script run against one plain database (synced by the same
// nova-manage) must print exactly what it printed through cellgate.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { APP_USER, MARIADB } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'
import { runNovaManage } from '../helpers/nova-api.js'
import { runPy } from '../helpers/python.js'

const N = 3

t.test('nova-manage db sync and nova.db.main.api through cellgate over 3 shards', async (t) => {
  const sh = await startShards(t, N, { extra: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'cg-nova-shard-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const viaCg = `mysql+pymysql://${APP_USER.user}:${APP_USER.password}@127.0.0.1:${sh.front.port}/${sh.logical}?charset=utf8`
  const apiDb = `mysql+pymysql://${MARIADB.user}${MARIADB.password ? ':' + MARIADB.password : ''}@${MARIADB.host}:${MARIADB.port}/${sh.extraDbs[0]}?charset=utf8`
  const plainDb = `mysql+pymysql://${MARIADB.user}${MARIADB.password ? ':' + MARIADB.password : ''}@${MARIADB.host}:${MARIADB.port}/${sh.extraDbs[1]}?charset=utf8`
  const novaConf = (name: string, main: string): string => {
    const file = join(dir, name)
    writeFileSync(
      file,
      ['[DEFAULT]', 'transport_url = rabbit://guest:guest@127.0.0.1:5672/', `state_path = ${dir}`, '[oslo_concurrency]', `lock_path = ${dir}`, '[api_database]', `connection = ${apiDb}`, '[database]', `connection = ${main}`, ''].join('\n'),
    )
    return file
  }
  const conf = novaConf('nova.conf', viaCg)
  const plainConf = novaConf('nova-plain.conf', plainDb)
  const started = Date.now()
  const sync = await runNovaManage(conf, ['db', 'sync', '--local_cell'])
  t.pass(`nova-manage db sync --local_cell through cellgate took ${Date.now() - started} ms`)
  t.comment(sync.stderr.split('\n').filter((l) => /Running upgrade|ERROR/.test(l)).join('\n'))
  const versions = await sh.perShard<{ version_num: string }>('SELECT version_num FROM alembic_version')
  t.ok(versions.every((v) => v.length === 1 && v[0]!.version_num === versions[0]![0]!.version_num), `every shard at the same alembic version ${versions[0]?.[0]?.version_num}`)
  const tables = await sh.perShard<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE()")
  t.ok(tables.every((r) => Number(r[0]!.n) > 50), `nova's tables on every shard: ${tables.map((r) => r[0]!.n).join('/')}`)

  const seed = randomUUID()
  const api = await runPy(t, 'nova_shard_dbapi.py', [conf, seed], 180_000)
  t.equal(api.code, 0, 'the nova DB API script ran', { diagnostics: api.proc.diagnostics() })
  const steps = new Map(api.events.filter((e) => e.event === 'step').map((e) => [e.name as string, e]))
  const created = api.events.filter((e) => e.event === 'step' && e.name === 'created').map((e) => ({ i: e.i as number, uuid: e.uuid as string, id: e.id as number }))
  t.equal(created.length, 12, 'instance_create: 12 instances')
  t.equal(new Set(created.map((c) => c.id)).size, 12, 'instance ids are unique across shards')

  // Where the rows are, read on each shard directly.
  const rows = await sh.perShard<{ uuid: string; id: number }>('SELECT uuid, id FROM instances')
  const shardOf = new Map<string, number[]>()
  rows.forEach((rs, s) => rs.forEach((r) => shardOf.set(r.uuid, [...(shardOf.get(r.uuid) ?? []), s])))
  t.ok(created.every((c) => shardOf.get(c.uuid)?.length === 1), 'each instance is on exactly one shard')
  t.ok(rows.every((rs) => rs.length >= 2), `instances spread over the shards: ${rows.map((r) => r.length).join('/')}`)
  t.ok(rows.every((rs, s) => rs.every((r) => r.id % N === (s + 1) % N)), 'ids follow each shard’s auto_increment_offset')
  for (const table of ['instance_extra', 'instance_info_caches', 'instance_system_metadata', 'instance_id_mappings']) {
    const col = table === 'instance_id_mappings' ? 'uuid' : 'instance_uuid'
    const child = await sh.perShard<{ u: string }>(`SELECT ${col} AS u FROM ${table}`)
    t.ok(
      created.every((c) => child.every((rs, s) => rs.some((r) => r.u === c.uuid) === (shardOf.get(c.uuid)![0] === s))),
      `${table} rows live with their instance`,
    )
  }
  const groups = await sh.perShard<{ n: number }>("SELECT COUNT(*) AS n FROM security_groups WHERE name = 'default'")
  t.ok(groups.every((g) => Number(g[0]!.n) >= 1), 'security_group_ensure_default wrote the reference table on every shard')
  const sgIds = await sh.perShard<{ id: number; project_id: string }>('SELECT id, project_id FROM security_groups ORDER BY id')
  t.ok(sgIds.every((g) => JSON.stringify(g) === JSON.stringify(sgIds[0])), 'reference rows have the same ids on every shard')

  t.match(steps.get('get_by_uuid'), { hostname: 'vm-05', uuid: created[5]!.uuid }, 'instance_get_by_uuid')
  // created_at is base + i//2 minutes: sorted by (created_at, id) descending.
  const expected = [...created].sort((a, b) => Math.floor(b.i / 2) - Math.floor(a.i / 2) || b.id - a.id).map((c) => c.uuid)
  t.same(steps.get('page1')?.uuids, expected.slice(0, 5), 'instance_get_all_by_filters_sort limit 5: merged in global order')
  t.same(steps.get('page2')?.uuids, expected.slice(5, 10), 'next page from the marker')
  t.match(steps.get('update'), { old_state: 'active', new_state: 'stopped', host: 'compute-1' }, 'instance_update_and_get_original')
  t.match(steps.get('after_update'), { vm_state: 'stopped', host: 'compute-1' }, 'the update is visible')
  const s3 = shardOf.get(created[3]!.uuid)![0]!
  const direct = (await sh.perShard<{ vm_state: string }>(`SELECT vm_state FROM instances WHERE uuid = '${created[3]!.uuid}'`))[s3]!
  t.equal(direct[0]?.vm_state, 'stopped', 'the update landed on the instance’s shard')
  t.same(steps.get('actions'), { event: 'step', name: 'actions', actions: ['reboot'], events: [['compute_reboot', 'Success']] }, 'instance actions and events (events routed by action_id % N)')
  t.same(steps.get('services'), { event: 'step', name: 'services', count: 3, min_version: { 'nova-compute': 60 }, by_host: 62 }, 'service_create / get_all / minimum version / by host')
  const services = await sh.perShard<{ host: string }>('SELECT host FROM services')
  t.equal(services.flat().length, 3, `each service row on one shard (placed by host): ${services.map((r) => r.length).join('/')}`)
  t.match(steps.get('listing'), { proj1: ['vm 1', 'vm 11', 'vm 3', 'vm 5', 'vm 7', 'vm 9'], on_host: [created[3]!.uuid] }, 'filtered and sorted listings across shards')
  t.ok(steps.has('done'), 'the script got to its end')
  t.match(steps.get('compute_nodes'), { pages_in_id_order: true, statistics: { count: 3 } }, 'compute nodes: pages by id and marker, statistics joined with services, across shards')
  t.notOk(
    [...steps.values()].some((e) => 'error' in e),
    `no DB API call failed through cellgate: ${[...steps.values()].filter((e) => 'error' in e).map((e) => `${String(e.name)}: ${String(e.error)}`).join('; ') || 'none'}`,
  )

  // The same calls against one plain database: every step must print the same.
  await runNovaManage(plainConf, ['db', 'sync', '--local_cell'])
  const plain = await runPy(t, 'nova_shard_dbapi.py', [plainConf, seed], 180_000)
  t.equal(plain.code, 0, 'the script ran against the plain database', { diagnostics: plain.proc.diagnostics() })
  const plainSteps = plain.events.filter((e) => e.event === 'step')
  const shardSteps = api.events.filter((e) => e.event === 'step')
  t.equal(shardSteps.length, plainSteps.length, `as many steps through cellgate as against one database (${plainSteps.length})`)
  for (const [i, want] of plainSteps.entries()) {
    const name = String(want.name) + (want.name === 'created' ? ` ${String(want.i)}` : '')
    t.same(shardSteps[i], want, `${name}: through cellgate over ${N} shards = one plain database`)
  }
})
