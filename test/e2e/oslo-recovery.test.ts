// "Clients recover when cellgate or RabbitMQ restarts", with the real oslo.messaging:
// an oslo RPC server and two oslo RPC clients calling every 0.5 s (rpc_client.py
// --scenario recover: echo(i), the result must equal i) stay up while
//   1. cellgate (a child process) is killed with SIGKILL, then stopped with SIGTERM, and each
//      time started again on the same port ~2 s later;
//   2. a private RabbitMQ node (never the shared one on 5672) behind cellgate is stopped with
//      `rabbitmqctl stop` and started again ~3 s later.
// One client calls the topic (queue T), the other topic.server (queue T.h1, only the server's
// own consumer serves it). For every outage the test asserts: calls fail while the service is
// down and none succeeds then, then every call succeeds again (the last ones after the restart,
// at least RECOVERED_RUN in a row, no failure once the first one succeeded), the server executed
// calls after the restart (its consumers were re-established), and no result was ever wrong.
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
const LOG_LEVEL = (process.env.CELLGATE_TEST_LOG ?? 'debug') as 'debug' | 'info'

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
}

function startClient(t: Test, url: string, topic: string, server?: string): Client {
  const args = ['--url', url, '--topic', topic, '--scenario', 'recover', '--duration', '170', '--interval', '0.5', '--timeout', '2']
  if (server) args.push('--server', server)
  return { name: server ? `${topic}.${server}` : topic, proc: startPy(t, 'rpc_client.py', args) }
}

async function waitOkRun(c: Client, since: number, n: number, timeoutMs: number, what: string): Promise<void> {
  await c.proc.waitFor(() => okRunSince(c.proc, since) >= n, timeoutMs, `${c.name}: ${n} successful calls in a row ${what}`)
}

/**
 * One outage: warm-up check, `down()` (resolves once the service is really gone, with that
 * time), a pause, `up()` (resolves once it accepts connections again, with that time), then
 * wait for RECOVERED_RUN successes in a row and check the timeline of every client.
 */
async function outage(
  t: Test,
  label: string,
  clients: Client[],
  server: PyProc,
  downMs: number,
  down: () => Promise<number>,
  up: () => Promise<number>,
  diagnostics: () => string,
): Promise<void> {
  const marks = clients.map((c) => c.proc.events.length)
  const serverMark = server.events.length
  const warmFrom = Date.now()
  try {
    // Every client is calling successfully right now.
    await Promise.all(clients.map((c) => waitOkRun(c, warmFrom - 1_000, WARMUP_OK, 30_000, `before ${label}`)))
    const stopAsked = Date.now()
    const downAt = await down()
    await sleep(downMs)
    const upAt = await up()
    const serverMarkAtUp = server.events.length
    await Promise.all(clients.map((c) => waitOkRun(c, upAt, RECOVERED_RUN, RECOVER_WITHIN_MS + 10_000, `after ${label}`)))
    const doneAt = Date.now()
    t.comment(
      `${label}: stop took ${downAt - stopAsked} ms, down for ${upAt - downAt} ms (service gone -> accepting again)`,
    )

    for (const [k, c] of clients.entries()) {
      const all = attempts(c.proc)
      const mine = all.filter((a) => a.end >= warmFrom - 1_000)
      const diag = { diag: `${c.proc.diagnostics(40)}\n${diagnostics()}` }
      const before = mine.filter((a) => a.end < stopAsked)
      const during = mine.filter((a) => a.end >= downAt && a.start < upAt)
      const failed = mine.filter((a) => !a.ok && a.end >= stopAsked)
      const okWhileDown = mine.filter((a) => a.ok && a.start > downAt + 100 && a.end < upAt)
      const recovered = mine.find((a) => a.ok && a.start >= upAt)
      const afterRecovery = recovered ? mine.filter((a) => a.start >= recovered.start) : []
      const lateFailures = afterRecovery.filter((a) => !a.ok)
      const wrong = all.filter((a) => a.type === 'Mismatch')

      t.ok(before.length >= WARMUP_OK && before.every((a) => a.ok), `${c.name}: calls succeeded before ${label}`, diag)
      t.ok(failed.length >= 1, `${c.name}: calls failed while ${label.replace(/ .*/, '')} was down (${failed.length} failed)`, diag)
      t.ok(during.some((a) => !a.ok), `${c.name}: a call during the outage failed`, diag)
      t.same(okWhileDown.map((a) => a.i), [], `${c.name}: no call succeeded while down`, diag)
      t.ok(recovered, `${c.name}: calls succeed again after ${label}`, diag)
      if (recovered) {
        const latency = recovered.end - upAt
        t.ok(latency <= RECOVER_WITHIN_MS, `${c.name}: first success ${latency} ms after it was back (<= ${RECOVER_WITHIN_MS})`, diag)
        t.ok(afterRecovery.length >= RECOVERED_RUN, `${c.name}: ${afterRecovery.length} calls since recovery`, diag)
        t.same(lateFailures.map((a) => `${a.i}:${a.type}`), [], `${c.name}: no call failed once calls succeeded again`, diag)
      }
      t.same(wrong.map((a) => `${a.i}:${a.message}`), [], `${c.name}: every result equals its argument`, diag)
      const errorTypes = failed.reduce<Record<string, number>>((acc, a) => ((acc[a.type ?? '?'] = (acc[a.type ?? '?'] ?? 0) + 1), acc), {})
      t.comment(
        `${label} ${c.name}: ${failed.length} failed calls ${JSON.stringify(errorTypes)}, ` +
          `first success ${recovered ? recovered.end - upAt : 'never'} ms after restart, ` +
          `${afterRecovery.length} ok since; oslo log: ${JSON.stringify(logKinds(c.proc, marks[k] ?? 0))}`,
      )
    }

    // The server's consumers came back: it executed calls that started after the restart.
    const servedBefore = server.events.slice(serverMark, serverMarkAtUp).filter(isEcho).length
    const servedAfter = server.events.slice(serverMarkAtUp).filter(isEcho).length
    t.ok(servedAfter >= RECOVERED_RUN, `server executed ${servedAfter} echo calls after ${label} (${servedBefore} before)`)
    t.equal(server.exited, null, 'the oslo server is still running', { diag: server.diagnostics() })
    t.comment(`${label}: whole phase ${doneAt - warmFrom} ms`)
  } catch (err) {
    t.comment(`${label} failed; diagnostics:\n${clients.map((c) => c.proc.diagnostics(40)).join('\n')}\n${server.diagnostics()}\n${diagnostics()}`)
    throw err
  }
}

const isEcho = (e: PyEvent): boolean => e.event === 'received' && e.method === 'echo'

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
  // teardown order is LIFO: registered first, runs last (after the Python processes stopped)
  t.teardown(async () => {
    for (const g of generations) await g.stop('SIGTERM', 5_000)
  })
  const cgLogs = (): string => generations.map((g) => g.diagnostics(6_000)).join('\n')

  await startGen()
  const server = startPy(t, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', 'h1'])
  await server.waitEvent('ready', undefined, 30_000)
  const clients = [startClient(t, url, topic), startClient(t, url, topic, 'h1')]

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    await outage(
      t,
      `cellgate ${signal}`,
      clients,
      server,
      CELLGATE_DOWN_MS,
      async () => {
        const gen = generations.at(-1)!
        const exit = await gen.stop(signal, 10_000)
        if (signal === 'SIGKILL') t.equal(exit.signal, 'SIGKILL', 'cellgate was killed')
        else t.hasStrict(exit, { code: 0, signal: null }, 'cellgate exited 0 after SIGTERM', { diag: gen.diagnostics() })
        return Date.now()
      },
      async () => {
        const gen = await startGen()
        return gen.readyAt
      },
      cgLogs,
    )
  }

  for (const c of clients) {
    const exit = await c.proc.stop(5_000)
    t.ok(exit.events.length > 0, `${c.name}: client stopped`)
  }
})

// --------------------------------------------------------------------------------------------
t.test('oslo clients and server recover when RabbitMQ (a private node) restarts', async (t) => {
  t.comment(await ensureCellgateBuilt())
  const node = await RabbitNode.create({ prefix: 'cgtest' })
  t.teardown(() => node.destroy())
  const first = await node.start()
  t.comment(`private RabbitMQ ${node.nodeName} on ${node.port} (dist ${node.distPort}) booted in ${first.ms} ms`)

  const port = await freePort()
  const url = `rabbit://guest:guest@127.0.0.1:${port}/`
  const cg = await CellgateProcess.start({
    port,
    cells: [{ name: 'cell1', rabbit: node.amqpUrl }],
    logLevel: LOG_LEVEL,
    label: 'cellgate',
  })
  t.teardown(() => cg.stop('SIGTERM', 5_000))
  const diagnostics = (): string => `${cg.diagnostics(12_000)}\n${node.diagnostics(3_000)}`

  const topic = `${uniqueName('recover-rmq')}-rpc`
  const server = startPy(t, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', 'h1'])
  await server.waitEvent('ready', undefined, 30_000)
  const clients = [startClient(t, url, topic), startClient(t, url, topic, 'h1')]

  await outage(
    t,
    'rabbitmq stop/start',
    clients,
    server,
    RABBIT_DOWN_MS,
    async () => {
      const r = await node.stop()
      t.comment(`rabbitmqctl stop + exit took ${r.ms} ms`)
      return Date.now()
    },
    async () => {
      const r = await node.start()
      t.comment(`restart: node accepted AMQP ${r.ms} ms after rabbitmq-server was spawned`)
      return Date.now()
    },
    diagnostics,
  )
  t.equal(cg.exited, null, 'cellgate kept running', { diag: cg.diagnostics() })

  for (const c of clients) await c.proc.stop(5_000)
})

t.end()
