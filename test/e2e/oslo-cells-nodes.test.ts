// Cell routing end to end over separate RabbitMQ nodes: one cellgate endpoint, three shards that
// are three different brokers (cell1 = a vhost of the machine's RabbitMQ on 5672, cell2 and cell3
// = two private RabbitMQ nodes this test starts on other ports, test/helpers/rabbit-node.ts), and
// a parking cell0 (a vhost of the local broker). Real oslo.messaging RPC servers, two hosts per
// cell; every placement check looks at the brokers themselves (`rabbitmqctl [-n node]
// list_queues`) as well as at what the Python clients saw:
//   1. each T.<host> queue lives on its cell's broker only, with its consumer;
//   2. calls to T.<host> are answered by that host (the reply queue is on another broker),
//      casts to a host reach it exactly once;
//   3. a fanout cast reaches every server on every broker exactly once;
//   4. pooled notifications: every pool gets each notification once;
//   5. cell2's node is stopped (`rabbitmqctl stop`) and started again: callers of cell1 and
//      cell3 hosts calling all along (rpc_client.py --scenario recover) see no failure and no
//      reconnect, their servers no reconnect either, and new oslo processes started while cell2
//      is down call cell1 and cell3 hosts fine; cell2's hosts answer again within
//      RECOVER_WITHIN_MS of the restart; placement and fanout still hold afterwards.
// cellgate runs in this process; its log is kept (debug) for failure diagnostics and the [BUG]
// check, and is also written to stderr when CELLGATE_TEST_LOG is set. ~1.5-2 min (two node
// boots in parallel, one restart).
import t from 'tap'
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCellgate } from '../../app/compose.js'
import { createLogger } from '../../adapters/log/logger.js'
import { testConfig } from '../helpers/cellgate.js'
import { rabbitmqctl, uniqueName, type ExecResult } from '../helpers/env.js'
import { runPy, startPy, type PyEvent, type PyProc } from '../helpers/python.js'
import { osloRpc, receivedTags, type ClientRun } from '../helpers/oslo-rpc.js'
import { RabbitNode } from '../helpers/rabbit-node.js'

/** cell2's hosts must answer again within this time after its node accepts AMQP again. */
const RECOVER_WITHIN_MS = 60_000
/** Consecutive successful calls after the restart that count as "recovered". */
const RECOVERED_RUN = 8
/** Successful calls each caller makes before the outage starts. */
const WARMUP_OK = 4
/** cell2's node stays stopped this long (plus its own stop and boot time). */
const NODE_DOWN_MS = 3_000
/** Per-call timeout of the callers that run through the outage (oslo's default is 60 s). */
const CALL_TIMEOUT_S = 5
/** Watch this long after the expected deliveries arrived, so a late duplicate still counts. */
const SETTLE_MS = 1_000

const run = uniqueName('cellnodes')
const topic = `${run}-compute`
const CELLS = ['cell1', 'cell2', 'cell3', 'cell0'] as const
type CellName = (typeof CELLS)[number]
const WORK_CELLS: readonly CellName[] = ['cell1', 'cell2', 'cell3']
const hostsByCell: Record<string, CellName> = { c1a: 'cell1', c1b: 'cell1', c2a: 'cell2', c2b: 'cell2', c3a: 'cell3', c3b: 'cell3' }
const HOSTS = Object.keys(hostsByCell)
const hostsOf = (cell: CellName): string[] => HOSTS.filter((h) => hostsByCell[h] === cell)

// ---------------------------------------------------------------------------------------------
// cellgate's log: kept in memory (bounded) for diagnostics and the [BUG] check.
const LOG_KEEP_LINES = 20_000
const cgLog: string[] = []
/** Lines dropped from the front of cgLog so far: cgLog[k] is line number k + cgLogDropped. */
let cgLogDropped = 0
const echoLog = process.env['CELLGATE_TEST_LOG'] !== undefined && process.env['CELLGATE_TEST_LOG'] !== ''
const logger = createLogger({
  level: 'debug',
  format: 'text',
  write: (line) => {
    cgLog.push(line)
    if (cgLog.length > LOG_KEEP_LINES * 1.5) {
      const drop = cgLog.length - LOG_KEEP_LINES
      cgLog.splice(0, drop)
      cgLogDropped += drop
    }
    if (echoLog) process.stderr.write(line + '\n')
  },
})
/** A position in cellgate's log, for cgLogSince. */
const cgLogMark = (): number => cgLogDropped + cgLog.length
/** cellgate's log lines since `mark` (what is still kept of them). */
const cgLogSince = (mark: number): string[] => cgLog.slice(Math.max(0, mark - cgLogDropped))
/** cellgate log lines (not the per-message debug trace unless `all`), the last `n`. */
function cgLogTail(n = 150, all = false): string {
  const lines = all ? cgLog : cgLog.filter((l) => !/ DEBUG /.test(l))
  return lines.slice(-n).join('\n')
}

// ---------------------------------------------------------------------------------------------
// The shards: cell1 and cell0 are vhosts of the machine's broker, cell2 and cell3 private nodes.
const localVhost = (cell: 'cell1' | 'cell0'): string => `${run}-${cell}`
const localUrl = (cell: 'cell1' | 'cell0'): string => `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(localVhost(cell))}`

for (const cell of ['cell1', 'cell0'] as const) {
  const add = await rabbitmqctl(['add_vhost', localVhost(cell)])
  if (add.code !== 0) throw new Error(`add_vhost ${localVhost(cell)}: ${add.stderr}`)
  const perm = await rabbitmqctl(['set_permissions', '-p', localVhost(cell), 'guest', '.*', '.*', '.*'])
  if (perm.code !== 0) throw new Error(`set_permissions: ${perm.stderr}`)
}
// Teardowns run last-registered first: this one runs after cellgate and the Python processes.
t.teardown(async () => {
  for (const cell of ['cell1', 'cell0'] as const) await rabbitmqctl(['delete_vhost', localVhost(cell)])
})

const [node2, node3] = await Promise.all([RabbitNode.create({ prefix: 'cgcell2' }), RabbitNode.create({ prefix: 'cgcell3' })])
t.teardown(async () => {
  await Promise.all([node2.destroy(), node3.destroy()])
})
const bootStarted = Date.now()
const boots = await Promise.all([node2.start(), node3.start()])
t.comment(
  `private RabbitMQ nodes: cell2 ${node2.nodeName} on ${node2.port} booted in ${boots[0].ms} ms, ` +
    `cell3 ${node3.nodeName} on ${node3.port} in ${boots[1].ms} ms (both in parallel: ${Date.now() - bootStarted} ms)`,
)

const nodeOf: Partial<Record<CellName, RabbitNode>> = { cell2: node2, cell3: node3 }
const shardUrl = (cell: CellName): string => nodeOf[cell]?.amqpUrl ?? localUrl(cell as 'cell1' | 'cell0')
const shardLabel = (cell: CellName): string => {
  const n = nodeOf[cell]
  return n ? `${cell} (node ${n.nodeName}:${n.port})` : `${cell} (vhost ${localVhost(cell as 'cell1' | 'cell0')} on 5672)`
}

interface QueueInfo {
  messages: number
  consumers: number
}

/** `rabbitmqctl list_queues name messages consumers` on the cell's own broker and vhost. */
async function queuesOn(cell: CellName): Promise<Map<string, QueueInfo>> {
  const node = nodeOf[cell]
  const vhost = node ? '/' : localVhost(cell as 'cell1' | 'cell0')
  const args = ['list_queues', '-q', '-p', vhost, 'name', 'messages', 'consumers']
  // A private node is reached with its own node name and cookie (rabbitmqctl -n <node>).
  const r: ExecResult = node ? await node.ctl(args) : await rabbitmqctl(args)
  if (r.code !== 0) throw new Error(`list_queues on ${shardLabel(cell)}: ${r.stderr}`)
  const out = new Map<string, QueueInfo>()
  for (const line of r.stdout.split('\n')) {
    const [name, messages, consumers] = line.trim().split('\t')
    if (name && name !== 'name' && consumers !== undefined) out.set(name, { messages: Number(messages), consumers: Number(consumers) })
  }
  return out
}

/** Every run queue on every shard, for failure diagnostics and the report. */
async function placementReport(filter: (q: string) => boolean = (q) => q.startsWith(run) || q.startsWith('reply_') || q.startsWith('cellgate.')): Promise<string> {
  const lines = await Promise.all(
    CELLS.map(async (cell) => {
      try {
        const qs = await queuesOn(cell)
        const mine = [...qs].filter(([n]) => filter(n)).map(([n, q]) => `${n} m=${q.messages} c=${q.consumers}`)
        return `${shardLabel(cell)}: ${mine.length === 0 ? '(none)' : mine.join('; ')}`
      } catch (err) {
        return `${shardLabel(cell)}: ${(err as Error).message.split('\n')[0]}`
      }
    }),
  )
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
const cg = await startCellgate(
  testConfig({
    cells: CELLS.map((name) => ({ name, rabbit: shardUrl(name), disabled: false })),
    routing: { parkingCell: 'cell0' },
    mapping: { hosts: { ...hostsByCell }, instances: {}, pollIntervalMs: 5000 },
  }),
  logger,
)
t.teardown(async () => {
  await cg.close().catch((err: unknown) => t.comment(`cellgate close: ${String(err)}`))
})

const osloUrl = `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`

const rpc = osloRpc(t, osloUrl, topic)
// --log-level INFO: oslo logs "Reconnected to AMQP server" at INFO; every reconnect or
// connection error becomes a "log" event the outage check looks for.
const server = (host: string): Promise<PyProc> => rpc.server(host, ['--log-level', 'INFO'])
const client = (tt: Test, scenario: string, extra: string[]): Promise<ClientRun> => rpc.client(tt, scenario, extra)
const received = receivedTags

const servers: Record<string, PyProc> = {}
const serverStart = Date.now()
await Promise.all(
  HOSTS.map(async (h) => {
    servers[h] = await server(h)
  }),
)
// startPy's own teardowns would stop them one after the other; this one runs first.
t.teardown(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()))
})
t.comment(`${HOSTS.length} oslo RPC servers ready in ${Date.now() - serverStart} ms`)

/** Waits until every server got `expected[host]` record() calls with tags starting `prefix`, then a settle time. */
async function waitRecords(prefix: string, expected: Record<string, number>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const done = (): boolean => HOSTS.every((h) => received(servers[h]!, 'record', prefix).length >= (expected[h] ?? 0))
  while (!done() && Date.now() < deadline) await sleep(50)
  await sleep(SETTLE_MS)
}

/** One fanout cast of `count` messages; every server on every broker must get each exactly once. */
async function fanoutOnce(tt: Test, prefix: string, count: number): Promise<void> {
  const r = await client(tt, 'fanout', ['--count', String(count), '--tag-prefix', prefix])
  tt.equal(r.code, 0, 'fanout client exit 0', { diag: r.proc.diagnostics() })
  const want = Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
  await waitRecords(prefix, Object.fromEntries(HOSTS.map((h) => [h, count])))
  let good = true
  for (const h of HOSTS) {
    good = tt.same(received(servers[h]!, 'record', prefix).sort(), want, `${h} (${hostsByCell[h]}) got each fanout exactly once`, { diag: servers[h]!.diagnostics(10) }) && good
  }
  if (!good) tt.comment(`fanout ${prefix} diagnostics:\n${await placementReport()}\n${cgLogTail(80)}`)
}

/** Queue listings of every shard, fetched in parallel (rabbitmqctl takes ~0.6-1 s a call). */
async function allQueues(): Promise<Map<CellName, Map<string, QueueInfo>>> {
  const lists = await Promise.all(CELLS.map((c) => queuesOn(c)))
  return new Map(CELLS.map((c, k) => [c, lists[k]!]))
}

/** T.<host> on its cell's broker with one consumer, and on no other shard. */
async function checkServerQueues(tt: Test, hosts: readonly string[]): Promise<void> {
  const all = await allQueues()
  let good = true
  for (const cell of CELLS) {
    const qs = all.get(cell)!
    for (const host of hosts) {
      const q = qs.get(`${topic}.${host}`)
      if (cell === hostsByCell[host]) good = tt.equal(q?.consumers, 1, `${topic}.${host} is on ${shardLabel(cell)} with its consumer`) && good
      else good = tt.notOk(q, `${topic}.${host} is not on ${cell}`) && good
    }
  }
  if (!good) tt.comment(`placement:\n${await placementReport()}`)
}

// ---------------------------------------------------------------------------------------------
t.test('each T.<host> queue lives on its cell broker only, with its consumer', async (t) => {
  await checkServerQueues(t, HOSTS)
  const all = await allQueues()
  for (const cell of CELLS) {
    const qs = all.get(cell)!
    const serversHere = hostsOf(cell).length
    // oslo declares T before T.<host>; cellgate places T at the consume, on the server's own cell.
    t.equal(qs.get(topic)?.consumers ?? 0, serversHere, `${cell}: anycast ${topic} has one consumer per server of the cell (${serversHere})`)
    const fanoutQueues = [...qs].filter(([n]) => n.startsWith(`${topic}_fanout_`))
    t.equal(fanoutQueues.length, serversHere, `${cell}: one fanout queue per server of the cell`)
    t.ok(
      fanoutQueues.every(([, q]) => q.consumers === 1),
      `${cell}: each fanout queue has its consumer`,
    )
  }
  t.comment(`placement:\n${await placementReport((q) => q.startsWith(run))}`)
})

t.test('calls to T.<host> are answered by that host across brokers; casts reach it exactly once', async (t) => {
  const calls = await Promise.all(HOSTS.map((host) => client(t, 'whoami', ['--server', host, '--count', '3'])))
  for (const [k, host] of HOSTS.entries()) {
    const r = calls[k]!
    t.equal(r.code, 0, `${host}: client exit 0`, { diag: r.proc.diagnostics() })
    t.same(r.summary.servers, { [host]: 3 }, `${host} (${hostsByCell[host]}): every reply came from ${host}`)
  }

  const prefix = `${run}-cast`
  const casts = await Promise.all(HOSTS.map((host) => client(t, 'cast', ['--server', host, '--count', '2', '--tag-prefix', `${prefix}-${host}`])))
  for (const [k, host] of HOSTS.entries()) t.equal(casts[k]!.code, 0, `${host}: cast client exit 0`, { diag: casts[k]!.proc.diagnostics() })
  await waitRecords(prefix, Object.fromEntries(HOSTS.map((h) => [h, 2])))
  for (const host of HOSTS) {
    t.same(received(servers[host]!, 'record', prefix).sort(), [`${prefix}-${host}-0`, `${prefix}-${host}-1`], `${host} got its two casts exactly once, and nobody else's`, {
      diag: servers[host]!.diagnostics(10),
    })
  }
})

t.test('a fanout cast reaches each server on every broker exactly once', async (t) => {
  await fanoutOnce(t, `${run}-fan`, 2)
})

t.test('pooled notifications: every pool gets each notification once', async (t) => {
  const ntopic = `${run}-notif`
  const poolA = `${run}-pool-a`
  const poolB = `${run}-pool-b`
  const listener = (pool: string, id: string): PyProc => startPy(t, 'notify_listener.py', ['--url', osloUrl, '--topic', ntopic, '--pool', pool, '--name', id])
  const ls = [listener(poolA, 'a1'), listener(poolB, 'b1'), listener(poolB, 'b2')]
  await Promise.all(ls.map((l) => l.waitEvent('ready', undefined, 30_000)))
  const [a1, b1, b2] = ls as [PyProc, PyProc, PyProc]
  const where = await placementReport((q) => q.startsWith(ntopic) || q.startsWith(poolA) || q.startsWith(poolB))
  t.comment(`notification queues after the listeners started:\n${where}`)

  const N = 20
  const r = await runPy(t, 'notifier.py', ['--url', osloUrl, '--topic', ntopic, '--count', String(N)])
  t.equal(r.code, 0, 'notifier exit status 0', { diag: r.proc.diagnostics() })
  const summary = r.proc.named('summary').at(-1)
  t.hasStrict(summary, { passed: true, ok: N, failed: 0 })
  const runId = String(summary?.run)

  const seqs = (l: PyProc): number[] =>
    l
      .named('notification', (e) => (e.payload as { run?: string } | undefined)?.run === runId)
      .map((e) => Number((e.payload as { seq: number }).seq))
  const deadline = Date.now() + 15_000
  while ((seqs(a1).length < N || seqs(b1).length + seqs(b2).length < N) && Date.now() < deadline) await sleep(50)
  await sleep(SETTLE_MS)

  const all = Array.from({ length: N }, (_, i) => i)
  const okA = t.same([...seqs(a1)].sort((x, y) => x - y), all, 'pool A (one listener) got every notification exactly once')
  const poolBSeqs = [...seqs(b1), ...seqs(b2)].sort((x, y) => x - y)
  const okB = t.same(poolBSeqs, all, 'pool B got every notification exactly once across its two listeners')
  const after = await allQueues()
  if (!okA || !okB) {
    t.comment(
      `notification queues after publishing:\n${await placementReport((q) => q.startsWith(ntopic) || q.startsWith(poolA) || q.startsWith(poolB))}\n` +
        `cellgate log:\n${cgLogTail(200, true)}`,
    )
  }
  t.comment(`pool B split ${seqs(b1).length}/${seqs(b2).length}`)
  t.hasStrict(a1.named('notification')[0], { priority: 'info', event_type: 'cellgate.test', publisher_id: 'cellgate-test.host1', pool: poolA })

  // Wherever a pool's queue lives, every listener of that pool consumes it there.
  for (const cell of CELLS) {
    const qs = after.get(cell)!
    for (const [pool, listeners] of [
      [poolA, 1],
      [poolB, 2],
    ] as const) {
      const q = qs.get(pool)
      if (q) t.equal(q.consumers, listeners, `${cell}: pool queue ${pool === poolA ? 'A' : 'B'} has its ${listeners} listener(s) as consumers`)
    }
  }
  const exits = await Promise.all(ls.map((l) => l.stop()))
  for (const [k, l] of ls.entries()) t.equal(exits[k]!.code, 0, `listener ${String(l.named('ready')[0]?.listener)} stops cleanly`, { diag: l.diagnostics() })
})

// ---------------------------------------------------------------------------------------------
interface Attempt {
  i: number
  ok: boolean
  start: number
  end: number
  type?: string
  message?: string
}

function attempts(p: PyProc): Attempt[] {
  return p.named('attempt').map((e) => {
    const end = Number(e.ts) * 1000
    return { i: Number(e.i), ok: e.ok === true, end, start: end - Number(e.elapsed) * 1000, ...(typeof e.type === 'string' ? { type: e.type } : {}), ...(typeof e.message === 'string' ? { message: e.message } : {}) }
  })
}

/** Length of the run of successful calls at the end, counting only calls started after `since`. */
function okRunSince(p: PyProc, since: number): number {
  const xs = attempts(p).filter((a) => a.start >= since)
  let n = 0
  for (let k = xs.length - 1; k >= 0 && xs[k]!.ok; k--) n++
  return n
}

const fmtAttempt = (a: Attempt): string => `#${a.i} ${a.ok ? 'ok' : a.type} ${Math.round(a.end - a.start)}ms`
/**
 * connection.blocked/unblocked is a broker's resource alarm, which cellgate passes on to every
 * client connection with a channel on that broker (exchanges and reply queues put most clients
 * on cell1). cell1 is the machine's shared RabbitMQ, whose memory alarm other test runs can trip
 * for a second: such notices are reported, not failed; cellgate's log says which cell blocked,
 * and a block by cell2's or cell3's private node does fail the test.
 */
const isBlockNotice = (e: PyEvent): boolean => typeof e.msg === 'string' && /broker has (un)?blocked the connection/.test(e.msg)
const connectionTrouble = (e: PyEvent): boolean => e.event === 'log' && (e.kind === 'reconnected' || e.kind === 'connection-error') && !isBlockNotice(e)

t.test('cell2 broker stopped and restarted: its hosts recover, cell1 and cell3 never notice', async (t) => {
  // Callers running through the whole outage: oslo's default retry=None, a timeout of CALL_TIMEOUT_S.
  const caller = (host: string): PyProc =>
    startPy(t, 'rpc_client.py', [
      '--url', osloUrl, '--topic', topic, '--server', host, '--scenario', 'recover',
      '--duration', '170', '--interval', '0.5', '--timeout', String(CALL_TIMEOUT_S), '--log-level', 'INFO',
    ])
  const calmHosts = ['c1a', 'c3a'] as const
  const callers: Record<string, PyProc> = { c1a: caller('c1a'), c3a: caller('c3a'), c2a: caller('c2a') }
  const serverMarks = Object.fromEntries(HOSTS.map((h) => [h, servers[h]!.events.length]))
  const logMark = cgLogMark()

  const warmFrom = Date.now()
  await Promise.all(
    Object.entries(callers).map(([h, p]) => p.waitFor(() => okRunSince(p, warmFrom) >= WARMUP_OK, 30_000, `${h}: ${WARMUP_OK} calls in a row before the outage`)),
  )
  const stopAsked = Date.now()
  const stopped = await node2.stop()
  const downAt = Date.now()
  t.comment(`cell2 node: rabbitmqctl stop until it exited ${stopped.ms} ms`)
  // New oslo processes calling cell1 and cell3 hosts while cell2's broker is down: new client
  // connections, a new reply queue and exchange declarations (cellgate declares exchanges on
  // every work cell) must not depend on cell2. The node stays down until they are done.
  const fresh = await Promise.all(
    (['c1b', 'c3b'] as const).map(async (h) => {
      const r = await client(t, 'whoami', ['--server', h, '--count', '2', '--timeout', '10'])
      return { host: h, ...r, endedAt: Date.now() }
    }),
  )
  const freshDone = Date.now()
  if (freshDone - downAt < NODE_DOWN_MS) await sleep(NODE_DOWN_MS - (freshDone - downAt))
  const restarted = await node2.start()
  const upAt = Date.now()
  t.comment(`cell2 node: accepted AMQP again ${restarted.ms} ms after rabbitmq-server was spawned; down ${upAt - downAt} ms in all`)

  const c2 = callers['c2a']!
  try {
    await c2.waitFor(() => okRunSince(c2, upAt) >= RECOVERED_RUN, RECOVER_WITHIN_MS + 10_000, `c2a: ${RECOVERED_RUN} calls in a row after the restart`)
  } catch {
    t.comment(`c2a did not recover within ${RECOVER_WITHIN_MS + 10_000} ms`)
  }
  // The calm callers keep calling a few more seconds after cell2 is back.
  await sleep(3_000)
  const endAt = Date.now()
  await Promise.all(Object.values(callers).map((p) => p.stop(5_000)))

  const diagAll = async (): Promise<string> =>
    `${Object.entries(callers).map(([h, p]) => `[${h}] ${p.diagnostics(30)}`).join('\n')}\n${await placementReport()}\n--- cellgate log since the outage began:\n${cgLogSince(logMark)
      .filter((l) => !/ DEBUG /.test(l))
      .slice(-200)
      .join('\n')}\n${node2.diagnostics(2_000)}`

  let good = true
  // cell1 and cell3: every call from before the stop until after the restart succeeded.
  for (const h of calmHosts) {
    const p = callers[h]!
    const xs = attempts(p).filter((a) => a.start >= warmFrom - 50 && a.start <= endAt)
    const duringOutage = xs.filter((a) => a.start >= stopAsked && a.start <= upAt)
    const failed = xs.filter((a) => !a.ok)
    const slowest = xs.reduce((m, a) => Math.max(m, a.end - a.start), 0)
    t.ok(duringOutage.length >= 10, `${h} (${hostsByCell[h]}): ${duringOutage.length} calls made while cell2 was stopping, down and booting`)
    good = t.same(failed.map(fmtAttempt), [], `${h} (${hostsByCell[h]}): no call failed before, during or after the cell2 outage (${xs.length} calls)`) && good
    t.comment(`${h}: ${xs.length} calls, slowest ${Math.round(slowest)} ms`)
    t.same(p.events.filter(connectionTrouble).map((e) => e.msg), [], `${h}'s caller saw no reconnect or connection error`, { diag: p.diagnostics(30) })
  }
  for (const f of fresh) {
    good = t.equal(f.code, 0, `a new caller of ${f.host} (${hostsByCell[f.host]}) started while cell2 was down: exit 0`, { diag: f.proc.diagnostics() }) && good
    t.same(f.summary.servers, { [f.host]: 2 }, `a new caller of ${f.host} started while cell2 was down: answered by ${f.host}`)
    t.ok(f.endedAt < upAt - 1_000, `that caller was done (${f.endedAt - downAt} ms after the node had stopped) before cell2 came back`)
  }
  for (const h of [...hostsOf('cell1'), ...hostsOf('cell3')]) {
    const trouble = servers[h]!.events.slice(serverMarks[h]).filter(connectionTrouble)
    t.same(trouble.map((e) => e.msg), [], `server ${h} (${hostsByCell[h]}) saw no reconnect or connection error`, { diag: servers[h]!.diagnostics(20) })
    t.equal(servers[h]!.exited, null, `server ${h} is still running`)
  }

  // cell2: calls fail or block while its broker is away, then succeed again.
  const all2 = attempts(c2)
  const since = all2.filter((a) => a.start >= stopAsked - 50)
  const recovered = since.find((a) => a.ok && a.start >= upAt - 5)
  good = t.ok(recovered, 'c2a: calls succeed again after the restart') && good
  if (recovered) {
    const latency = Math.round(recovered.end - upAt)
    t.ok(latency <= RECOVER_WITHIN_MS, `c2a: first success ${latency} ms after the node was back (<= ${RECOVER_WITHIN_MS})`)
    const after = since.filter((a) => a.i >= recovered.i)
    t.ok(after.length >= RECOVERED_RUN, `c2a: ${after.length} calls since recovery`)
    good = t.same(after.filter((a) => !a.ok).map(fmtAttempt), [], 'c2a: no call failed once calls succeeded again') && good
  }
  const failed2 = since.filter((a) => !a.ok)
  t.comment(
    `c2a during the outage: ${failed2.length} failed (${failed2.map((a) => `${a.type}: ${a.message ?? ''}`.slice(0, 160)).join(' | ')}), ` +
      `first success ${recovered ? Math.round(recovered.end - upAt) : 'never'} ms after the node was back`,
  )
  t.same(all2.filter((a) => a.type === 'Mismatch').map(fmtAttempt), [], 'c2a: no result differed from its argument')
  for (const h of hostsOf('cell2')) t.equal(servers[h]!.exited, null, `server ${h} is still running`)

  // The other cell2 host (nobody called it during the outage) answers too, within the same bound.
  const whoDeadline = upAt + RECOVER_WITHIN_MS
  let c2b: { code: number | null; summary: PyEvent; proc: PyProc } | undefined
  do {
    c2b = await client(t, 'whoami', ['--server', 'c2b', '--count', '2', '--timeout', '5'])
    if (c2b.code === 0) break
    await sleep(1_000)
  } while (Date.now() < whoDeadline)
  good = t.same(c2b.summary.servers, { c2b: 2 }, 'c2b answers again after the restart', { diag: c2b.proc.diagnostics() }) && good
  if (!good) t.comment(`outage diagnostics:\n${await diagAll()}`)

  // Placement after the restart, and the fanout still reaches everyone once.
  const placed = Date.now() + 20_000
  for (;;) {
    const qs = await queuesOn('cell2')
    if (hostsOf('cell2').every((h) => qs.get(`${topic}.${h}`)?.consumers === 1) || Date.now() > placed) break
    await sleep(500)
  }
  await checkServerQueues(t, HOSTS)
  await fanoutOnce(t, `${run}-fan-after`, 1)

  const lines = cgLogSince(logMark)
  const bugs = lines.filter((l) => l.includes('[BUG]'))
  if (!t.same(bugs.slice(0, 5), [], `cellgate logged no [BUG] line (${bugs.length})`)) {
    // Everything cellgate logged about the connections concerned, debug lines included.
    const conns = new Set(bugs.map((l) => / conn=(\S+)/.exec(l)?.[1]).filter((c): c is string => c !== undefined))
    const about = lines.filter((l) => [...conns].some((c) => l.includes(` conn=${c} `) || l.endsWith(` conn=${c}`)))
    t.comment(`cellgate log of ${[...conns].join(', ')}:\n${about.slice(-120).join('\n')}`)
  }
  const blocks = lines.filter((l) => l.includes('broker blocked the connection'))
  t.same(
    blocks.filter((l) => / cell=(cell2|cell3)\b/.test(l)).slice(0, 5),
    [],
    'no private shard node blocked its connections (a restarted node raises no resource alarm)',
  )
  const blockNotices = [...Object.values(callers), ...Object.values(servers)].reduce((n, p) => n + p.events.filter(isBlockNotice).length, 0)
  if (blocks.length > 0 || blockNotices > 0) {
    t.comment(`broker resource alarms during the outage (not failed): ${blockNotices} block/unblock notices at oslo clients; cellgate:\n${blocks.slice(0, 10).join('\n')}`)
  }
  const closes = lines.filter((l) => l.includes('closing connection with error'))
  if (closes.length > 0) t.comment(`client connections cellgate closed with an error during the outage (cell2's clients reconnect):\n${closes.slice(0, 20).join('\n')}`)
  const kinds = ['broker connection lost', 'closing connection with error', 'closed channel with error', 'channel recovered on a new broker connection', 'broker cancelled a consumer', 'cannot reach broker']
  t.comment(
    `cellgate log during the outage: ${kinds.map((k) => `${k}: ${lines.filter((l) => l.includes(k)).length}`).join(', ')}; ` +
      `broker connections per cell now ${JSON.stringify(cg.upstreamConnections())}`,
  )
})

t.end()
