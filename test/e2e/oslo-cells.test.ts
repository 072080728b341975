// Cell routing end to end: one cellgate endpoint, three RabbitMQ shards (vhosts of the local
// broker: cell1..cell3), a disabled cell4, and a parking cell0. Real oslo.messaging RPC servers
// on hosts mapped to different cells; every check looks at the shards themselves (rabbitmqctl)
// as well as at what the Python clients saw.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import amqplib from 'amqplib'
import { startTestCellgate } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, queuesOn as queuesOnVhost, vhostUrl } from '../helpers/shard-vhosts.js'
import { osloRpc, receivedTags, type ClientRun } from '../helpers/oslo-rpc.js'
import { runPy, startPy, type PyProc } from '../helpers/python.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const run = uniqueName('cells')
const CELLS = ['cell1', 'cell2', 'cell3', 'cell4', 'cell0'] as const
type CellName = (typeof CELLS)[number]
const vhostOf = (cell: CellName): string => `${run}-${cell}`
const shardUrl = (cell: CellName): string => vhostUrl(vhostOf(cell))
const WORK_CELLS = ['cell1', 'cell2', 'cell3']
const topic = `${run}-compute`
const hostsByCell = { hostA: 'cell1', hostB: 'cell2', hostC: 'cell3', hostD: 'cell4' } as const
// Unmapped: rendezvous decides, and the test computes the same answer with the router's function.
const hostZ = `${run}-z`
const zCell = rendezvousCell(hostZ, WORK_CELLS)!

const queuesOn = (cell: CellName): ReturnType<typeof queuesOnVhost> => queuesOnVhost(vhostOf(cell))

await createVhosts(t, CELLS.map(vhostOf))

const cg = await startTestCellgate({
  cells: CELLS.map((name) => ({ name, rabbit: shardUrl(name), disabled: name === 'cell4' })),
  routing: { parkingCell: 'cell0' },
  mapping: { hosts: { ...hostsByCell }, instances: {}, pollIntervalMs: 5000 },
  // A second client vhost that cells v2 would give cell2's services: its publishers are cell2's.
  vhosts: [{ name: '/' }, { name: 'cell2v', cell: 'cell2' }],
  users: [{ name: 'guest', password: 'guest', vhosts: ['*'] }],
})
t.teardown(() => cg.close())

const osloUrl = `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`

const rpc = osloRpc(t, osloUrl, topic)
const server = (host: string): Promise<PyProc> => rpc.server(host)
const client = (scenario: string, extra: string[]): Promise<ClientRun> => rpc.client(t, scenario, extra)
const received = receivedTags

const servers: Record<string, PyProc> = {}
for (const host of ['hostA', 'hostB', 'hostC', hostZ]) servers[host] = await server(host)

t.test('each RPC server queue lives on its host cell, and only there', async (t) => {
  const expected: Record<string, string> = { hostA: 'cell1', hostB: 'cell2', hostC: 'cell3', [hostZ]: zCell }
  for (const cell of CELLS) {
    const qs = await queuesOn(cell)
    for (const [host, home] of Object.entries(expected)) {
      const q = qs.get(`${topic}.${host}`)
      if (cell === home) t.equal(q?.consumers, 1, `${topic}.${host} is on ${cell} with its consumer`)
      else t.notOk(q, `${topic}.${host} is not on ${cell}`)
    }
    // The anycast queue T is declared before T.<host> tells who the server is: cellgate defers it
    // to the consume, by which time the host is known, so it lands on each server's own cell.
    const anycastConsumers = qs.get(topic)?.consumers ?? 0
    const serversHere = Object.values(expected).filter((c) => c === cell).length
    t.equal(anycastConsumers, serversHere, `${cell}: anycast ${topic} has one consumer per server of the cell (${serversHere})`)
    const fanoutQueues = [...qs.keys()].filter((n) => n.startsWith(`${topic}_fanout_`)).length
    t.equal(fanoutQueues, serversHere, `${cell}: one fanout queue per server of the cell`)
  }
})

t.test('calls to topic.<host> are answered by that host, across cells (reply queue in another cell)', async (t) => {
  for (const host of ['hostA', 'hostB', 'hostC', hostZ]) {
    const r = await client('whoami', ['--server', host, '--count', '3'])
    t.equal(r.code, 0, `${host}: client exit 0`, { diag: r.proc.diagnostics() })
    t.same(r.summary.servers, { [host]: 3 }, `${host}: every reply came from ${host}`)
  }
})

t.test('a fanout cast reaches each server in every cell exactly once', async (t) => {
  const prefix = `${run}-fan`
  const r = await client('fanout', ['--count', '2', '--tag-prefix', prefix])
  t.equal(r.code, 0, 'client exit 0', { diag: r.proc.diagnostics() })
  await sleep(1500)
  for (const [host, s] of Object.entries(servers)) {
    t.same(received(s, 'record', prefix).sort(), [`${prefix}-0`, `${prefix}-1`], `${host} got each fanout once`)
  }
})

t.test('an anycast call goes to the publisher cell (the default cell for a client of no cell)', async (t) => {
  const r = await client('whoami', ['--count', '4'])
  t.equal(r.code, 0, 'client exit 0', { diag: r.proc.diagnostics() })
  // hostZ lands on cell1 too when rendezvous says so: then both compete for cell1's anycast queue.
  const cell1Servers = zCell === 'cell1' ? ['hostA', hostZ] : ['hostA']
  const answered = r.summary.servers as Record<string, number>
  t.same(Object.keys(answered).filter((h) => !cell1Servers.includes(h)), [], `answered only by cell1's servers (${cell1Servers.join(', ')})`)
  t.equal(Object.values(answered).reduce((a, b) => a + b, 0), 4, 'all 4 answered')
})

t.test('casts to a host of a disabled cell are parked in cell0, with where they were going', async (t) => {
  const prefix = `${run}-park`
  const before = (await queuesOn('cell0')).get('cellgate.parked')?.messages ?? 0
  const r = await client('cast', ['--server', 'hostD', '--count', '3', '--tag-prefix', prefix])
  t.equal(r.code, 0, 'client exit 0 (the casts were accepted)', { diag: r.proc.diagnostics() })
  await sleep(500)
  const parked = (await queuesOn('cell0')).get('cellgate.parked')
  t.equal((parked?.messages ?? 0) - before, 3, 'three messages parked')
  for (const cell of ['cell1', 'cell2', 'cell3', 'cell4'] as const) {
    t.notOk((await queuesOn(cell)).has(`${topic}.hostD`), `nothing for hostD was declared on ${cell}`)
  }
  const conn = await amqplib.connect(shardUrl('cell0'))
  t.teardown(() => conn.close())
  const ch = await conn.createChannel()
  const msg = await ch.get('cellgate.parked', { noAck: false })
  t.ok(msg, 'a parked message can be read')
  if (msg) {
    t.hasStrict(msg.properties.headers, {
      'x-cellgate-parked-routing-key': `${topic}.hostD`,
      'x-cellgate-parked-host': 'hostD',
      'x-cellgate-parked-reason': 'cell-disabled',
      'x-cellgate-parked-cell': 'cell4',
    })
    const inner = JSON.parse(String(JSON.parse(msg.content.toString())['oslo.message'])) as { method: string; args: { tag: string } }
    t.equal(inner.method, 'record', 'the body is the original oslo message')
    t.ok(inner.args.tag.startsWith(prefix))
    ch.nack(msg, false, true)
  }
})

t.test('pooled notifications from two cells reach each pool once (pool queues of a cell-less listener live in every cell)', async (t) => {
  const ntopic = `${run}-notif`
  const listener = (pool: string, id: string): PyProc =>
    startPy(t, 'notify_listener.py', ['--url', osloUrl, '--topic', ntopic, '--pool', pool, '--name', id])
  const ls = [listener(`${run}-pa`, 'a1'), listener(`${run}-pb`, 'b1'), listener(`${run}-pb`, 'b2')]
  await Promise.all(ls.map((l) => l.waitEvent('ready', undefined, 30_000)))
  const [a1, b1, b2] = ls as [PyProc, PyProc, PyProc]
  const N = 10
  const runs: string[] = []
  for (const url of [osloUrl, `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/cell2v`]) {
    const r = await runPy(t, 'notifier.py', ['--url', url, '--topic', ntopic, '--count', String(N)])
    t.equal(r.code, 0, `notifier on ${url.split('/').at(-1) || '/'} exit 0`, { diag: r.proc.diagnostics() })
    runs.push(String(r.proc.named('summary').at(-1)?.run))
  }
  const seqs = (l: PyProc): string[] =>
    l.named('notification').map((e) => {
      const p = e.payload as { run?: string; seq?: number }
      return `${p.run}:${p.seq}`
    })
  const all = runs.flatMap((id) => Array.from({ length: N }, (_, i) => `${id}:${i}`)).sort()
  const deadline = Date.now() + 15_000
  while ((seqs(a1).length < all.length || seqs(b1).length + seqs(b2).length < all.length) && Date.now() < deadline) await sleep(50)
  await sleep(1000)
  t.same(seqs(a1).sort(), all, 'pool A got every notification of both cells exactly once')
  t.same([...seqs(b1), ...seqs(b2)].sort(), all, 'pool B got every notification of both cells exactly once across its two listeners')
  for (const cell of ['cell1', 'cell2'] as const) {
    t.ok((await queuesOn(cell)).has(`${run}-pa`), `pool A's queue is on ${cell}`)
  }
  for (const l of ls) await l.stop()
})

t.test('the admin endpoint shows the map, the cells and where each host queue lives', async (t) => {
  t.ok(cg.adminPort, 'admin listener is up')
  const res = await fetch(`http://127.0.0.1:${cg.adminPort}/routes?host=hostB&host=hostD`)
  t.equal(res.status, 200)
  const view = (await res.json()) as {
    cells: Array<{ name: string; reachable: boolean | null; disabled: boolean; parking: boolean }>
    queues: Array<{ queue: string; cells: string[] }>
    explain: Array<{ host: string; outcome: string; cell: string | null }>
    counters: { parked: Record<string, number> }
  }
  const cell = (n: string) => view.cells.find((c) => c.name === n)
  for (const n of WORK_CELLS) t.equal(cell(n)?.reachable, true, `${n} reachable`)
  t.hasStrict(cell('cell4'), { disabled: true })
  t.hasStrict(cell('cell0'), { parking: true })
  const q = (name: string) => view.queues.find((x) => x.queue === name)?.cells
  t.same(q(`${topic}.hostA`), ['cell1'])
  t.same(q(`${topic}.hostB`), ['cell2'])
  t.same(q(`${topic}.${hostZ}`), [zCell])
  t.hasStrict(view.explain, [{ host: 'hostB', outcome: 'cell', cell: 'cell2' }, { host: 'hostD', outcome: 'park', cell: 'cell0' }])
  t.ok((view.counters.parked['hostD'] ?? 0) >= 3, 'parked messages counted per host')
  const ready = await fetch(`http://127.0.0.1:${cg.adminPort}/readyz`)
  t.equal(ready.status, 200, 'ready: every enabled cell reachable')
})

t.test('many clients share few broker connections per cell', async (t) => {
  const up = cg.upstreamConnections()
  t.ok(cg.clientConnections() >= 8, `clients: ${cg.clientConnections()}`)
  for (const cell of WORK_CELLS) t.ok((up[cell] ?? 0) >= 1 && (up[cell] ?? 0) <= 4, `${cell}: ${up[cell]} broker connections (≤ connectionsPerCell)`)
  t.equal(up['cell4'] ?? 0, 0, 'the disabled cell got no connection')
})

for (const s of Object.values(servers)) t.teardown(() => s.stop())
t.end()
