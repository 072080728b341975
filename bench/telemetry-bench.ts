/**
 * What telemetry costs: the same RPC round trip and publish→deliver throughput as rpc-bench,
 * through four cellgate processes that differ only in telemetry — off (no observer at all),
 * metrics only, tracing sampled at 1 %, tracing at 100 % — interleaved in rounds, as ratios to
 * "off" taken within each round (adjacent in time) and then the median.
 * Traces go by OTLP/HTTP to a sink in a process of its own (bench/telemetry-sink.ts: received and
 * dropped), so cellgate pays for the export, while the sink's CPU is charged neither to cellgate
 * nor to the load generator (it is reported on its own).
 *
 *   npm run build && node dist/bench/telemetry-bench.js [--quick] [--rounds N] [--no-write]
 *
 * Writes bench/RESULTS.md between the telemetry-bench markers and bench/out/telemetry-bench.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from 'amqplib'
import { RpcRig, ThroughputRig, type BenchNames } from './oslo-shape.js'
import { writeResultsSection } from './results-md.js'
import { runWithCleanup } from './run-main.js'
import { freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { fmt, median, summarize } from './stats.js'
import { startSink, type SinkCounts, type SinkProc } from './telemetry-sink-proc.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')

interface Mode {
  readonly name: 'off' | 'metrics' | 'trace 1%' | 'trace 100%'
  /** For --modes and file names. */
  readonly key: string
  readonly goal: number | undefined
  readonly off: boolean
  readonly sampleRatio: number | undefined
}

const MODES: readonly Mode[] = [
  { name: 'off', key: 'off', goal: undefined, off: true, sampleRatio: undefined },
  { name: 'metrics', key: 'metrics', goal: 0.03, off: false, sampleRatio: undefined },
  { name: 'trace 1%', key: 'trace1', goal: 0.05, off: false, sampleRatio: 0.01 },
  { name: 'trace 100%', key: 'trace100', goal: 0.2, off: false, sampleRatio: 1 },
]

interface Opts {
  rounds: number
  calls: number
  messages: number
  concurrency: number
  window: number
  /** Throughput messages through each cellgate before measuring. */
  warmup: number
  writeResults: boolean
  /** Which modes run (off always: it is the baseline). */
  modes: readonly Mode[]
  /** Each cellgate under --cpu-prof (profiles in bench/out/prof/telemetry-<mode>/). */
  prof: boolean
}

function parseArgs(argv: readonly string[]): Opts {
  const quick = argv.includes('--quick')
  const o: Opts = { rounds: quick ? 2 : 6, calls: quick ? 200 : 3000, messages: quick ? 4000 : 90_000, concurrency: 8, window: 256, warmup: 100_000, writeResults: true, modes: MODES, prof: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const n = (): number => {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a}: expected a positive integer`)
      return v
    }
    if (a === '--rounds') o.rounds = n()
    else if (a === '--calls') o.calls = n()
    else if (a === '--messages') o.messages = n()
    else if (a === '--concurrency') o.concurrency = n()
    else if (a === '--warmup') o.warmup = n()
    else if (a === '--no-write') o.writeResults = false
    else if (a === '--prof') {
      o.prof = true
      o.writeResults = false
    } else if (a === '--modes') {
      o.modes = modesOf(argv[++i])
      o.writeResults = false
    }
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE)
      process.exit(0)
    } else if (a !== '--quick') throw new Error(`unknown option ${a} (see --help)`)
  }
  return o
}

function modesOf(list: string | undefined): readonly Mode[] {
  const wanted = new Set((list ?? '').split(',').filter((x) => x !== ''))
  for (const w of wanted) if (!MODES.some((m) => m.key === w)) throw new Error(`--modes: unknown mode ${w} (${MODES.map((m) => m.key).join(', ')})`)
  // off is the baseline every ratio is taken against: always run.
  return MODES.filter((m) => m.off || wanted.has(m.key))
}

const USAGE = `Usage: npm run build && node dist/bench/telemetry-bench.js [options]

What telemetry costs: RPC round trips and publish->deliver throughput through four cellgates
that differ only in telemetry (off, metrics only, tracing at 1 %, tracing at 100 %), interleaved
in rounds, as ratios to "off". Needs RabbitMQ at 127.0.0.1:5672 (guest/guest). Writes
bench/RESULTS.md (telemetry-bench section) and bench/out/telemetry-bench.json.

Options:
  --rounds N        rounds, each running every mode (default 6; --quick 2)
  --calls N         RPC calls per mode over all rounds (default 3000; --quick 200)
  --messages N      throughput messages per mode over all rounds (default 90000; --quick 4000)
  --concurrency N   concurrent callers of the second RPC segment (default 8)
  --warmup N        throughput messages through each cellgate before measuring (default
                    100000: at 1 % the sampled path needs thousands of traces to get hot)
  --modes LIST      only these modes besides off: metrics,trace1,trace100 (implies --no-write)
  --prof            each cellgate under --cpu-prof, profiles in bench/out/prof/telemetry-<mode>/
                    (summarize with dist/bench/cpuprofile-top.js; implies --no-write)
  --quick           a smoke run
  --no-write        do not touch bench/RESULTS.md
  -h, --help        this text
`

const progress = (msg: string): void => {
  process.stderr.write(`[telemetry-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

interface Running {
  readonly mode: Mode
  readonly child: Child
  readonly rpc: RpcRig
  readonly tp: ThroughputRig
}

interface RoundFigures {
  c1p50: number
  ccp50: number
  ccp99: number
  msgPerSec: number
  cpuUsPerMsg: number | undefined
  cpuUsPerCall: number | undefined
}

const running: Running[] = []
const names: BenchNames[] = []
let sink: SinkProc | undefined

async function start(mode: Mode, run36: string, otlp: SinkProc, prof: boolean): Promise<Running> {
  const port = await freePort()
  const file = join(OUT_DIR, `telemetry-bench-${process.pid}-${mode.name.replace(/\W+/g, '')}.json`)
  const telemetry = {
    serviceName: `cellgate-bench-${mode.name.replace(/\W+/g, '')}`,
    tracing: mode.sampleRatio === undefined ? { exporter: 'none', sampleRatio: 0 } : { exporter: 'otlp-http', sampleRatio: mode.sampleRatio, endpoint: otlp.url(mode.key) },
    metrics: { prometheus: true, otlpIntervalMs: 15_000 },
  }
  writeFileSync(file, JSON.stringify({ listen: { amqp: { host: '127.0.0.1', port } }, admin: { enabled: false }, sql: { enabled: false }, log: { level: 'warn' }, telemetry }))
  const nodeArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', join(OUT_DIR, 'prof', `telemetry-${mode.key}`)] : []
  const child = spawnNode(`cellgate ${mode.name}`, ['dist/bench/telemetry-serve.js', '--config', file, ...(mode.off ? ['--off'] : [])], { cwd: ROOT, nodeArgs })
  await waitForPort(port, 15_000, () => child.alive())
  const target = { name: 'cellgate' as const, url: `amqp://guest:guest@127.0.0.1:${port}/` }
  const n: BenchNames = { prefix: `cgtel-${run36}-${mode.name.replace(/\W+/g, '')}`, exchange: `cgtel-${run36}-${mode.name.replace(/\W+/g, '')}-x` }
  names.push(n)
  const rpc = await RpcRig.open(target, n, 8)
  const tp = await ThroughputRig.open(target, n, 1024, 500)
  progress(`${mode.name}: cellgate pid ${child.pid} on :${port}`)
  return { mode, child, rpc, tp }
}

async function cleanup(): Promise<void> {
  for (const r of running) r.rpc.abort()
  await Promise.allSettled(running.flatMap((r) => [r.rpc.close(), r.tp.close()]))
  const queues = running.flatMap((r) => [...r.rpc.queues(), r.tp.queue])
  if (queues.length > 0) {
    const conn = await connect('amqp://guest:guest@127.0.0.1:5672/').catch(() => undefined)
    if (conn !== undefined) {
      const ch = await conn.createChannel()
      for (const q of queues) await ch.deleteQueue(q).catch(() => undefined)
      for (const n of names) await ch.deleteExchange(n.exchange).catch(() => undefined)
      await conn.close().catch(() => {})
    }
  }
  await Promise.allSettled(running.map((r) => r.child.stop()))
  await sink?.child.stop()
}

async function main(opts: Opts, argv: readonly string[]): Promise<void> {
  const startedAt = new Date()
  const load = loadavg().map((x) => Number(x.toFixed(2)))
  mkdirSync(OUT_DIR, { recursive: true })
  const otlp = await startSink(ROOT)
  sink = otlp
  const run36 = Date.now().toString(36)
  for (const m of opts.modes) running.push(await start(m, run36, otlp, opts.prof))

  const callsPerRound = Math.ceil(opts.calls / opts.rounds)
  const msgsPerRound = Math.ceil(opts.messages / opts.rounds)
  for (const r of running) {
    await r.rpc.run(200, 1)
    await r.rpc.run(200, opts.concurrency)
    // In slices: the warm-up may be long (see --warmup) and must show progress.
    for (let left = opts.warmup; left > 0; left -= 50_000) await r.tp.run(Math.min(50_000, left), opts.window, 120_000)
    progress(`${r.mode.name}: warmed up (${opts.warmup} throughput messages)`)
  }
  progress('warm-up done')
  const traced = opts.modes.filter((m) => m.sampleRatio !== undefined)
  const sinkStats = async (): Promise<Map<string, SinkCounts>> => new Map(await Promise.all(traced.map(async (m) => [m.key, await otlp.stats(m.key)] as const)))
  const sink0 = { counts: await sinkStats(), cpuMs: otlp.cpuMs() }
  // Spans the measured traffic makes when every message is traced: 4 per message, 8 per call.
  let spansIfAll = 0

  const figures = new Map<string, RoundFigures[]>(opts.modes.map((m) => [m.name, []]))
  const problems: string[] = []
  for (let round = 0; round < opts.rounds; round++) {
    const order = running.map((_, i) => running[(i + round) % running.length]!)
    for (const r of order) {
      await r.rpc.run(20, 1)
      const c1 = await r.rpc.run(callsPerRound, 1, 8000)
      const cpu0 = processCpuMs(r.child.pid)
      const cc = await r.rpc.run(callsPerRound, opts.concurrency, 8000)
      const cpu1 = processCpuMs(r.child.pid)
      const tp = await r.tp.run(msgsPerRound, opts.window, 20_000 + msgsPerRound)
      const cpu2 = processCpuMs(r.child.pid)
      if (c1.errors + cc.errors > 0) problems.push(`round ${round + 1} ${r.mode.name}: ${c1.errors + cc.errors} failed calls`)
      if (tp.lost + tp.duplicates + tp.nacked > 0) problems.push(`round ${round + 1} ${r.mode.name}: lost ${tp.lost}, dup ${tp.duplicates}, nacked ${tp.nacked}`)
      const f: RoundFigures = {
        c1p50: summarize(c1.latencies).p50,
        ccp50: summarize(cc.latencies).p50,
        ccp99: summarize(cc.latencies).p99,
        msgPerSec: tp.msgPerSec,
        cpuUsPerCall: cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / Math.max(1, cc.latencies.length) : undefined,
        cpuUsPerMsg: cpu1 !== undefined && cpu2 !== undefined ? ((cpu2 - cpu1) * 1000) / Math.max(1, tp.delivered) : undefined,
      }
      figures.get(r.mode.name)!.push(f)
      if (r.mode.off) spansIfAll += 4 * tp.delivered + 8 * (20 + c1.latencies.length + cc.latencies.length)
      progress(`round ${round + 1}/${opts.rounds} ${r.mode.name.padEnd(10)} ${fmt(f.msgPerSec, 0)} msg/s  ${fmt(f.cpuUsPerMsg, 1)} µs/msg  call p50 c=1 ${fmt(f.c1p50, 3)} ms  c=${opts.concurrency} ${fmt(f.ccp50, 3)} ms`)
    }
  }

  // Ratios within a round (adjacent in time), then the median over rounds.
  const base = figures.get('off')!
  const perRound = (name: string, pick: (f: RoundFigures) => number | undefined): number[] =>
    figures.get(name)!.flatMap((f, i) => {
      const a = pick(f)
      const b = pick(base[i]!)
      return a !== undefined && b !== undefined && b > 0 ? [a / b] : []
    })
  const rows = opts.modes.map((m) => {
    const fs = figures.get(m.name)!
    const med = (pick: (f: RoundFigures) => number | undefined): number | undefined => {
      const xs = fs.map(pick).filter((x): x is number => x !== undefined)
      return xs.length ? median(xs) : undefined
    }
    const tpRatio = median(perRound(m.name, (f) => f.msgPerSec))
    const cpuRatio = median(perRound(m.name, (f) => f.cpuUsPerMsg))
    return {
      mode: m.name,
      goal: m.goal,
      msgPerSec: med((f) => f.msgPerSec),
      tpRatio,
      tpRange: [Math.min(...perRound(m.name, (f) => f.msgPerSec)), Math.max(...perRound(m.name, (f) => f.msgPerSec))],
      cpuUsPerMsg: med((f) => f.cpuUsPerMsg),
      cpuRatio,
      cpuRange: [Math.min(...perRound(m.name, (f) => f.cpuUsPerMsg)), Math.max(...perRound(m.name, (f) => f.cpuUsPerMsg))],
      cpuUsPerCall: med((f) => f.cpuUsPerCall),
      callCpuRatio: median(perRound(m.name, (f) => f.cpuUsPerCall)),
      c1p50: med((f) => f.c1p50),
      c1Ratio: median(perRound(m.name, (f) => f.c1p50)),
      ccp50: med((f) => f.ccp50),
      ccRatio: median(perRound(m.name, (f) => f.ccp50)),
      ccp99: med((f) => f.ccp99),
    }
  })

  // The batch processor exports at most every 5 s: let it send what the last round left.
  if (traced.length > 0) await new Promise((r) => setTimeout(r, 6000))
  const sink1 = { counts: await sinkStats(), cpuMs: otlp.cpuMs() }
  const sinkCpuS = sink0.cpuMs !== undefined && sink1.cpuMs !== undefined ? ((sink1.cpuMs - sink0.cpuMs) / 1000).toFixed(1) : '—'
  const exported = traced.map((m) => {
    const a = sink0.counts.get(m.key)!
    const b = sink1.counts.get(m.key)!
    const spans = b.spans - a.spans
    const expected = spansIfAll * m.sampleRatio!
    return `${m.name}: ${b.posts - a.posts} POSTs, ${((b.bytes - a.bytes) / 1e6).toFixed(1)} MB, ${spans} spans (${(spans / expected).toFixed(2)} × the ${Math.round(expected)} expected at ratio ${m.sampleRatio})`
  })
  const command = `node dist/bench/telemetry-bench.js${argv.length ? ` ${argv.join(' ')}` : ''}`
  const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`)
  const verdict = (cost: number | undefined, goal: number | undefined): string => (goal === undefined || cost === undefined ? '—' : cost <= goal ? 'yes' : '**NO**')
  const lines = [
    '## telemetry-bench: the cost of metrics and tracing',
    '',
    `- Date: ${startedAt.toISOString()} (took ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)`,
    `- Machine: ${cpus().length} CPUs, load average at start ${load.join(' / ')}, Node ${process.version}; shared and noisy, so read the ratios, not the absolute numbers`,
    `- Command: \`npm run build && ${command}\``,
    `- Settings: ${opts.rounds} rounds, the four cellgates interleaved (order rotated per round); per round and mode ${callsPerRound} calls at 1 caller, ${callsPerRound} at ${opts.concurrency} callers, ${msgsPerRound} throughput messages (1 KiB, confirm window ${opts.window}), after a warm-up of ${opts.warmup} throughput messages and 400 calls per cellgate. Ratios to **off** are taken per round, then the median (range in brackets).`,
    `- Tracing exports by OTLP/HTTP (batch processor) to a sink in a process of its own (bench/telemetry-sink.ts), whose CPU counts neither as cellgate's nor as the load generator's (${sinkCpuS} s while measuring). Received while measuring: ${exported.join('; ') || 'nothing (no tracing mode)'}.`,
    '- Modes: **off** = no observer (NO_OBSERVER, the pre-telemetry path); **metrics** = telemetry on, tracing none (the default); **trace 1%** / **trace 100%** = ParentBased(TraceIdRatioBased(p)), OTLP/HTTP export.',
    '- Cost = how much worse than off: throughput lost (1 − ratio) and cellgate CPU per message added (ratio − 1).',
    '',
    '| mode | msg/s | throughput ×off (range) | throughput cost | cellgate CPU µs/msg | CPU/msg cost (range) | CPU µs/call (c=' + opts.concurrency + ') | call p50 c=1 ms (×off) | call p50 c=' + opts.concurrency + ' ms (×off) | p99 c=' + opts.concurrency + ' ms | goal | met (throughput) | met (CPU) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|',
    ...rows.map((r) => {
      const tpCost = r.mode === 'off' ? undefined : 1 - r.tpRatio
      const cpuCost = r.mode === 'off' ? undefined : r.cpuRatio - 1
      return `| ${r.mode} | ${fmt(r.msgPerSec, 0)} | ${fmt(r.tpRatio, 3)} (${fmt(r.tpRange[0], 2)}–${fmt(r.tpRange[1], 2)}) | ${pct(tpCost)} | ${fmt(r.cpuUsPerMsg, 1)} | ${pct(cpuCost)}${r.mode === 'off' ? '' : ` (${pct(r.cpuRange[0]! - 1)}…${pct(r.cpuRange[1]! - 1)})`} | ${fmt(r.cpuUsPerCall, 0)} | ${fmt(r.c1p50, 3)} (${fmt(r.c1Ratio, 2)}) | ${fmt(r.ccp50, 3)} (${fmt(r.ccRatio, 2)}) | ${fmt(r.ccp99, 3)} | ${r.goal === undefined ? '—' : `≤ ${r.goal * 100}%`} | ${verdict(tpCost, r.goal)} | ${verdict(cpuCost, r.goal)} |`
    }),
    '',
    problems.length ? `Problems: ${problems.join('; ')}` : 'No call failed; no message lost, duplicated or nacked.',
  ]
  const section = lines.join('\n')
  process.stdout.write(`${section}\n`)
  writeFileSync(join(OUT_DIR, 'telemetry-bench.json'), JSON.stringify({ startedAt, load, opts, rows, figures: Object.fromEntries(figures), problems }, null, 2) + '\n')
  if (opts.writeResults) {
    writeResultsSection('telemetry-bench', section)
    progress('bench/RESULTS.md updated')
  }
}

const argv = process.argv.slice(2)
const opts = ((): Opts => {
  try {
    return parseArgs(argv)
  } catch (err) {
    process.stderr.write(`telemetry-bench: ${(err as Error).message}\n`)
    process.exit(2)
  }
})()
process.exitCode = await runWithCleanup(() => main(opts, argv), cleanup, progress)
