import t from 'tap'
import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAdminServer, type ViewRequest } from '../../adapters/admin/http-admin.js'
import { silentLogger } from '../../adapters/log/logger.js'
import { buildRoutesView, configOnlyRouting, poolHealth, readiness, type PoolLike, type RoutesView } from '../../app/routes-view.js'
import { buildCellMap } from '../../router/cell-map.js'

const map = buildCellMap(
  [
    { name: 'cell1', disabled: false, transportUrl: 'amqp://u:pw@127.0.0.1:5672/cell1' },
    { name: 'cell2', disabled: false, transportUrl: 'amqp://u:pw@127.0.0.1:5672/cell2' },
    { name: 'cell3', disabled: true },
  ],
  [],
  { hostCell: [['host-a', 'cell1'], ['host-c', 'cell3']] },
)

interface Reply {
  status: number
  type: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(port: number, path: string, method = 'GET', agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, ...(agent ? { agent } : { agent: false }) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Handles that keep a process alive, by kind, without tap's own. */
function liveHandles(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) if (r.startsWith('TCP')) out[r] = (out[r] ?? 0) + 1
  return out
}

t.test('every route, its status and body', async (t) => {
  const before = liveHandles()
  const pools = new Map<string, PoolLike>([
    ['cell1', { reachable: true, connectionCount: 2, reconnects: 0 }],
    ['cell2', { reachable: true, connectionCount: 1, reconnects: 0 }],
  ])
  const asked: ViewRequest[] = []
  const view = (req: ViewRequest): RoutesView => {
    asked.push(req)
    return buildRoutesView({ routing: configOnlyRouting(map), health: poolHealth(pools), explain: req.explain, startedAt: new Date(Date.now() - 5000) })
  }
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, view, () => readiness(map, poolHealth(pools)), silentLogger)
  t.ok(admin.port > 0, 'port 0 picks a free port')

  const health = await get(admin.port, '/healthz')
  t.same([health.status, health.type, health.body], [200, 'text/plain; charset=utf-8', 'ok\n'])
  t.equal(health.headers['cache-control'], 'no-store')

  const routes = await get(admin.port, '/routes')
  t.equal(routes.status, 200)
  t.equal(routes.type, 'application/json; charset=utf-8')
  const v = JSON.parse(routes.body) as RoutesView
  t.same(v.cells.map((c) => [c.name, c.reachable, c.connections]), [['cell1', true, 2], ['cell2', true, 1], ['cell3', null, null]])
  t.same(v.hosts.map((h) => [h.host, h.routesTo]), [['host-a', 'cell1'], ['host-c', 'refused']])
  t.ok(v.uptimeSeconds !== null && v.uptimeSeconds >= 5)
  t.notOk(routes.body.includes(':pw@'), 'broker passwords never leave the process')

  const text = await get(admin.port, '/routes?format=text')
  t.equal(text.status, 200)
  t.equal(text.type, 'text/plain; charset=utf-8')
  t.match(text.body, /^cellgate routes \(live; at .*, up \d+s\)\n\nCells: 3\nname +state +broker/)
  t.match(text.body, /\ncell1 +work +up +2 /)

  const explained = await get(admin.port, '/routes?host=host-a&host=host-c&format=json')
  t.same((JSON.parse(explained.body) as RoutesView).explain.map((e) => e.text), ['host-a → cell1 (host-mapping)', 'host-c → refused (mapped to disabled cell3, no parking cell)'])
  const explainedText = await get(admin.port, '/routes?host=host-a&format=text')
  t.equal(explainedText.body, 'host-a → cell1 (host-mapping)\n', 'text with ?host= is just the answer')
  t.same(asked.at(-1), { explain: ['host-a'] }, 'the provider was asked for the hosts')

  const badFormat = await get(admin.port, '/routes?format=xml')
  t.same([badFormat.status, JSON.parse(badFormat.body)], [400, { error: 'format must be json or text', format: 'xml' }])
  t.equal((await get(admin.port, '/routes?host=')).status, 400, 'an empty host is refused')

  const ready = await get(admin.port, '/readyz')
  t.same([ready.status, JSON.parse(ready.body)], [200, { ready: true, unreachable: [], cells: { cell1: 'reachable', cell2: 'reachable', cell3: 'disabled' } }])

  pools.set('cell2', { reachable: false, connectionCount: 0, reconnects: 4 })
  const notReady = await get(admin.port, '/readyz')
  t.same([notReady.status, notReady.type, JSON.parse(notReady.body)], [503, 'application/json; charset=utf-8', { ready: false, unreachable: ['cell2'], cells: { cell1: 'reachable', cell2: 'unreachable', cell3: 'disabled' } }], 'readyz flips when a cell goes away')
  t.match((await get(admin.port, '/routes?format=text')).body, /\ncell2 +work +down +0 +4 /)
  pools.set('cell2', { reachable: true, connectionCount: 1, reconnects: 4 })
  t.equal((await get(admin.port, '/readyz')).status, 200, 'and back when it returns')

  const missing = await get(admin.port, '/nope')
  t.same([missing.status, missing.type, JSON.parse(missing.body)], [404, 'application/json; charset=utf-8', { error: 'not found', path: '/nope', routes: ['/routes', '/healthz', '/readyz'] }])

  const post = await get(admin.port, '/routes', 'POST')
  t.same([post.status, post.headers['allow'], (JSON.parse(post.body) as { error: string }).error], [405, 'GET, HEAD', 'method not allowed'])
  t.equal((await get(admin.port, '/healthz', 'DELETE')).status, 405)
  const head = await get(admin.port, '/healthz', 'HEAD')
  t.same([head.status, head.body], [200, ''], 'HEAD answers like GET without a body')

  // A keep-alive client still holding its idle socket must not keep the listener (or the process) alive.
  const agent = new Agent({ keepAlive: true })
  t.equal((await get(admin.port, '/healthz', 'GET', agent)).status, 200)
  const started = Date.now()
  await admin.close()
  t.ok(Date.now() - started < 900, 'close does not wait for idle keep-alive sockets')
  await admin.close()
  t.pass('close twice is harmless')
  agent.destroy()
  for (let i = 0; i < 50 && JSON.stringify(liveHandles()) !== JSON.stringify(before); i++) await sleep(20)
  t.same(liveHandles(), before, 'no TCP handle left behind')
  await t.rejects(get(admin.port, '/healthz'), { code: 'ECONNREFUSED' }, 'nothing listens any more')
})

t.test('provider failures answer 500 with the reason; extra routes', async (t) => {
  const admin = await startAdminServer(
    { host: '127.0.0.1', port: 0, extraRoutes: { '/metrics': () => ({ contentType: 'text/plain; version=0.0.4', body: 'x 1\n' }) } },
    () => Promise.reject(new Error('routing not ready')),
    () => {
      throw new Error('no pools')
    },
    silentLogger,
  )
  t.teardown(() => admin.close())
  const routes = await get(admin.port, '/routes')
  t.same([routes.status, JSON.parse(routes.body)], [500, { error: 'internal error', detail: 'routing not ready' }])
  t.equal((await get(admin.port, '/readyz')).status, 500)
  t.same([(await get(admin.port, '/healthz')).status], [200], 'healthz does not depend on the providers')
  const metrics = await get(admin.port, '/metrics')
  t.same([metrics.status, metrics.type, metrics.body], [200, 'text/plain; version=0.0.4', 'x 1\n'])
})

t.test('a port in use is an error naming it', async (t) => {
  const first = await startAdminServer({ host: '127.0.0.1', port: 0 }, () => buildRoutesView({ routing: configOnlyRouting(map) }), () => readiness(map, () => undefined), silentLogger)
  t.teardown(() => first.close())
  await t.rejects(
    startAdminServer({ host: '127.0.0.1', port: first.port }, () => buildRoutesView({ routing: configOnlyRouting(map) }), () => readiness(map, () => undefined), silentLogger),
    { message: new RegExp(`^admin listener cannot listen on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`) },
  )
})
