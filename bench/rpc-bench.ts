/**
 * RPC round trip and publish→deliver throughput through cellgate, compared in the same run with
 * RabbitMQ direct and with a blind TCP relay (the floor of any userspace proxy).
 *
 *   npm run bench                 # build, then run with the defaults (~1–2 min)
 *   npm run bench -- --quick      # smoke run (a few seconds)
 *   node dist/bench/rpc-bench.js --help
 *
 * Targets are interleaved: every round runs each scenario on every target back to back (target
 * order rotated per round), and figures are medians over rounds; ratios against direct are taken
 * within a round (adjacent in time) and then the median, which cancels most machine drift.
 * cellgate and the relay run as child processes so their CPU can be read from /proc/<pid>/stat.
 * Writes bench/RESULTS.md (the section between the rpc-bench markers) and bench/out/rpc-bench.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from 'amqplib'
import { RpcRig, ThroughputRig, type BenchNames, type Target, type TargetName, type ThroughputResult } from './oslo-shape.js'
import { hostPortArg, intArg, intListArg } from './cli-opts.js'
import { writeResultsSection } from './results-md.js'
import { benchMain, runWithCleanup } from './run-main.js'
import { CLK_TCK, findBrokerPid, freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { fmt, median, ratio, summarize, type LatencySummary } from './stats.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')
const GOAL_P50 = 1.15
const GOAL_TP = 0.9

interface Opts {
  calls: number
  messages: number
  rounds: number
  concurrency: number[]
  window: number
  prefetch: number
  size: number
  pool: number
  warmupCalls: number
  segmentMaxMs: number
  cellgateMain: string
  targets: TargetName[]
  rabbitHost: string
  rabbitPort: number
  writeResults: boolean
  cellgateProf: boolean
  quick: boolean
}

const HELP = `Usage: node dist/bench/rpc-bench.js [options]   (or: npm run bench -- [options])

RPC call round trip (p50/p99) and publish->deliver throughput through cellgate, RabbitMQ direct
and a blind TCP relay, interleaved in rounds; results to stdout, bench/RESULTS.md and
bench/out/rpc-bench.json.

Options:
  --calls N          measured RPC calls per target and concurrency level, over all rounds (default 4000)
  --messages N       throughput messages per target, over all rounds (default 100000)
  --rounds N         rounds; each runs every scenario on every target (default 5)
  --concurrency L    comma-separated concurrent callers (default 1,16)
  --window N         outstanding publisher confirms in the throughput test (default 256)
  --prefetch N       consumer prefetch in the throughput test (default 500)
  --size N           message body bytes in the throughput test (default 1024)
  --pool N           SEND connections per RPC client and per RPC server (default: max concurrency)
  --segment-max-ms N stop starting calls in one RPC segment after N ms (default 8000; quick 3000)
  --targets L        subset of direct,relay,cellgate (default all; ratios need direct)
  --rabbit HOST:PORT RabbitMQ (default 127.0.0.1:5672, guest/guest)
  --cellgate-main F  cellgate entry point to spawn (default dist/cli/main.js; for A/B experiments)
  --quick            small numbers for a smoke run (calls 300, messages 6000, rounds 2)
  --no-write         do not touch bench/RESULTS.md (the JSON copy is still written)
  --cellgate-prof    run cellgate under --cpu-prof (profiles in bench/out/prof/); implies --no-write
  -h, --help         this text
`

function parseArgs(argv: readonly string[]): Opts {
  const quick = argv.includes('--quick')
  const o: Opts = {
    calls: quick ? 300 : 4000,
    messages: quick ? 6000 : 100_000,
    rounds: quick ? 2 : 5,
    concurrency: [1, 16],
    window: 256,
    prefetch: 500,
    size: 1024,
    pool: 0,
    warmupCalls: quick ? 50 : 300,
    segmentMaxMs: quick ? 3000 : 8000,
    cellgateMain: 'dist/cli/main.js',
    targets: ['direct', 'relay', 'cellgate'],
    rabbitHost: '127.0.0.1',
    rabbitPort: 5672,
    writeResults: true,
    cellgateProf: false,
    quick,
  }
  const int = intArg
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string | undefined => argv[++i]
    switch (a) {
      case '--calls': o.calls = int(a, v()); break
      case '--messages': o.messages = int(a, v()); break
      case '--rounds': o.rounds = int(a, v()); break
      case '--window': o.window = int(a, v()); break
      case '--prefetch': o.prefetch = int(a, v()); break
      case '--size': o.size = int(a, v(), 64); break
      case '--pool': o.pool = int(a, v()); break
      case '--segment-max-ms': o.segmentMaxMs = int(a, v()); break
      case '--cellgate-main': o.cellgateMain = v() ?? o.cellgateMain; break
      case '--concurrency': o.concurrency = intListArg(a, v()); break
      case '--targets': {
        const ts = (v() ?? '').split(',').map((s) => s.trim())
        for (const t of ts) if (t !== 'direct' && t !== 'relay' && t !== 'cellgate') throw new Error(`--targets: unknown target ${t}`)
        o.targets = ts as TargetName[]
        break
      }
      case '--rabbit': {
        const hp = hostPortArg(a, v(), 5672)
        o.rabbitHost = hp.host
        o.rabbitPort = hp.port
        break
      }
      case '--quick': break
      case '--no-write': o.writeResults = false; break
      case '--cellgate-prof': o.cellgateProf = true; o.writeResults = false; break
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break
      default: throw new Error(`unknown option ${a} (see --help)`)
    }
  }
  if (o.pool === 0) o.pool = Math.max(...o.concurrency)
  return o
}

const progress = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

interface CpuSnap {
  cellgate: number | undefined
  relay: number | undefined
  broker: number | undefined
  client: number
}

interface RpcSegment {
  round: number
  summary: LatencySummary
  errors: number
  elapsedMs: number
  callsPerSec: number
  cpuMs: Partial<Record<keyof CpuSnap, number>>
}

interface TpSegment extends ThroughputResult {
  round: number
  cpuMs: Partial<Record<keyof CpuSnap, number>>
}

// ---------------------------------------------------------------------------------------------
// Process state and cleanup (runs once, on success, error or SIGINT).

let relayChild: Child | undefined
let cellgateChild: Child | undefined
let brokerPid: number | undefined
const rpcRigs = new Map<TargetName, RpcRig>()
const tpRigs = new Map<TargetName, ThroughputRig>()
let names: BenchNames | undefined
let cleaning: Promise<void> | undefined
/** Set once cleanup starts: the scenario loops stop instead of running on closed connections. */
let aborted = false
let interrupted = false

function cpuSnap(): CpuSnap {
  const u = process.cpuUsage()
  return {
    cellgate: processCpuMs(cellgateChild?.pid),
    relay: processCpuMs(relayChild?.pid),
    broker: processCpuMs(brokerPid),
    client: (u.user + u.system) / 1000,
  }
}

function cpuDelta(a: CpuSnap, b: CpuSnap): Partial<Record<keyof CpuSnap, number>> {
  const out: Partial<Record<keyof CpuSnap, number>> = {}
  for (const k of ['cellgate', 'relay', 'broker', 'client'] as const) {
    const x = a[k]
    const y = b[k]
    if (x !== undefined && y !== undefined) out[k] = y - x
  }
  return out
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined
  const r = await Promise.race([p, new Promise<undefined>((resolve) => (t = setTimeout(() => resolve(undefined), ms)))])
  clearTimeout(t)
  return r
}

function cleanup(opts: Pick<Opts, 'rabbitHost' | 'rabbitPort'>): Promise<void> {
  cleaning ??= (async () => {
    const queues = [...[...rpcRigs.values()].flatMap((r) => r.queues()), ...[...tpRigs.values()].map((r) => r.queue)]
    aborted = true
    for (const r of [...rpcRigs.values(), ...tpRigs.values()]) r.abort()
    // After Ctrl-C the children got SIGINT too (same process group) and amqplib's close() of a
    // connection whose peer vanished may never settle: do not wait long for it then.
    await withTimeout(Promise.allSettled([...rpcRigs.values(), ...tpRigs.values()].map((r) => r.close())), interrupted ? 2_000 : 10_000)
    if (names && queues.length > 0) {
      // Delete over a direct connection: works even if a proxy child is already in trouble.
      const deleted = await withTimeout(
        (async () => {
          const conn = await connect(`amqp://guest:guest@${opts.rabbitHost}:${opts.rabbitPort}/`)
          try {
            const ch = await conn.createChannel()
            for (const q of queues) await ch.deleteQueue(q)
            await ch.deleteExchange(names!.exchange)
          } finally {
            await conn.close().catch(() => {})
          }
          return true
        })().catch((err: unknown) => {
          progress(`cleanup: could not delete queues: ${err instanceof Error ? err.message : String(err)}`)
          return false
        }),
        10_000,
      )
      if (deleted) progress(`cleanup: deleted ${queues.length} queues and exchange ${names.exchange}`)
    }
    await Promise.allSettled([cellgateChild?.stop(), relayChild?.stop()])
  })()
  return cleaning
}

// ---------------------------------------------------------------------------------------------

async function startChildren(opts: Opts): Promise<Record<TargetName, Target>> {
  const rabbit = `amqp://guest:guest@${opts.rabbitHost}:${opts.rabbitPort}/`
  const targets: Partial<Record<TargetName, Target>> = { direct: { name: 'direct', url: rabbit } }
  if (opts.targets.includes('relay')) {
    const port = await freePort()
    relayChild = spawnNode('relay', ['dist/bench/tcp-relay.js', '--port', String(port), '--target', `${opts.rabbitHost}:${opts.rabbitPort}`], {
      cwd: ROOT,
    })
    await waitForPort(port, 10_000, () => relayChild!.alive())
    targets.relay = { name: 'relay', url: `amqp://guest:guest@127.0.0.1:${port}/` }
    progress(`relay pid ${relayChild.pid} on :${port}`)
  }
  if (opts.targets.includes('cellgate')) {
    const port = await freePort()
    const nodeArgs = opts.cellgateProf ? ['--cpu-prof', '--cpu-prof-dir', join(OUT_DIR, 'prof')] : []
    // The built-in defaults, but only the AMQP listener: the bench must not collide with a
    // cellgate already serving the admin (9464) or SQL (3307) ports on this machine.
    const configFile = join(OUT_DIR, `cellgate-bench-${process.pid}.json`)
    mkdirSync(OUT_DIR, { recursive: true })
    writeFileSync(configFile, JSON.stringify({ admin: { enabled: false }, sql: { enabled: false } }))
    cellgateChild = spawnNode('cellgate', [opts.cellgateMain, 'serve', '--config', configFile, '--amqp-port', String(port), '--log-level', 'warn'], {
      cwd: ROOT,
      nodeArgs,
    })
    try {
      await waitForPort(port, 15_000, () => cellgateChild!.alive())
    } catch (err) {
      throw new Error(`cellgate did not start: ${(err as Error).message}\n${cellgateChild.tail()}`)
    }
    targets.cellgate = { name: 'cellgate', url: `amqp://guest:guest@127.0.0.1:${port}/` }
    progress(`cellgate pid ${cellgateChild.pid} on :${port}${opts.cellgateProf ? ' (--cpu-prof)' : ''}`)
  }
  return targets as Record<TargetName, Target>
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  const n = xs.length
  return xs.map((_, i) => xs[(i + k) % n]!)
}

async function run(opts: Opts, argv: readonly string[]): Promise<void> {
  const startedAt = new Date()
  const load = loadavg()
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavgAtStart: load.map((x) => Number(x.toFixed(2))),
    node: process.version,
    clkTck: CLK_TCK,
    rabbitmq: 'unknown',
  }
  const command =
    process.env['npm_lifecycle_event'] === 'bench'
      ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
      : `node dist/bench/rpc-bench.js${argv.length ? ` ${argv.join(' ')}` : ''}`
  progress(`${command}: nproc ${machine.nproc}, load ${machine.loadavgAtStart.join(' ')}`)

  const run36 = Date.now().toString(36)
  names = { prefix: `cgbench-${run36}`, exchange: `cgbench-${run36}-x` }
  brokerPid = findBrokerPid()
  if (brokerPid === undefined) progress('RabbitMQ process (beam.smp) not visible: no broker CPU figures')

  const targets = await startChildren(opts)
  const order = opts.targets

  // RabbitMQ version, for the record.
  {
    const c = await connect(targets.direct.url)
    const v = c.connection.serverProperties['version']
    machine.rabbitmq = typeof v === 'string' ? v : String(v)
    await c.close()
  }

  for (const t of order) {
    if (aborted) throw new Error('interrupted')
    progress(`${t}: opening rigs (${2 * opts.pool + 4} connections)`)
    rpcRigs.set(t, await RpcRig.open(targets[t], names, opts.pool))
    tpRigs.set(t, await ThroughputRig.open(targets[t], names, opts.size, opts.prefetch))
  }
  const bodySize = tpRigs.get(order[0]!)!.bodySize

  // Warm-up (not recorded): JIT, connection pools, caches on every target.
  for (const t of order) {
    if (aborted) throw new Error('interrupted')
    const rig = rpcRigs.get(t)!
    for (const c of opts.concurrency) await rig.run(opts.warmupCalls, c, opts.segmentMaxMs)
    await tpRigs.get(t)!.run(Math.min(5000, Math.ceil(opts.messages / opts.rounds)), opts.window, 60_000)
  }
  progress('warm-up done')

  const rpc: Record<string, RpcSegment[]> = {}
  const tp: Partial<Record<TargetName, TpSegment[]>> = {}
  const key = (t: TargetName, c: number): string => `${t}@${c}`
  const callsPerRound = Math.max(1, Math.ceil(opts.calls / opts.rounds))
  const msgsPerRound = Math.max(1, Math.ceil(opts.messages / opts.rounds))
  const anomalies: string[] = []

  for (let r = 0; r < opts.rounds; r++) {
    const ord = rotate(order, r)
    for (const c of opts.concurrency) {
      for (const t of ord) {
        if (aborted) throw new Error('interrupted')
        const rig = rpcRigs.get(t)!
        await rig.run(Math.min(20, callsPerRound), c, opts.segmentMaxMs) // re-warm after switching targets
        const a = cpuSnap()
        const res = await rig.run(callsPerRound, c, opts.segmentMaxMs)
        if (res.latencies.length + res.errors < callsPerRound) {
          anomalies.push(`round ${r + 1}: ${t} c=${c}: segment cut at ${opts.segmentMaxMs} ms after ${res.latencies.length + res.errors}/${callsPerRound} calls`)
        }
        const b = cpuSnap()
        const seg: RpcSegment = {
          round: r,
          summary: summarize(res.latencies),
          errors: res.errors,
          elapsedMs: res.elapsedMs,
          callsPerSec: (res.latencies.length * 1000) / res.elapsedMs,
          cpuMs: cpuDelta(a, b),
        }
        ;(rpc[key(t, c)] ??= []).push(seg)
        if (res.errors > 0) anomalies.push(`round ${r + 1}: ${t} c=${c}: ${res.errors} failed calls`)
        progress(
          `round ${r + 1}/${opts.rounds} rpc c=${c} ${t.padEnd(8)} p50 ${fmt(seg.summary.p50, 3)} ms  p99 ${fmt(seg.summary.p99, 3)} ms  ${fmt(seg.callsPerSec, 0)} calls/s${res.errors ? `  ${res.errors} errors` : ''}`,
        )
      }
    }
    for (const t of ord) {
      if (aborted) throw new Error('interrupted')
      const a = cpuSnap()
      const res = await tpRigs.get(t)!.run(msgsPerRound, opts.window, 20_000 + msgsPerRound)
      const b = cpuSnap()
      ;(tp[t] ??= []).push({ ...res, round: r, cpuMs: cpuDelta(a, b) })
      const bad = [
        res.lost && `${res.lost} lost`,
        res.duplicates && `${res.duplicates} duplicates`,
        res.stray && `${res.stray} stray`,
        res.nacked && `${res.nacked} nacked`,
        res.returned && `${res.returned} returned`,
      ].filter(Boolean)
      if (bad.length) anomalies.push(`round ${r + 1}: ${t} throughput: ${bad.join(', ')}`)
      progress(`round ${r + 1}/${opts.rounds} throughput ${t.padEnd(8)} ${fmt(res.msgPerSec, 0)} msg/s${bad.length ? `  ${bad.join(', ')}` : ''}`)
    }
  }
  for (const t of order) {
    const rig = rpcRigs.get(t)!
    if (rig.unexpectedReplies) anomalies.push(`${t}: ${rig.unexpectedReplies} replies matched no pending call (late or duplicate)`)
    if (rig.serverErrors) anomalies.push(`${t}: ${rig.serverErrors} server replies failed`)
    if (rig.returned) anomalies.push(`${t}: ${rig.returned} RPC publishes returned (basic.return)`)
  }

  // ----- aggregate -----
  const rpcAgg = Object.fromEntries(
    Object.entries(rpc).map(([k, segs]) => {
      const total = (f: keyof CpuSnap): number | undefined => {
        const xs = segs.map((s) => s.cpuMs[f])
        return xs.every((x) => x !== undefined) ? (xs as number[]).reduce((p, q) => p + q, 0) : undefined
      }
      const calls = segs.reduce((p, s) => p + s.summary.n, 0)
      const perCall = (f: keyof CpuSnap): number | undefined => {
        const ms = total(f)
        return ms === undefined ? undefined : (ms * 1000) / calls
      }
      return [
        k,
        {
          p50: median(segs.map((s) => s.summary.p50)),
          p99: median(segs.map((s) => s.summary.p99)),
          mean: median(segs.map((s) => s.summary.mean)),
          callsPerSec: median(segs.map((s) => s.callsPerSec)),
          calls,
          errors: segs.reduce((p, s) => p + s.errors, 0),
          cpuUsPerCall: { cellgate: perCall('cellgate'), relay: perCall('relay'), broker: perCall('broker'), client: perCall('client') },
        },
      ]
    }),
  )
  const roundRatios = (t: TargetName, c: number, f: 'p50' | 'p99'): number[] => {
    const xs = rpc[key(t, c)] ?? []
    const ds = rpc[key('direct', c)] ?? []
    return xs.map((s, i) => ratio(s.summary[f], ds[i]?.summary[f]))
  }
  const perRoundRatio = (t: TargetName, c: number, f: 'p50' | 'p99'): number => median(roundRatios(t, c, f))
  /** "median (min–max over rounds)" of per-round ratios. */
  const withRange = (xs: number[]): string => {
    const ok = xs.filter(Number.isFinite)
    if (ok.length < 2) return fmt(median(ok))
    return `${fmt(median(ok))} (${fmt(Math.min(...ok))}–${fmt(Math.max(...ok))})`
  }
  const tpRatios = (t: TargetName): number[] => (tp[t] ?? []).map((s, i) => ratio(s.msgPerSec, tp.direct?.[i]?.msgPerSec))
  const tpAgg = Object.fromEntries(
    order.map((t) => {
      const segs = tp[t] ?? []
      const delivered = segs.reduce((p, s) => p + s.delivered, 0)
      const perMsg = (f: keyof CpuSnap): number | undefined => {
        const xs = segs.map((s) => s.cpuMs[f])
        if (!xs.every((x) => x !== undefined)) return undefined
        return ((xs as number[]).reduce((p, q) => p + q, 0) * 1000) / delivered
      }
      const ds = tp.direct ?? []
      return [
        t,
        {
          msgPerSec: median(segs.map((s) => s.msgPerSec)),
          vsDirect: median(segs.map((s, i) => ratio(s.msgPerSec, ds[i]?.msgPerSec))),
          messages: segs.reduce((p, s) => p + s.messages, 0),
          delivered,
          lost: segs.reduce((p, s) => p + s.lost, 0),
          duplicates: segs.reduce((p, s) => p + s.duplicates, 0),
          nacked: segs.reduce((p, s) => p + s.nacked, 0),
          returned: segs.reduce((p, s) => p + s.returned, 0),
          cpuUsPerMsg: { cellgate: perMsg('cellgate'), relay: perMsg('relay'), broker: perMsg('broker'), client: perMsg('client') },
        },
      ]
    }),
  ) as Record<TargetName, { msgPerSec: number; vsDirect: number; messages: number; delivered: number; lost: number; duplicates: number; nacked: number; returned: number; cpuUsPerMsg: Record<'cellgate' | 'relay' | 'broker' | 'client', number | undefined> }>

  const goals: Record<string, { p50: Record<string, { ratio: number; met: boolean }>; throughput: { ratio: number; met: boolean } }> = {}
  for (const t of order) {
    if (t === 'direct') continue
    const p50: Record<string, { ratio: number; met: boolean }> = {}
    for (const c of opts.concurrency) {
      const rr = perRoundRatio(t, c, 'p50')
      p50[`c${c}`] = { ratio: rr, met: rr <= GOAL_P50 }
    }
    const tr = tpAgg[t]?.vsDirect ?? Number.NaN
    goals[t] = { p50, throughput: { ratio: tr, met: tr >= GOAL_TP } }
  }

  // ----- report -----
  const finishedAt = new Date()
  const yes = (b: boolean | undefined): string => (b === undefined ? '—' : b ? '**yes**' : '**NO**')
  const lines: string[] = []
  lines.push('### RPC call round trip (oslo-shaped call: request publish + confirm, server ack + reply publish + confirm, reply delivered)')
  lines.push('')
  lines.push('| target | callers | p50 ms | p99 ms | mean ms | calls/s | p50 ×direct (range) | p99 ×direct | p50 goal ≤1.15× | proxy CPU µs/call |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|')
  for (const c of opts.concurrency) {
    for (const t of order) {
      const a = rpcAgg[key(t, c)]
      if (!a) continue
      const cpu = t === 'cellgate' ? a.cpuUsPerCall.cellgate : t === 'relay' ? a.cpuUsPerCall.relay : undefined
      lines.push(
        `| ${t} | ${c} | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${fmt(a.mean, 3)} | ${fmt(a.callsPerSec, 0)} | ${t === 'direct' ? '1.00' : withRange(roundRatios(t, c, 'p50'))} | ${t === 'direct' ? '1.00' : fmt(perRoundRatio(t, c, 'p99'))} | ${t === 'direct' ? '—' : yes(goals[t]?.p50[`c${c}`]?.met)} | ${t === 'direct' ? '—' : fmt(cpu, 1)} |`,
      )
    }
  }
  lines.push('')
  lines.push(`### publish→deliver throughput (1 confirm-mode publisher, window ${opts.window}; 1 consumer, prefetch ${opts.prefetch}, ack each; ${bodySize} B bodies)`)
  lines.push('')
  lines.push('| target | msg/s | ×direct (range) | goal ≥0.9× | proxy CPU µs/msg | broker CPU µs/msg | bench client CPU µs/msg | lost | dup | nacked |')
  lines.push('|---|---:|---:|:---:|---:|---:|---:|---:|---:|---:|')
  for (const t of order) {
    const a = tpAgg[t]
    if (!a) continue
    const proxyCpu = t === 'cellgate' ? a.cpuUsPerMsg.cellgate : t === 'relay' ? a.cpuUsPerMsg.relay : undefined
    lines.push(
      `| ${t} | ${fmt(a.msgPerSec, 0)} | ${t === 'direct' ? '1.00' : withRange(tpRatios(t))} | ${t === 'direct' ? '—' : yes(goals[t]?.throughput.met)} | ${t === 'direct' ? '—' : fmt(proxyCpu, 1)} | ${fmt(a.cpuUsPerMsg.broker, 1)} | ${fmt(a.cpuUsPerMsg.client, 1)} | ${a.lost} | ${a.duplicates} | ${a.nacked} |`,
    )
  }
  lines.push('')
  const cg = goals['cellgate']
  if (cg) {
    const p50s = opts.concurrency.map((c) => `c=${c} ${fmt(cg.p50[`c${c}`]?.ratio)}× ${cg.p50[`c${c}`]?.met ? 'met' : 'MISSED'}`).join(', ')
    lines.push(
      `**cellgate vs goals:** p50 latency ≤ ${GOAL_P50}× direct: ${p50s}; throughput ≥ ${GOAL_TP}× direct: ${fmt(cg.throughput.ratio)}× ${cg.throughput.met ? 'met' : 'MISSED'}. ` +
        `CPU per forwarded message (publisher→cellgate→broker→cellgate→consumer, incl. confirm and ack): ${fmt(tpAgg.cellgate?.cpuUsPerMsg.cellgate, 1)} µs.`,
    )
    lines.push('')
  }
  if (anomalies.length) {
    lines.push('Anomalies:')
    for (const a of anomalies) lines.push(`- ${a}`)
    lines.push('')
  }
  const table = lines.join('\n')

  const header = [
    '## rpc-bench: cellgate vs RabbitMQ direct vs blind TCP relay',
    '',
    `- Date: ${startedAt.toISOString()} (took ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s)`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpuModel}), load average at start ${machine.loadavgAtStart.join(' / ')}, Node ${machine.node}, RabbitMQ ${machine.rabbitmq}; shared and noisy, so read the ratios, not the absolute numbers`,
    `- Command: \`${command}\``,
    `- Settings: ${opts.rounds} rounds, targets interleaved (order rotated per round); per round and target ${callsPerRound} measured calls per caller count (after ${opts.warmupCalls} warm-up calls per level once, and 20 per segment), ${msgsPerRound} throughput messages; ${opts.pool} SEND connections per RPC client and server. Figures are medians over rounds; ×direct ratios are medians of per-round ratios.`,
    `- Targets: ${[
      '**direct** = RabbitMQ',
      order.includes('relay') ? '**relay** = `bench/tcp-relay.ts` child process piping bytes (the floor of any userspace proxy)' : '',
      order.includes('cellgate') ? `**cellgate** = \`node ${opts.cellgateMain} serve\` child process, built-in default config` : '',
    ]
      .filter(Boolean)
      .join('; ')}. Proxy CPU = utime+stime from /proc/<pid>/stat; broker CPU = the beam.smp process (includes whatever else uses RabbitMQ meanwhile).`,
    '',
  ].join('\n')

  process.stdout.write(`\n${header}\n${table}\n`)

  mkdirSync(OUT_DIR, { recursive: true })
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    command,
    machine,
    options: opts,
    bodySize,
    goals,
    rpc: rpcAgg,
    throughput: tpAgg,
    anomalies,
    raw: { rpc, throughput: tp },
  }
  writeFileSync(join(OUT_DIR, 'rpc-bench.json'), JSON.stringify(json, null, 2) + '\n')
  progress(`wrote ${join('bench', 'out', 'rpc-bench.json')}`)
  if (opts.writeResults) {
    writeResultsSection('rpc-bench', `${header}\n${table}`)
    progress(`wrote bench/RESULTS.md`)
  }
}

async function main(opts: Opts, argv: readonly string[]): Promise<number> {
  if (!opts.targets.includes('direct')) progress('note: without the direct target there are no ratios')
  return runWithCleanup(
    () => run(opts, argv),
    () => cleanup(opts),
    progress,
    () => {
      interrupted = true
    },
  )
}

benchMain('rpc-bench', parseArgs, main)
