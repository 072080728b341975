// "Clients recover when cellgate or RabbitMQ restarts", with the real oslo.messaging: an oslo RPC
// server and three oslo RPC callers (rpc_client.py --scenario recover: echo(i) every 0.5 s, the
// result must equal i) stay up while
//   1. cellgate, a child process (node dist/cli/main.js serve), is killed with SIGKILL, then
//      stopped with SIGTERM, and each time started again on the same port ~2 s later;
//   2. a private RabbitMQ node behind cellgate (test/helpers/rabbit-node.ts; the machine's shared
//      RabbitMQ is never touched) is stopped with `rabbitmqctl stop` and started again ~3 s later.
// Callers: topic (queue T) and topic.server (queue T.h1, served only by the server's own
// consumer) with oslo's default retry=None, which blocks a call until the transport is back, and
// a fail-fast caller (retry=0) on topic. For every outage the test asserts: every call succeeded
// before; none succeeded while the service was down, some were disrupted (failed or blocked), and
// the fail-fast one failed when it could not connect at all; calls succeed again (the first
// within RECOVER_WITHIN_MS, then at least RECOVERED_RUN in a row and no failure after the first
// success); the server executed calls after the restart and kept running; no result was ever
// wrong; cellgate logged no [BUG] and closed no client channel with an error.
// CELLGATE_TEST_RECOVERY_DIRECT=1 adds a control run of scenario 2 without cellgate.
// ~1.5 min (a RabbitMQ boot takes ~9 s here, twice).
import t from 'tap'
import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { deleteByPrefix, freePort, uniqueName } from '../helpers/env.js'
import { startPy, type PyEvent, type PyProc } from '../helpers/python.js'
import { CellgateProcess, ensureCellgateBuilt } from '../helpers/cellgate-process.js'
import { RabbitNode } from '../helpers/rabbit-node.js'

/** Consecutive successful calls after a restart that count as "recovered". */
const RECOVERED_RUN = 8
/** Successful calls each client makes before an outage starts. */
const WARMUP_OK = 4
/** How long clients may take to recover once the service is back. */
const RECOVER_WITHIN_MS = 30_000
/** cellgate stays down this long. */
const CELLGATE_DOWN_MS = 2_000
/** The broker stays stopped this long (plus its own stop and boot time). */
const RABBIT_DOWN_MS = 3_000
const LOG_LEVEL = process.env.CELLGATE_TEST_LOG === 'info' ? 'info' : 'debug'

interface Attempt {
  i: number
  ok: boolean
  /** end of the call, epoch ms */
  end: number
  /** start of the call, epoch ms */
  start: number
  type?: string
  message?: string
}

function attempts(p: PyProc): Attempt[] {
  return p.named('attempt').map((e) => {
    const end = Number(e.ts) * 1000
    return {
      i: Number(e.i),
      ok: e.ok === true,
      end,
      start: end - Number(e.elapsed) * 1000,
      type: typeof e.type === 'string' ? e.type : undefined,
      message: typeof e.message === 'string' ? e.message : undefined,
    }
  })
}

/** Length of the run of successful calls at the end, counting only calls started after `since`. */
function okRunSince(p: PyProc, since: number): number {
  const xs = attempts(p).filter((a) => a.start >= since)
  let n = 0
  for (let k = xs.length - 1; k >= 0 && xs[k]!.ok; k--) n++
  return n
}

function logKinds(p: PyProc, from: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of p.events.slice(from)) {
    if (e.event === 'log' && typeof e.kind === 'string') out[e.kind] = (out[e.kind] ?? 0) + 1
  }
  return out
}

interface Client {
  name: string
  proc: PyProc
  /** --retry 0: oslo gives up publishing at once instead of blocking until reconnected. */
  failFast: boolean
}

function startClient(t: Test, url: string, topic: string, opts: { server?: string; failFast?: boolean } = {}): Client {
  const args = ['--url', url, '--topic', topic, '--scenario', 'recover', '--duration', '170', '--interval', '0.5', '--timeout', '2']
  if (opts.server) args.push('--server', opts.server)
  if (opts.failFast) args.push('--retry', '0')
  const name = `${opts.server ? `topic.${opts.server}` : 'topic'}${opts.failFast ? ' (retry=0)' : ''}`
  return { name, proc: startPy(t, 'rpc_client.py', args), failFast: opts.failFast ?? false }
}

/** The three callers every scenario uses: topic and topic.server with oslo's default retry=None, and a fail-fast one. */
function startClients(t: Test, url: string, topic: string): Client[] {
  return [startClient(t, url, topic), startClient(t, url, topic, { server: 'h1' }), startClient(t, url, topic, { failFast: true })]
}

async function waitOkRun(c: Client, since: number, n: number, timeoutMs: number, what: string): Promise<void> {
  await c.proc.waitFor(() => okRunSince(c.proc, since) >= n, timeoutMs, `${c.name}: ${n} successful calls in a row ${what}`)
}

const isEcho = (e: PyEvent): boolean => e.event === 'received' && e.method === 'echo'
const fmtAttempt = (a: Attempt): string => `#${a.i} ${a.ok ? 'ok' : a.type} ${Math.round(a.end - a.start)}ms`

interface OutageSpec {
  label: string
  /** How long the service stays down between down() and up(). */
  downMs: number
  /** Takes the service down; resolves once it is really gone. */
  down(): Promise<void>
  /** Brings it back; resolves once it accepts connections again. */
  up(): Promise<void>
  /** Whether fail-fast (retry=0) callers must see failures (true when clients cannot even connect). */
  failFastMustFail: boolean
  diagnostics(): string
}

/**
 * One outage: warm-up check, down(), a pause, up(), then wait for RECOVERED_RUN successes in a
 * row on every client and check each client's timeline:
 * - before the outage every call succeeded;
 * - no call succeeded while the service was down; some call was disrupted (failed, or blocked
 *   until the service was back: oslo's default retry=None makes a caller wait for the reconnect
 *   instead of failing); a fail-fast caller's calls failed when it could not connect at all;
 * - once a call succeeded after the restart, every later call succeeded (at least RECOVERED_RUN),
 *   the first within RECOVER_WITHIN_MS;
 * - no result ever differed from its argument;
 * - the server executed calls after the restart and is still running.
 */
async function outage(t: Test, spec: OutageSpec, clients: Client[], server: PyProc): Promise<void> {
  const { label } = spec
  const marks = clients.map((c) => c.proc.events.length)
  const serverMark = server.events.length
  // Phase boundaries as attempt counts (what had arrived by then) and as times. Python's ts has
  // sub-millisecond precision, Date.now() truncates: compare times with some slack only.
  const count = (): number[] => clients.map((c) => c.proc.named('attempt').length)
  const warmFrom = Date.now()
  const idxWarm = count()
  try {
    await Promise.all(clients.map((c) => waitOkRun(c, warmFrom, WARMUP_OK, 30_000, `before ${label}`)))
    const stopAsked = Date.now()
    const idxStop = count()
    await spec.down()
    const downAt = Date.now()
    await sleep(spec.downMs)
    await spec.up()
    const upAt = Date.now()
    const serverMarkAtUp = server.events.length
    // A client that never recovers must not hide what the others did: wait for all, then check.
    const required = clients
    const waits = await Promise.allSettled(required.map((c) => waitOkRun(c, upAt, RECOVERED_RUN, RECOVER_WITHIN_MS + 10_000, `after ${label}`)))
    for (const [k, w] of waits.entries()) {
      if (w.status === 'rejected') t.comment(`${required[k]!.name} did not recover within ${RECOVER_WITHIN_MS + 10_000} ms`)
    }
    const doneAt = Date.now()
    t.comment(`${label}: taking it down took ${downAt - stopAsked} ms; down (gone -> accepting again) for ${upAt - downAt} ms`)

    for (const [k, c] of clients.entries()) {
      const all = attempts(c.proc)
      const diag = { diag: `${c.proc.diagnostics(40)}\n${spec.diagnostics()}` }
      const before = all.slice(idxWarm[k], idxStop[k])
      const since = all.slice(idxStop[k])
      const okWhileDown = since.filter((a) => a.ok && a.end > downAt + 100 && a.end < upAt - 5)
      const failed = since.filter((a) => !a.ok)
      const blocked = since.filter((a) => a.ok && a.start < upAt && a.end >= upAt - 5 && a.end - a.start > 1_000)
      const recovered = since.find((a) => a.ok && a.start >= upAt - 5)
      const afterRecovery = recovered ? since.filter((a) => a.i >= recovered.i) : []
      const wrong = all.filter((a) => a.type === 'Mismatch')

      t.ok(
        before.length >= WARMUP_OK && before.every((a) => a.ok),
        `${c.name}: calls succeeded before ${label} (${before.map(fmtAttempt).join(', ')})`,
        diag,
      )
      t.same(okWhileDown.map(fmtAttempt), [], `${c.name}: no call succeeded while down`, diag)
      t.ok(failed.length + blocked.length >= 1, `${c.name}: calls were disrupted (${failed.length} failed, ${blocked.length} blocked until back)`, diag)
      if (c.failFast && spec.failFastMustFail) t.ok(failed.length >= 1, `${c.name}: fail-fast calls failed while down`, diag)
      t.ok(recovered, `${c.name}: calls succeed again after ${label}`, diag)
      if (recovered) {
        const latency = Math.round(recovered.end - upAt)
        t.ok(latency <= RECOVER_WITHIN_MS, `${c.name}: first success ${latency} ms after it was back (<= ${RECOVER_WITHIN_MS})`, diag)
        t.ok(afterRecovery.length >= RECOVERED_RUN, `${c.name}: ${afterRecovery.length} calls since recovery`, diag)
        t.same(afterRecovery.filter((a) => !a.ok).map(fmtAttempt), [], `${c.name}: no call failed once calls succeeded again`, diag)
      }
      t.same(wrong.map(fmtAttempt), [], `${c.name}: every result equals its argument`, diag)
      const errorTypes = countBy(failed.map((a) => a.type ?? '?'))
      t.comment(
        `${label} ${c.name}: ${failed.length} failed ${JSON.stringify(errorTypes)}, ${blocked.length} blocked ` +
          `(${blocked.map((a) => `${Math.round(a.end - a.start)}ms`).join(',')}), first success ` +
          `${recovered ? Math.round(recovered.end - upAt) : 'never'} ms after it was back; oslo log: ${JSON.stringify(logKinds(c.proc, marks[k] ?? 0))}`,
      )
    }

    const servedBefore = server.events.slice(serverMark, serverMarkAtUp).filter(isEcho).length
    const servedAfter = server.events.slice(serverMarkAtUp).filter(isEcho).length
    t.ok(servedAfter >= RECOVERED_RUN, `server executed ${servedAfter} echo calls after ${label} (${servedBefore} before)`)
    t.equal(server.exited, null, 'the oslo server is still running', { diag: server.diagnostics() })
    t.comment(`${label}: phase took ${doneAt - warmFrom} ms`)
  } catch (err) {
    t.comment(`${label} failed; diagnostics:\n${clients.map((c) => c.proc.diagnostics(40)).join('\n')}\n${server.diagnostics()}\n${spec.diagnostics()}`)
    throw err
  }
}

function countBy(xs: string[]): Record<string, number> {
  return xs.reduce<Record<string, number>>((acc, x) => ((acc[x] = (acc[x] ?? 0) + 1), acc), {})
}

/**
 * cellgate marks states it considers impossible with "[BUG]" in its log, and logs every client
 * channel it closes with an error. A restart of cellgate or of the broker is no reason to close
 * a client's channel with an error: connections go away (cellgate restart) or recover
 * transparently (broker restart).
 */
function checkCellgateLog(t: Test, log: string, diag: string): void {
  const lines = log.split('\n')
  const bugs = lines.filter((l) => l.includes('[BUG]'))
  t.same(bugs.slice(0, 5), [], `cellgate logged no [BUG] line (${bugs.length})`, { diag })
  const closes = lines.filter((l) => l.includes('closed channel with error'))
  t.same(closes.slice(0, 5), [], `cellgate closed no client channel with an error (${closes.length})`, { diag })
}

// --------------------------------------------------------------------------------------------
t.test('oslo clients and server recover when cellgate restarts (SIGKILL, then SIGTERM)', async (t) => {
  t.comment(await ensureCellgateBuilt())
  const port = await freePort()
  const url = `rabbit://guest:guest@127.0.0.1:${port}/`
  const run = uniqueName('recover-cg')
  const topic = `${run}-rpc`
  t.teardown(async () => {
    await deleteByPrefix(run).catch((err: unknown) => t.comment(`cleanup of ${run}* failed: ${String(err)}`))
  })

  const generations: CellgateProcess[] = []
  const startGen = async (): Promise<CellgateProcess> => {
    const p = await CellgateProcess.start({ port, logLevel: LOG_LEVEL, label: `cellgate gen ${generations.length + 1}` })
    generations.push(p)
    return p
  }
  // Teardowns run last-registered first: this one runs after the Python processes stopped.
  t.teardown(async () => {
    for (const g of generations) await g.stop('SIGTERM', 5_000)
  })
  const cgLogs = (): string => generations.map((g) => g.diagnostics(6_000)).join('\n')

  await startGen()
  const server = startPy(t, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', 'h1'])
  await server.waitEvent('ready', undefined, 30_000)
  const clients = startClients(t, url, topic)

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    await outage(
      t,
      {
        label: `cellgate ${signal}`,
        downMs: CELLGATE_DOWN_MS,
        down: async () => {
          const gen = generations.at(-1)!
          const exit = await gen.stop(signal, 10_000)
          if (signal === 'SIGKILL') t.equal(exit.signal, 'SIGKILL', 'cellgate was killed')
          else t.hasStrict(exit, { code: 0, signal: null }, 'cellgate exited 0 after SIGTERM', { diag: gen.diagnostics() })
        },
        up: async () => {
          await startGen()
        },
        // On SIGTERM cellgate says goodbye with 320 as a stopping RabbitMQ does, and py-amqp then
        // waits for the reconnect instead of failing the call: only a killed cellgate must fail it.
        failFastMustFail: signal === 'SIGKILL',
        diagnostics: cgLogs,
      },
      clients,
      server,
    )
  }
  for (const g of generations) checkCellgateLog(t, g.log, g.diagnostics())
  for (const c of clients) await c.proc.stop(5_000)
})

// --------------------------------------------------------------------------------------------
/** oslo server and clients through cellgate (or, as a control, straight to the node) while a private RabbitMQ node restarts. */
async function rabbitRestart(t: Test, viaCellgate: boolean): Promise<void> {
  t.comment(await ensureCellgateBuilt())
  const node = await RabbitNode.create({ prefix: 'cgtest' })
  t.teardown(() => node.destroy())
  const first = await node.start()
  t.comment(`private RabbitMQ ${node.nodeName} on ${node.port} (dist ${node.distPort}) booted in ${first.ms} ms`)

  let cg: CellgateProcess | null = null
  let url = `rabbit://guest:guest@127.0.0.1:${node.port}/`
  if (viaCellgate) {
    const port = await freePort()
    url = `rabbit://guest:guest@127.0.0.1:${port}/`
    // cellgate's default upstream reconnect backoff (500 ms doubling to 15 s) is what users get.
    const proc = await CellgateProcess.start({ port, cells: [{ name: 'cell1', rabbit: node.amqpUrl }], logLevel: LOG_LEVEL, label: 'cellgate' })
    t.teardown(() => proc.stop('SIGTERM', 5_000))
    cg = proc
  }

  const topic = `${uniqueName('recover-rmq')}-rpc`
  const server = startPy(t, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', 'h1'])
  await server.waitEvent('ready', undefined, 30_000)
  const clients = startClients(t, url, topic)

  await outage(
    t,
    {
      label: `rabbitmq stop/start${viaCellgate ? '' : ' (direct)'}`,
      downMs: RABBIT_DOWN_MS,
      down: async () => {
        const r = await node.stop()
        t.comment(`rabbitmqctl stop until the node exited: ${r.ms} ms`)
      },
      up: async () => {
        const r = await node.start()
        t.comment(`restart: node accepted AMQP ${r.ms} ms after rabbitmq-server was spawned`)
      },
      // Through cellgate the clients stay connected to it, so even a fail-fast caller can
      // publish; its call then times out (or blocks) instead of failing at once.
      failFastMustFail: !viaCellgate,
      diagnostics: () => `${cg ? cg.diagnostics(12_000) : ''}\n${node.diagnostics(3_000)}`,
    },
    clients,
    server,
  )
  if (cg) {
    t.equal(cg.exited, null, 'cellgate kept running', { diag: cg.diagnostics() })
    checkCellgateLog(t, cg.log, cg.diagnostics())
  }
  for (const c of clients) await c.proc.stop(5_000)
}

t.test('oslo clients and server recover when RabbitMQ (a private node) restarts', (t) => rabbitRestart(t, true))

// The same restart with oslo talking to the node directly: proves the scenario and the drivers
// (what oslo itself does), for comparison when the cellgate variant fails. Opt-in: +35 s.
if (process.env.CELLGATE_TEST_RECOVERY_DIRECT === '1') {
  t.test('control: oslo straight to the private RabbitMQ node, same restart', (t) => rabbitRestart(t, false))
}

t.end()
