// oslo.messaging end-to-end scenarios, parameterised by transport_url.
//
// oslo-direct.test.ts runs them against RabbitMQ itself to prove the Python
// drivers and the assertions; a cellgate test runs the very same body with
// the proxy's URL. Every check is exact (counts, payload equality, exception
// class names), so a proxy that duplicates, drops, reorders into the wrong
// queue or mangles a frame fails here.
import { setTimeout as sleep } from 'node:timers/promises'
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { deleteByPrefix, uniqueName } from '../helpers/env.js'
import { runPy, startPy, type PyEvent, type PyProc } from '../helpers/python.js'

export interface OsloScenarioOptions {
  /** Delete the run's queues on the direct broker afterwards (default true). */
  cleanup?: boolean
  /** vhost the run's queues live on, for cleanup (default "/"). */
  cleanupVhost?: string
  /** Seconds the idle scenario stays quiet (default 20). */
  idleSeconds?: number
}

// How long to keep watching after the expected count was reached, so a
// duplicate delivery arriving late is still counted.
const SETTLE_MS = 750
const READY_MS = 30_000

type T = Test

interface ClientRun {
  code: number | null
  proc: PyProc
  summary: PyEvent
  results: PyEvent[]
  errors: PyEvent[]
}

function field<V>(e: PyEvent | undefined, key: string): V {
  return (e?.[key] as V) ?? (undefined as V)
}

export function registerOsloScenarios(t: T, url: string, label: string, opts: OsloScenarioOptions = {}): void {
  const run = uniqueName(label)
  const name = (what: string): string => `${run}-${what}`
  const idleSeconds = opts.idleSeconds ?? 20
  // A non-default control exchange (like nova's "nova"); oslo declares it
  // non-auto-delete, so the teardown deletes it.
  const customExchange = name('exchange')

  if (opts.cleanup ?? true) {
    t.teardown(async () => {
      const cleanupOpts = opts.cleanupVhost ? { vhost: opts.cleanupVhost } : {}
      await deleteByPrefix(run, { ...cleanupOpts, exchanges: [customExchange] }).catch((err: unknown) => {
        t.comment(`cleanup of ${run}* failed: ${String(err)}`)
      })
    })
  }

  async function server(tt: T, topic: string, host: string, extra: string[] = []): Promise<PyProc> {
    const p = startPy(tt, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', host, ...extra])
    await p.waitEvent('ready', undefined, READY_MS)
    return p
  }

  async function client(tt: T, topic: string, scenario: string, extra: string[] = [], timeoutMs = 90_000): Promise<ClientRun> {
    const r = await runPy(tt, 'rpc_client.py', ['--url', url, '--topic', topic, '--scenario', scenario, ...extra], timeoutMs)
    const summary = r.proc.named('summary').at(-1) ?? { event: 'missing-summary' }
    tt.equal(summary.event, 'summary', `${scenario}: client printed a summary`, { diag: r.proc.diagnostics() })
    return { code: r.code, proc: r.proc, summary, results: r.proc.named('result'), errors: r.proc.named('error') }
  }

  /** "received" events of `method` on the given servers since `marks`. */
  function received(servers: PyProc[], method: string, pred: (e: PyEvent) => boolean = () => true, marks?: number[]): PyEvent[] {
    return servers.flatMap((s, i) =>
      s.events.slice(marks?.[i] ?? 0).filter((e) => e.event === 'received' && e.method === method && pred(e)),
    )
  }

  /** Wait until at least `n` matching receptions, then settle and return them all. */
  async function receivedSettled(
    servers: PyProc[],
    method: string,
    n: number,
    pred: (e: PyEvent) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<PyEvent[]> {
    const deadline = Date.now() + timeoutMs
    while (received(servers, method, pred).length < n && Date.now() < deadline) await sleep(50)
    await sleep(SETTLE_MS)
    return received(servers, method, pred)
  }

  const whoAmI = (s: PyProc): string => String(s.named('ready')[0]?.server ?? s.named('ready')[0]?.listener)
  const tagOf = (e: PyEvent): string => String((e.args as { tag?: unknown } | undefined)?.tag)
  const countBy = (xs: string[]): Record<string, number> =>
    xs.reduce<Record<string, number>>((acc, x) => ((acc[x] = (acc[x] ?? 0) + 1), acc), {})

  // ------------------------------------------------------------------------
  t.test(`${label}: RPC on one topic served by two servers`, async (t) => {
    const topic = name('rpc')
    const [h1, h2] = await Promise.all([server(t, topic, 'h1'), server(t, topic, 'h2')])
    const both = [h1, h2]

    await t.test('call to topic: 5 echo calls, exact payload, each executed once', async (t) => {
      const probe = randomUUID()
      const value = { probe, n: 42, f: 1.5, list: [1, 'two', null], nested: { t: true, u: 'ünïcødé ☃ 😀' } }
      const r = await client(t, topic, 'call', ['--count', '5', '--value', JSON.stringify(value)])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 5, failed: 0, mismatched: 0 })
      t.equal(r.results.length, 5, '5 results')
      for (const res of r.results) t.same(res.value, value, 'result equals the sent value')
      const got = await receivedSettled(both, 'echo', 5, (e) => field<{ x?: { probe?: string } }>(e, 'args').x?.probe === probe)
      t.equal(got.length, 5, 'servers executed exactly 5 echo calls')
    })

    await t.test('call to topic.server: 6 calls to h2 are answered by h2 only', async (t) => {
      const marks = both.map((s) => s.events.length)
      const r = await client(t, topic, 'whoami', ['--server', 'h2', '--count', '6'])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 6, failed: 0 })
      t.same(r.summary.servers, { h2: 6 }, 'every reply came from h2')
      await sleep(SETTLE_MS)
      t.equal(received([h2], 'whoami', undefined, [marks[1] ?? 0]).length, 6, 'h2 executed 6 calls')
      t.equal(received([h1], 'whoami', undefined, [marks[0] ?? 0]).length, 0, 'h1 executed none')
    })

    await t.test('cast to topic.server: h1 records each tag exactly once', async (t) => {
      const prefix = name('cast-h1')
      const r = await client(t, topic, 'cast', ['--server', 'h1', '--count', '3', '--tag-prefix', prefix])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 3, failed: 0 })
      const mine = (e: PyEvent): boolean => tagOf(e).startsWith(prefix)
      const got = await receivedSettled(both, 'record', 3, mine)
      t.same(countBy(received([h1], 'record', mine).map(tagOf)), { [`${prefix}-0`]: 1, [`${prefix}-1`]: 1, [`${prefix}-2`]: 1 })
      t.equal(received([h2], 'record', mine).length, 0, 'h2 got none')
      t.equal(got.length, 3, 'exactly 3 receptions in total')
    })

    await t.test('cast to topic: each of 4 tags recorded once across both servers', async (t) => {
      const prefix = name('cast-any')
      const r = await client(t, topic, 'cast', ['--count', '4', '--tag-prefix', prefix])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 4, failed: 0 })
      const got = await receivedSettled(both, 'record', 4, (e) => tagOf(e).startsWith(prefix))
      t.same(countBy(got.map(tagOf)), Object.fromEntries([0, 1, 2, 3].map((i) => [`${prefix}-${i}`, 1])))
    })

    await t.test('remote exception: class and message preserved', async (t) => {
      const r = await client(t, topic, 'remote-error')
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 2, failed: 0 })
      const byStep = Object.fromEntries(r.errors.map((e) => [String(e.step), e]))
      const value = byStep.value
      const custom = byStep.custom
      // builtins cannot be re-classed: oslo rebuilds a plain ValueError
      t.hasStrict(value, { type: 'ValueError', module: 'builtins', is_instance: true })
      t.equal(value?.message, value?.expected_message, 'ValueError message')
      // allowed_remote_exmods class: oslo makes <Name>_Remote subclass
      t.hasStrict(custom, { type: 'CellgateTestError_Remote', module: 'oslo_common_Remote', is_instance: true })
      t.equal(custom?.message, custom?.expected_message, 'CellgateTestError message')
    })

    await t.test('timeout: call to a server nobody runs -> MessagingTimeout after 3 s', async (t) => {
      const nobody = `nobody-${randomUUID().slice(0, 8)}`
      const marks = both.map((s) => s.events.length)
      const r = await client(t, topic, 'timeout', ['--server', nobody, '--timeout', '3'])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 1, failed: 0 })
      t.equal(r.errors.length, 1, 'one error')
      t.hasStrict(r.errors[0], { type: 'MessagingTimeout', module: 'oslo_messaging.exceptions', server: nobody })
      const el = field<number>(r.errors[0], 'elapsed')
      t.ok(el >= 2.9 && el < 6, `timed out after ~3 s (${el})`)
      t.equal(received(both, 'echo', undefined, marks).length, 0, 'no server executed it')
    })

    await t.test('1 MiB payload: echo equal byte for byte, size() == 1048576', async (t) => {
      const r = await client(t, topic, 'big', ['--size', String(1024 * 1024)])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 2, failed: 0, size: 1048576 })
      const echo = r.results.find((e) => e.step === 'echo')
      const size = r.results.find((e) => e.step === 'size')
      t.hasStrict(echo, { equal: true, len: 1048576, sha256: r.summary.sha256 })
      t.hasStrict(size, { value: 1048576 })
      const got = await receivedSettled(both, 'size', 1)
      t.same(got.map((e) => e.args), [{ blob: { _str_len: 1048576 } }], 'a server received the whole blob, once')
    })

    await t.test('200 concurrent calls: all answered with their own value', async (t) => {
      const r = await client(t, topic, 'concurrent', ['--count', '200'])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 200, failed: 0, mismatched: 0 })
      t.equal(r.errors.length, 0, 'no call errors')
      const got = await receivedSettled(both, 'echo', 200, (e) => typeof field<{ x?: { id?: unknown } }>(e, 'args').x?.id === 'string')
      const distinct = new Set(got.map((e) => field<{ x: { id: string } }>(e, 'args').x.id))
      t.equal(got.length, 200, '200 executions')
      t.equal(distinct.size, 200, '200 distinct requests')
      t.comment(`200 calls took ${String(r.summary.elapsed)} s (p50 ${String(r.summary.p50)} s, max ${String(r.summary.max)} s)`)
    })

    await t.test('call-monitor: server heartbeats keep a 6 s call alive with call_monitor_timeout=2', async (t) => {
      const r = await client(t, topic, 'call-monitor', ['--seconds', '6', '--cm-timeout', '2'])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, ok: 3, failed: 0 })
      const hb = r.results.find((e) => e.step === 'heartbeat')
      t.same(field<{ slept?: number }>(hb, 'value').slept, 6, 'slow() returned after 6 s')
      const hbEl = field<number>(hb, 'elapsed')
      t.ok(hbEl >= 6 && hbEl < 9, `call took ~6 s (${hbEl}), far beyond the 2 s monitor`)
      const beats = field<number>(hb, 'heartbeats')
      t.ok(beats >= 4 && beats <= 6, `client saw 4..6 call-monitor heartbeats (${beats})`)
      const dead = r.errors.find((e) => e.step === 'dead')
      t.hasStrict(dead, { type: 'MessagingTimeout' })
      const deadEl = field<number>(dead, 'elapsed')
      t.ok(deadEl >= 1.9 && deadEl < 4.5, `unanswered call fails after ~2 s, not 30 s (${deadEl})`)
      const hard = r.errors.find((e) => e.step === 'hard-timeout')
      t.hasStrict(hard, { type: 'MessagingTimeout', timeout: 4 })
      const hardEl = field<number>(hard, 'elapsed')
      t.ok(hardEl >= 3.9 && hardEl < 5.5, `heartbeats do not extend timeout=4 (${hardEl})`)
    })

    await t.test('recover scenario without disruption: every call succeeds', async (t) => {
      const r = await client(t, topic, 'recover', ['--duration', '3', '--interval', '0.5', '--last', '5'])
      t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
      t.hasStrict(r.summary, { passed: true, failed: 0, last_n_ok: true, reconnects: 0, connection_errors: 0 })
      const ok = field<number>(r.summary, 'ok')
      t.ok(ok >= 5 && ok <= 7, `5..7 calls in 3 s (${ok})`)
      t.equal(r.proc.named('attempt', (e) => e.ok !== true).length, 0, 'no failed attempt')
    })

    await t.test('servers stop cleanly', async (t) => {
      for (const s of both) {
        const ex = await s.stop()
        t.equal(ex.code, 0, `${whoAmI(s)} exit status 0`, { diag: s.diagnostics() })
        t.equal(s.named('stopped').length, 1, 'printed "stopped"')
      }
    })
  })

  // ------------------------------------------------------------------------
  t.test(`${label}: Target.exchange: call and cast through a non-default exchange`, async (t) => {
    const topic = name('xrpc')
    const srv = await server(t, topic, 'x1', ['--exchange', customExchange])
    const value = { via: customExchange }
    const r = await client(t, topic, 'call', ['--exchange', customExchange, '--count', '2', '--value', JSON.stringify(value)])
    t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
    t.hasStrict(r.summary, { passed: true, ok: 2, failed: 0, mismatched: 0 })
    const prefix = name('xcast')
    const c = await client(t, topic, 'cast', ['--exchange', customExchange, '--server', 'x1', '--count', '1', '--tag-prefix', prefix])
    t.equal(c.code, 0, 'cast client exit status 0', { diag: c.proc.diagnostics() })
    const got = await receivedSettled([srv], 'record', 1, (e) => tagOf(e).startsWith(prefix))
    t.same(got.map(tagOf), [`${prefix}-0`], 'cast recorded once')
    t.equal(received([srv], 'echo').length, 2, 'both calls executed once')
  })

  // ------------------------------------------------------------------------
  t.test(`${label}: fanout cast reaches each of 3 servers exactly once`, async (t) => {
    const topic = name('fan')
    const servers = await Promise.all(['f1', 'f2', 'f3'].map((h) => server(t, topic, h)))
    const prefix = name('fanout')
    const r = await client(t, topic, 'fanout', ['--count', '2', '--tag-prefix', prefix])
    t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
    t.hasStrict(r.summary, { passed: true, ok: 2, failed: 0 })
    const mine = (e: PyEvent): boolean => tagOf(e).startsWith(prefix)
    await receivedSettled(servers, 'record', 6, mine)
    for (const s of servers) {
      t.same(countBy(received([s], 'record', mine).map(tagOf)), { [`${prefix}-0`]: 1, [`${prefix}-1`]: 1 }, `${whoAmI(s)} got each tag once`)
    }
  })

  // ------------------------------------------------------------------------
  t.test(`${label}: notifications with pools`, async (t) => {
    const topic = name('notif')
    const poolA = name('pool-a')
    const poolB = name('pool-b')
    const listener = (pool: string, id: string): PyProc =>
      startPy(t, 'notify_listener.py', ['--url', url, '--topic', topic, '--pool', pool, '--name', id])
    const ls = [listener(poolA, 'a1'), listener(poolB, 'b1'), listener(poolB, 'b2')]
    await Promise.all(ls.map((l) => l.waitEvent('ready', undefined, READY_MS)))
    const [a1, b1, b2] = ls as [PyProc, PyProc, PyProc]

    const N = 20
    const r = await runPy(t, 'notifier.py', ['--url', url, '--topic', topic, '--count', String(N)])
    t.equal(r.code, 0, 'notifier exit status 0', { diag: r.proc.diagnostics() })
    const summary = r.proc.named('summary').at(-1)
    t.hasStrict(summary, { passed: true, ok: N, failed: 0 })
    const runId = String(summary?.run)

    const seqs = (l: PyProc): number[] =>
      l.named('notification', (e) => field<{ run?: string }>(e, 'payload').run === runId).map((e) => Number(field<{ seq: number }>(e, 'payload').seq))
    const deadline = Date.now() + 15_000
    while ((seqs(a1).length < N || seqs(b1).length + seqs(b2).length < N) && Date.now() < deadline) await sleep(50)
    await sleep(SETTLE_MS)

    const all = Array.from({ length: N }, (_, i) => i)
    t.same([...seqs(a1)].sort((x, y) => x - y), all, 'pool A (one listener) got every notification exactly once')
    const poolBSeqs = [...seqs(b1), ...seqs(b2)].sort((x, y) => x - y)
    t.same(poolBSeqs, all, 'pool B got every notification exactly once across its two listeners')
    t.ok(seqs(b1).length > 0 && seqs(b2).length > 0, `pool B listeners compete (${seqs(b1).length}/${seqs(b2).length})`)
    const sample = a1.named('notification')[0]
    t.hasStrict(sample, { priority: 'info', event_type: 'cellgate.test', publisher_id: 'cellgate-test.host1', pool: poolA })

    for (const l of ls) {
      const ex = await l.stop()
      t.equal(ex.code, 0, `listener ${whoAmI(l)} stops cleanly`, { diag: l.diagnostics() })
    }
  })

  // ------------------------------------------------------------------------
  t.test(`${label}: idle ${idleSeconds} s with heartbeat_timeout_threshold=4`, async (t) => {
    const topic = name('idle')
    const srv = await server(t, topic, 'i1', ['--heartbeat', '4', '--log-level', 'INFO'])
    const r = await client(t, topic, 'idle', ['--heartbeat', '4', '--idle', String(idleSeconds)], (idleSeconds + 60) * 1000)
    t.equal(r.code, 0, 'client exit status 0', { diag: r.proc.diagnostics() })
    t.hasStrict(r.summary, {
      passed: true,
      ok: 2,
      failed: 0,
      reconnects: 0,
      connection_errors: 0,
      same_reply_connection: true,
      same_pool_connections: true,
      heartbeat: 4,
    })
    const ports = r.proc.named('ports')[0]
    t.same(field<unknown>(ports, 'after'), field<unknown>(ports, 'before'), 'same TCP connections before and after the idle period')
    const bad = (e: PyEvent): boolean => e.kind === 'reconnected' || e.kind === 'connection-error'
    t.same(r.proc.named('log', bad), [], 'client logged no reconnect/connection error')
    t.same(srv.named('log', bad), [], 'server logged no reconnect/connection error')
    t.equal(received([srv], 'echo').length, 2, 'server executed both calls')
  })
}
