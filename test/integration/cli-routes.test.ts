// `cellgate routes` as an operator runs it: the built CLI (node dist/cli/main.js) against a
// configuration file (--offline) and against an admin listener started in this process.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAdminServer } from '../../adapters/admin/http-admin.js'
import { silentLogger } from '../../adapters/log/logger.js'
import { buildRoutesView, configOnlyRouting, poolHealth, readiness, type PoolLike, type RoutesView } from '../../app/routes-view.js'
import { buildCellMap } from '../../router/cell-map.js'
import { rendezvousCell } from '../../router/rendezvous.js'
import { CELLGATE_MAIN, PROJECT_ROOT, ensureCellgateBuilt } from '../helpers/cellgate-process.js'

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Asynchronous on purpose: the admin listener answering it runs in this very process. */
function cellgate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = { ...process.env, ...env }
    if (!('CELLGATE_CONFIG' in env)) delete clean['CELLGATE_CONFIG']
    execFile(process.execPath, [CELLGATE_MAIN, ...args], { cwd: PROJECT_ROOT, env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'cellgate-cli-routes-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const CONFIG = `
cells:
  - {name: cell0, rabbit: "amqp://guest:s3cret@127.0.0.1:5672/cell0"}
  - {name: cell1, rabbit: "amqp://guest:s3cret@127.0.0.1:5672/cell1", region: east}
  - {name: cell2, rabbit: "amqp://guest:s3cret@127.0.0.1:5672/cell2"}
  - {name: cell3, rabbit: "amqp://guest:s3cret@127.0.0.1:5672/cell3", disabled: true}
routing: {parkingCell: cell0}
mapping:
  hosts: {host-a: cell1, host-b: cell2, old: cell3}
`

t.before(async () => {
  t.comment(await ensureCellgateBuilt())
})

t.test('--offline: the map and host placement from the configuration alone', async (t) => {
  const file = join(dir, 'offline.yaml')
  writeFileSync(file, CONFIG)
  const fresh = rendezvousCell('brand-new.example.com', ['cell1', 'cell2'])

  const hosts = await cellgate(['routes', '--offline', '--config', file, '--host', 'host-a', '--host', 'old', '--host', 'brand-new.example.com'])
  t.equal(hosts.code, 0, hosts.stderr)
  t.equal(
    hosts.stdout,
    [
      'host-a → cell1 (host-mapping)',
      'old → parked in cell0 (mapped to disabled cell3)',
      `brand-new.example.com → ${fresh} (rendezvous)`,
      '',
    ].join('\n'),
  )
  t.equal(hosts.stderr, '')

  const table = await cellgate(['routes', '--offline', '--config', file])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^cellgate routes \(from the configuration only: no broker asked, nothing learned; at /)
  t.match(table.stdout, /\ncell1 +work +1 +east +- +- +amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672\/cell1\n/)
  t.match(table.stdout, /\nold +cell3 +parked in cell0 +-\n/)
  t.notMatch(table.stdout, /s3cret/)

  const json = await cellgate(['routes', '--offline', '--json', '--host', 'host-b'], { CELLGATE_CONFIG: file })
  t.equal(json.code, 0, json.stderr)
  const view = JSON.parse(json.stdout) as RoutesView
  t.equal(view.source, 'config')
  t.same(view.explain.map((e) => [e.host, e.outcome, e.cell, e.why]), [['host-b', 'cell', 'cell2', 'host-mapping']], '$CELLGATE_CONFIG names the file')

  const withSources = join(dir, 'sources.yaml')
  writeFileSync(withSources, `${CONFIG}  novaApi: "mysql://nova:pw@127.0.0.1/nova_api"\n`)
  const noted = await cellgate(['routes', '--offline', '--config', withSources, '--host', 'host-a'])
  t.equal(noted.code, 0, noted.stderr)
  t.equal(noted.stdout, 'host-a → cell1 (host-mapping)\n')
  t.match(noted.stderr, /note: --offline reads the configuration file only, not mapping\.novaApi/, 'says what it did not read')

  const noConfig = await cellgate(['routes', '--offline'])
  t.equal(noConfig.code, 2)
  t.match(noConfig.stderr, /routes --offline needs the configuration: --config FILE/)

  const badConfig = join(dir, 'bad.yaml')
  writeFileSync(badConfig, 'cells: 7\n')
  const bad = await cellgate(['routes', '--offline', '--config', badConfig])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^cellgate: invalid configuration: .*bad\.yaml: \/cells/)
})

t.test('against a running admin listener', async (t) => {
  const map = buildCellMap(
    [
      { name: 'cell1', disabled: false, transportUrl: 'amqp://guest:s3cret@127.0.0.1:5672/cell1' },
      { name: 'cell2', disabled: false },
    ],
    [],
    { hostCell: [['host-a', 'cell1']] },
  )
  const pools = new Map<string, PoolLike>([
    ['cell1', { reachable: true, connectionCount: 3, reconnects: 0 }],
    ['cell2', { reachable: false, connectionCount: 0, reconnects: 2 }],
  ])
  const admin = await startAdminServer(
    { host: '127.0.0.1', port: 0 },
    (req) => buildRoutesView({ routing: configOnlyRouting(map), health: poolHealth(pools), explain: req.explain, startedAt: new Date() }),
    () => readiness(map, poolHealth(pools)),
    silentLogger,
  )
  t.teardown(() => admin.close())
  const url = `http://127.0.0.1:${admin.port}`

  const table = await cellgate(['routes', '--admin', url])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^cellgate routes \(live; at .*, up \d+s\)\n/)
  t.match(table.stdout, /\ncell1 +work +up +3 +0 +1 +0 /)
  t.match(table.stdout, /\ncell2 +work +down +0 +2 +0 +0 /)
  t.match(table.stdout, /\nQueues: 0 known\n/)
  t.notMatch(table.stdout, /s3cret/)

  const json = await cellgate(['routes', '--admin', `${url}/routes`, '--json'])
  t.equal(json.code, 0, json.stderr)
  t.same((JSON.parse(json.stdout) as RoutesView).cells.map((c) => [c.name, c.reachable]), [['cell1', true], ['cell2', false]])

  const explained = await cellgate(['routes', '--admin', `127.0.0.1:${admin.port}`, '--host', 'host-a'])
  t.equal(explained.code, 0, explained.stderr)
  t.equal(explained.stdout, 'host-a → cell1 (host-mapping)\n')

  // The admin address from the configuration, as `cellgate serve --config F` would bind it.
  const file = join(dir, 'live.yaml')
  writeFileSync(file, `${CONFIG}admin: {host: 0.0.0.0, port: ${admin.port}}\n`)
  const fromConfig = await cellgate(['routes', '--config', file, '--host', 'host-a'])
  t.equal(fromConfig.code, 0, fromConfig.stderr)
  t.equal(fromConfig.stdout, 'host-a → cell1 (host-mapping)\n', 'a wildcard bind is asked on loopback')

  const disabled = join(dir, 'disabled.yaml')
  writeFileSync(disabled, `${CONFIG}admin: {enabled: false}\n`)
  const off = await cellgate(['routes', '--config', disabled])
  t.equal(off.code, 1)
  t.match(off.stderr, /admin listener is disabled in .*disabled\.yaml \(admin\.enabled: false\)/)

  const notCellgate = await cellgate(['routes', '--admin', `${url}/healthz`])
  t.equal(notCellgate.code, 1, 'a path that is not the routes endpoint')
  t.match(notCellgate.stderr, /\/healthz\/routes\?format=text answered HTTP 404/)
})

t.test('nothing answering is a clear error naming the URL', async (t) => {
  const probe = await startAdminServer({ host: '127.0.0.1', port: 0 }, () => buildRoutesView({ routing: configOnlyRouting(buildCellMap([])) }), () => readiness(buildCellMap([]), () => undefined), silentLogger)
  const port = probe.port
  await probe.close()
  const r = await cellgate(['routes', '--admin', `http://127.0.0.1:${port}`])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, new RegExp(`^cellgate: no cellgate answers at http://127\\.0\\.0\\.1:${port}/routes\\?format=text \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); is it running with its admin listener there\\?`))
})
