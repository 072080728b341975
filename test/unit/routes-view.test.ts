import t from 'tap'
import type { ConnectionRouting } from '../../adapters/amqp091/routing-port.js'
import { silentLogger } from '../../adapters/log/logger.js'
import { duration, renderExplanations, renderRoutesText } from '../../adapters/admin/routes-text.js'
import { renderTable } from '../../adapters/admin/text-table.js'
import { CellRouting } from '../../app/amqp-routing.js'
import { QueueDirectory } from '../../app/queue-directory.js'
import { buildRoutesView, configOnlyRouting, explainHosts, poolHealth, readiness, type PoolLike } from '../../app/routes-view.js'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const map: CellMap = {
  ...buildCellMap(
    [
      { name: 'cell0', disabled: false, transportUrl: 'amqp://guest:secret@127.0.0.1:5672/cell0' },
      { name: 'cell1', disabled: false, transportUrl: 'amqp://guest:secret@127.0.0.1:5672/cell1', uuid: 'u-1', region: 'r1', pod: 'az1' },
      { name: 'cell2', disabled: false, transportUrl: 'amqp://guest:secret@127.0.0.1:5672/cell2' },
      { name: 'cell3', disabled: true, transportUrl: 'amqp://guest:secret@127.0.0.1:5672/cell3' },
    ],
    [],
    {
      hostCell: [['host-a', 'cell1'], ['host-b', 'cell2'], ['old', 'cell3']],
      instanceCell: [['11111111-2222-3333-4444-555555555555', 'cell1']],
      parkingCell: 'cell0',
    },
  ),
  hostSource: new Map([['host-b', 'nova_api']]),
}

function connect(routing: CellRouting, id: string, pid: number): ConnectionRouting {
  const r = routing.forConnection({ id, vhost: '/', user: 'guest', peerAddress: '10.0.0.1', clientProperties: { connection_name: `nova-compute:${pid}:abc` } })
  if ('refused' in r) throw new Error(`refused: ${r.refused}`)
  return r
}

/** A CellRouting after an RPC server on host-a declared its queues and published some traffic. */
function busyRouting(): CellRouting {
  const routing = new CellRouting(map, {}, silentLogger)
  const server = connect(routing, 'c1', 100)
  server.declareQueue('compute.host-a', false)
  server.declareQueue('reply_0123456789abcdef', true)
  const body = Buffer.from('{}')
  server.publish('nova', 'compute.host-b', {}, body)
  server.publish('nova', 'compute.host-b', {}, body)
  server.publish('nova', 'compute.old', {}, body)
  server.publish('compute_fanout', '', {}, body)
  return routing
}

const pools = new Map<string, PoolLike>([
  ['cell0', { reachable: true, connectionCount: 1, reconnects: 0 }],
  ['cell1', { reachable: true, connectionCount: 2, reconnects: 1 }],
  ['cell2', { reachable: false, connectionCount: 0, reconnects: 3 }],
  ['cell3', { reachable: false, connectionCount: 0, reconnects: 0 }],
])

t.test('the view of a live CellRouting', async (t) => {
  const routing = busyRouting()
  const startedAt = new Date('2030-01-01T00:00:00Z')
  const now = new Date('2030-01-01T01:02:03Z')
  const view = buildRoutesView({ routing, health: poolHealth(pools), startedAt, now, explain: ['host-b', 'old'] })

  t.equal(view.source, 'live')
  t.equal(view.generatedAt, '2030-01-01T01:02:03.000Z')
  t.equal(view.uptimeSeconds, 3723)
  t.equal(view.parkingCell, 'cell0')
  t.same(
    view.cells.map((c) => [c.name, c.disabled, c.parking, c.work, c.reachable, c.connections, c.reconnects, c.hosts]),
    [
      ['cell0', false, true, false, true, 1, 0, 0],
      ['cell1', false, false, true, true, 2, 1, 1],
      ['cell2', false, false, true, false, 0, 3, 1],
      ['cell3', true, false, false, false, 0, 0, 1],
    ],
    'cells with their role and broker health',
  )
  t.same(view.cells[1], { ...view.cells[1], uuid: 'u-1', region: 'r1', pod: 'az1', rabbit: 'amqp://guest:***@127.0.0.1:5672/cell1' }, 'identity fields; the password hidden')
  t.notOk(JSON.stringify(view).includes('secret'), 'no password anywhere in the view')

  t.same(view.hosts, [
    { host: 'host-a', cell: 'cell1', source: null, routesTo: 'cell1' },
    { host: 'host-b', cell: 'cell2', source: 'nova_api', routesTo: 'cell2' },
    { host: 'old', cell: 'cell3', source: null, routesTo: 'parked in cell0' },
  ])
  t.equal(view.hostsTotal, 3)
  t.equal(view.instances, 1)
  t.same(view.queues, [
    { queue: 'compute.host-a', cells: ['cell1'] },
    { queue: 'reply_0123456789abcdef', cells: ['cell1'] },
  ], 'queues from the directory, sorted, with their cells')
  t.equal(view.queuesTotal, 2)
  t.equal(view.processes, 1, 'the process that declared compute.host-a was learned')
  t.same(view.counters, { routed: { '*': 1, cell2: 2 }, parked: { old: 1 }, refused: {} })
  t.equal(view.cells.find((c) => c.name === 'cell2')?.routed, 2)
  t.same(view.explain.map((e) => [e.host, e.outcome, e.cell, e.why, e.mappedCell, e.source, e.text]), [
    ['host-b', 'cell', 'cell2', 'host-mapping', 'cell2', 'nova_api', 'host-b → cell2 (host-mapping from nova_api)'],
    ['old', 'park', 'cell0', 'cell-disabled', 'cell3', null, 'old → parked in cell0 (mapped to disabled cell3)'],
  ])
  t.same(JSON.parse(JSON.stringify(view)), view, 'plain JSON round-trips')

  const text = renderRoutesText(view)
  t.match(text, /^cellgate routes \(live; at 2030-01-01T01:02:03\.000Z, up 1h 2m 3s\)\n/)
  t.match(text, /\nCells: 4, parking cell cell0\nname +state +broker +conns +reconnects +hosts +routed +region +pod +uuid +rabbit\n/)
  t.match(text, /\ncell0 +parking +up +1 +0 +0 +0 +- +- +- +amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672\/cell0\n/)
  t.match(text, /\ncell1 +work +up +2 +1 +1 +0 +r1 +az1 +u-1 /)
  t.match(text, /\ncell2 +work +down +0 +3 +1 +2 /)
  t.match(text, /\ncell3 +disabled +down /)
  t.match(text, /\nHosts: 3 mapped, 1 instances mapped, 1 processes learned\nhost +cell +routes to +source\n/)
  t.match(text, /\nold +cell3 +parked in cell0 +-\n/)
  t.match(text, /\nQueues: 2 known\nqueue +cells\ncompute\.host-a +cell1\n/)
  t.match(text, /\nrouted +\*\(several\)=1 cell2=2\nparked +old=1\nrefused +-\n/)
  t.match(text, /\nExplain\nhost-b → cell2 \(host-mapping from nova_api\)\nold → parked in cell0/)
  t.notMatch(text, /secret/)
})

t.test('limits cut the lists, never the totals', async (t) => {
  const view = buildRoutesView({ routing: busyRouting(), limit: 1 })
  t.equal(view.hosts.length, 1)
  t.equal(view.hostsTotal, 3)
  t.equal(view.queues.length, 1)
  t.equal(view.queuesTotal, 2)
  const text = renderRoutesText(view)
  t.match(text, /Hosts: 3 mapped \(first 1 shown\)/)
  t.match(text, /Queues: 2 known \(first 1 shown\)/)
})

t.test('a configuration-only view has no health and nothing learned', async (t) => {
  const view = buildRoutesView({ routing: configOnlyRouting(map), source: 'config', explain: ['fresh-host'] })
  t.equal(view.source, 'config')
  t.equal(view.startedAt, null)
  t.equal(view.uptimeSeconds, null)
  t.ok(view.cells.every((c) => c.reachable === null && c.connections === null && c.reconnects === null))
  t.same([view.queuesTotal, view.processes, view.knownTopics.length], [0, 0, 0])
  const rv = rendezvousCell('fresh-host', ['cell1', 'cell2'])
  t.same(view.explain, [{ host: 'fresh-host', outcome: 'cell', cell: rv, why: 'rendezvous', mappedCell: null, source: null, text: `fresh-host → ${rv} (rendezvous)` }])
  const text = renderRoutesText(view)
  t.match(text, /^cellgate routes \(from the configuration only: no broker asked, nothing learned; at /)
  t.match(text, /\nname +state +hosts +region +pod +uuid +rabbit\ncell0 +parking +0 +- +- +- +amqp:/, 'no broker or counter columns without a running cellgate')
  t.notMatch(text, /Queues:|Counters|processes learned/, 'nor anything learned from traffic')
  t.match(text, /\nExplain\nfresh-host → cell[12] \(rendezvous\)\n$/)
})

t.test('explanations: mapped, rendezvous, parked, refused', async (t) => {
  const noParking = buildCellMap([{ name: 'cell1', disabled: false }], [], { hostCell: [['ghost', 'cell9']] })
  const r = configOnlyRouting(noParking)
  const lines = explainHosts(r.routingTable, noParking, ['ghost', 'anything'])
  t.same(lines.map((e) => [e.outcome, e.cell, e.why, e.mappedCell]), [
    ['refuse', null, 'cell-unknown', 'cell9'],
    ['cell', 'cell1', 'rendezvous', null],
  ])
  t.equal(renderExplanations(lines), 'ghost → refused (mapped to unknown cell cell9, no parking cell)\nanything → cell1 (rendezvous)\n')
  const none = configOnlyRouting(buildCellMap([]))
  t.same(explainHosts(none.routingTable, none.cellMap, ['x']).map((e) => [e.outcome, e.why]), [['refuse', 'no-enabled-cell']])
})

t.test('readiness: every enabled cell reachable, the parking cell included', async (t) => {
  const health = poolHealth(pools)
  t.same(readiness(map, health), {
    ready: false,
    detail: { unreachable: ['cell2'], cells: { cell0: 'reachable', cell1: 'reachable', cell2: 'unreachable', cell3: 'disabled' } },
  })
  const allUp = poolHealth(new Map([...pools].map(([k, p]) => [k, { ...p, reachable: k !== 'cell3' }])))
  t.same(readiness(map, allUp), { ready: true, detail: { unreachable: [], cells: { cell0: 'reachable', cell1: 'reachable', cell2: 'reachable', cell3: 'disabled' } } }, 'a disabled cell does not count')
  const noPool = poolHealth(new Map([['cell1', { reachable: true, connectionCount: 0, reconnects: 0 }]]))
  t.same(readiness(map, noPool).detail.unreachable, ['cell0', 'cell2'], 'a cell no pool serves is not ready')
  t.same(readiness(buildCellMap([{ name: '__proto__', disabled: false }]), () => undefined).detail.cells, JSON.parse('{"__proto__":"no-broker"}'), 'odd cell names stay plain keys')
})

t.test('QueueDirectory.entries lists live queues only', async (t) => {
  const d = new QueueDirectory()
  d.declared('q1', ['cell1'], 'c1')
  d.declared('q2', ['cell1', 'cell2'], 'c2')
  d.declared('q1', ['cell1'], 'c2')
  t.same([...d.entries()], [['q1', ['cell1']], ['q2', ['cell1', 'cell2']]])
  d.connectionClosed('c2', ['q1', 'q2'])
  t.same([...d.entries()], [['q1', ['cell1']]], 'q2 went with its last declarer; q1 still has c1')
})

t.test('text helpers', async (t) => {
  t.same(renderTable(['a', 'bb'], [['xxx', null], [1, true]]), ['a    bb', 'xxx  -', '1    true'])
  t.same(renderTable(['only'], []), ['only'])
  t.equal(duration(0), '0s')
  t.equal(duration(59), '59s')
  t.equal(duration(3600), '1h 0m 0s')
  t.equal(duration(90061), '1d 1h 1m 1s')
})
