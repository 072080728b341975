/**
 * Replays a storm trace against RabbitMQ directly and/or through cellgate, one target after the
 * other, each in vhosts made for the run (cells = vhosts of the local RabbitMQ) and deleted after
 * it, also on Ctrl-C and errors. Reports per message kind and the broker's own view.
 *
 *   npm run bench:storm -- --nodes 200 --seconds 30 --target direct,cellgate
 *   node dist/bench/storm-replay.js --trace bench/out/storm-trace.json --target cellgate --cells 3
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { addVhost, deleteVhost, processRss, socketBudget } from './multiplex-broker.js'
import { benchMain, runWithCleanup } from './run-main.js'
import { findBrokerPid, freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { brokerViewOf, stormCellgateConfig } from './storm-cells.js'
import { generateNovaTrace } from './storm-nova.js'
import { kindTable, summaryTable, type StormTarget, type TargetResult } from './storm-report.js'
import { plannedStormConnections, StormReplay, type ReplayOptions } from './storm-run.js'
import { loadTrace, validateTrace, type StormTrace } from './storm-trace.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')
/** Sockets left to everyone else on the shared RabbitMQ (as multiplex-bench). */
const SOCKET_MARGIN = 40

interface Opts extends Omit<ReplayOptions, 'url'> {
  trace: string | undefined
  nodes: number
  seconds: number
  seed: number
  targets: StormTarget[]
  cells: number
  cellgateMain: string
  rabbitHost: string
  rabbitPort: number
  out: string | undefined
}

const HELP = `Usage: node dist/bench/storm-replay.js [options]   (or: npm run bench:storm -- [options])

Replays a storm trace (schemas/storm-trace.schema.json) with simulated oslo.messaging processes
(N nova-compute nodes, conductors, a scheduler, an API process, a notification listener) on real
AMQP connections, against RabbitMQ directly and/or through cellgate with --cells cells as vhosts.
Reports per message kind: count, p50/p95/p99/max latency, timeouts, lost, duplicated, throughput;
RabbitMQ's connections/channels/queues; CPU and RSS of cellgate and RabbitMQ.

Options:
  --trace FILE           trace to replay (default: generate one with --nodes/--seconds/--seed)
  --nodes N              nodes of the generated trace (default 50)
  --seconds S            length of the generated trace (default 20)
  --seed K               seed of the generated trace (default 1)
  --target L             direct, cellgate or direct,cellgate (default direct,cellgate)
  --cells N              cells (vhosts) behind cellgate (default 3)
  --conductors N         conductor processes (default: --cells; one per cell)
  --send-pool A[-B]      SEND connections per node, spread over A..B (default 1-2)
  --call-timeout S       call timeout when the trace gives none (default 60)
  --drain S              after the storm, wait at most S for calls still out (default 15)
  --open-concurrency N   processes connecting in parallel at start (default 8)
  --cellgate-main FILE   cellgate entry point (default dist/cli/main.js)
  --rabbit HOST:PORT     RabbitMQ (default 127.0.0.1:5672, guest/guest; rabbitmqctl must reach it)
  --out FILE             JSON results (default bench/out/storm-replay-<nodes>n.json)
  -h, --help             this text
`

function parseArgs(argv: readonly string[]): Opts {
  const o: Opts = {
    trace: undefined, nodes: 50, seconds: 20, seed: 1, targets: ['direct', 'cellgate'], cells: 3, conductors: 0,
    sendPool: [1, 2], callTimeoutMs: 60_000, drainMs: 15_000, openConcurrency: 8,
    cellgateMain: join(ROOT, 'dist', 'cli', 'main.js'), rabbitHost: '127.0.0.1', rabbitPort: 5672, out: undefined,
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got ${v}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string | undefined => argv[++i]
    switch (a) {
      case '--trace': o.trace = v(); break
      case '--nodes': o.nodes = Math.floor(num(a, v(), 1)); break
      case '--seconds': o.seconds = num(a, v(), 1); break
      case '--seed': o.seed = Math.floor(num(a, v(), 0)); break
      case '--target': case '--targets': {
        const ts = (v() ?? '').split(',').map((s) => s.trim())
        for (const t of ts) if (t !== 'direct' && t !== 'cellgate') throw new Error(`${a}: direct or cellgate, got ${t}`)
        o.targets = ts as StormTarget[]
        break
      }
      case '--cells': o.cells = Math.floor(num(a, v(), 1)); break
      case '--conductors': o.conductors = Math.floor(num(a, v(), 1)); break
      case '--send-pool': {
        const [lo, hi] = (v() ?? '').split('-')
        const min = Math.floor(num(a, lo, 1))
        o.sendPool = [min, hi === undefined ? min : Math.floor(num(a, hi, min))]
        break
      }
      case '--call-timeout': o.callTimeoutMs = num(a, v(), 1) * 1000; break
      case '--drain': o.drainMs = num(a, v(), 0) * 1000; break
      case '--open-concurrency': o.openConcurrency = Math.floor(num(a, v(), 1)); break
      case '--cellgate-main': o.cellgateMain = resolve(v() ?? ''); break
      case '--rabbit': {
        const hp = v() ?? ''
        const c = hp.lastIndexOf(':')
        o.rabbitHost = c > 0 ? hp.slice(0, c) : hp
        o.rabbitPort = c > 0 ? Math.floor(num(a, hp.slice(c + 1), 1)) : 5672
        break
      }
      case '--out': o.out = v(); break
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break
      default: throw new Error(`unknown option ${a} (see --help)`)
    }
  }
  if (o.conductors === 0) o.conductors = o.cells
  return o
}

const isTty = process.stderr.isTTY === true
const progress = (msg: string): void => {
  process.stderr.write(`${isTty ? '\r\x1b[K' : ''}[storm ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

/** One line redrawn in place on a terminal; a plain line every 5 s otherwise (CI logs). */
function progressBar(target: string, replay: StormReplay, t0: number): () => void {
  let lastPlain = 0
  const timer = setInterval(() => {
    const p = replay.progress()
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0
    const width = 30
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.')
    const line = `[storm] ${target} ${p.phase.padEnd(7)} [${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ${p.done}/${p.total} calls out ${p.callsOut} errors ${p.errors} t=${((Date.now() - t0) / 1000).toFixed(0)}s`
    if (isTty) process.stderr.write(`\r\x1b[K${line}`)
    else if (Date.now() - lastPlain >= 5000) {
      lastPlain = Date.now()
      process.stderr.write(`${line}\n`)
    }
  }, 250)
  return () => {
    clearInterval(timer)
    if (isTty) process.stderr.write('\r\x1b[K')
  }
}

// What must be undone whatever happens.
const created = { vhosts: [] as string[], configFile: undefined as string | undefined }
let replay: StormReplay | undefined
let cellgate: Child | undefined
let cleaning: Promise<void> | undefined

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(t))
}

async function undo(): Promise<void> {
  if (replay) await withTimeout(replay.close(), 20_000)
  replay = undefined
  await cellgate?.stop()
  cellgate = undefined
  for (const v of created.vhosts.splice(0)) await deleteVhost(v).catch((err: unknown) => progress(`cleanup: could not delete vhost ${v}: ${String(err)}`))
  if (created.configFile) rmSync(created.configFile, { force: true })
  created.configFile = undefined
}

function cleanup(): Promise<void> {
  cleaning ??= undo()
  return cleaning
}

async function runTarget(o: Opts, trace: StormTrace, target: StormTarget, run36: string, brokerPid: number | undefined): Promise<TargetResult> {
  const vhosts = target === 'direct' ? [`cgstorm-${run36}-direct`] : Array.from({ length: o.cells }, (_, k) => `cgstorm-${run36}-cell${k + 1}`)
  for (const v of vhosts) {
    await addVhost(v)
    created.vhosts.push(v)
  }
  let url = `amqp://guest:guest@${o.rabbitHost}:${o.rabbitPort}/${encodeURIComponent(vhosts[0]!)}`
  if (target === 'cellgate') {
    const port = await freePort()
    mkdirSync(OUT_DIR, { recursive: true })
    created.configFile = join(OUT_DIR, `storm-cellgate-${process.pid}.json`)
    writeFileSync(created.configFile, JSON.stringify(stormCellgateConfig(trace, { port, conductors: o.conductors, cellUrls: vhosts.map((v) => `amqp://guest:guest@${o.rabbitHost}:${o.rabbitPort}/${encodeURIComponent(v)}`) }), null, 2))
    cellgate = spawnNode('cellgate', [o.cellgateMain, 'serve', '--config', created.configFile], { cwd: ROOT })
    await waitForPort(port, 15_000, () => cellgate!.alive()).catch((err: unknown) => {
      throw new Error(`cellgate did not start: ${String(err)}\n${cellgate?.tail() ?? ''}`)
    })
    url = `amqp://guest:guest@127.0.0.1:${port}/`
  }
  const r = new StormReplay(trace, { ...o, url })
  replay = r
  const t0 = Date.now()
  const stop = progressBar(target, r, t0)
  try {
    await r.start()
    const cg0 = processCpuMs(cellgate?.pid)
    const b0 = processCpuMs(brokerPid)
    await r.run()
    const cg1 = processCpuMs(cellgate?.pid)
    const b1 = processCpuMs(brokerPid)
    stop()
    progress(`${target}: storm done; asking RabbitMQ what it sees`)
    const broker = await brokerViewOf(vhosts)
    const cgRss = processRss(cellgate?.pid)
    const res: TargetResult = {
      target,
      vhosts,
      replay: r.result(),
      broker,
      ...(target === 'cellgate' ? { cellgate: { pid: cellgate?.pid, cpuMsStorm: cg0 !== undefined && cg1 !== undefined ? cg1 - cg0 : undefined, rssMiB: cgRss?.rssMiB, peakRssMiB: cgRss?.hwmMiB } } : {}),
      rabbit: { pid: brokerPid, cpuMsStorm: b0 !== undefined && b1 !== undefined ? b1 - b0 : undefined, rssMiB: processRss(brokerPid)?.rssMiB },
    }
    return res
  } finally {
    stop()
    await r.close()
    replay = undefined
    await cellgate?.stop()
    cellgate = undefined
    for (const v of vhosts) {
      await deleteVhost(v).catch(() => {})
      created.vhosts.splice(created.vhosts.indexOf(v), 1)
    }
  }
}

async function run(o: Opts, argv: readonly string[], trace: StormTrace): Promise<void> {
  const h = trace.header
  const planned = plannedStormConnections(trace, o)
  const budget = await socketBudget()
  if (o.targets.includes('direct') && budget !== undefined && planned > budget.limit - budget.used - SOCKET_MARGIN) {
    throw new Error(`the direct run needs ${planned} connections but RabbitMQ allows ${budget.limit} sockets (${budget.used} in use, ${SOCKET_MARGIN} kept for others); use fewer nodes or a smaller --send-pool`)
  }
  progress(`${h.nodes} nodes, ${h.durationMs / 1000} s, ${trace.rules.length} rules + ${trace.events.length} events; ${planned} client connections per target; targets ${o.targets.join(', ')}`)
  const run36 = Date.now().toString(36)
  const brokerPid = findBrokerPid()
  const startedAt = new Date()
  const results: TargetResult[] = []
  // The whole run is bounded: setup, storm, drain and cleanup of every target.
  const budgetMs = o.targets.length * (180_000 + h.durationMs + o.drainMs)
  let watchdog: NodeJS.Timeout | undefined
  const overrun = new Promise<never>((_, reject) => (watchdog = setTimeout(() => reject(new Error(`run exceeded ${budgetMs / 1000} s`)), budgetMs)))
  try {
    for (const t of o.targets) results.push(await Promise.race([runTarget(o, trace, t, run36, brokerPid), overrun]))
  } finally {
    clearTimeout(watchdog)
  }
  const direct = results.find((r) => r.target === 'direct')
  const cg = results.find((r) => r.target === 'cellgate')
  const ratio = direct && cg && cg.broker.connections > 0 ? `; RabbitMQ connections direct ÷ cellgate: ${direct.broker.connections} ÷ ${cg.broker.connections} = ${(direct.broker.connections / cg.broker.connections).toFixed(1)}×` : ''
  const text = [
    `storm replay: ${h.nodes} nodes, ${h.durationMs / 1000} s (${h.generator}, seed ${h.seed}), cellgate over ${o.cells} cells`,
    '',
    kindTable(results),
    '',
    'Latencies: calls publish → final reply, one-way kinds publish → delivery, herd: reconnect time per node. Steady: messages started outside [herd − 1 s, herd + down + spread + 3 s).',
    '',
    summaryTable(results),
    '',
    `Client connections count the herd's reconnects${ratio}.`,
    '',
  ].join('\n')
  process.stdout.write(`\n${text}\n`)
  const out = o.out ?? join(OUT_DIR, `storm-replay-${h.nodes}n.json`)
  mkdirSync(dirname(out), { recursive: true })
  const machine = { nproc: cpus().length, loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))), node: process.version }
  writeFileSync(out, `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), argv, machine, socketBudget: budget, header: h, options: o, results }, null, 2)}\n`)
  progress(`wrote ${out}`)
}

async function main(o: Opts, argv: readonly string[]): Promise<number> {
  let trace: StormTrace
  try {
    trace = o.trace !== undefined ? loadTrace(o.trace) : validateTrace(generateNovaTrace({ nodes: o.nodes, seconds: o.seconds, seed: o.seed, note: 'generated by storm-replay' }))
  } catch (err) {
    // A bad trace is the user's to fix: the field, not a stack.
    process.stderr.write(`storm-replay: ${o.trace ?? 'generated trace'}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 2
  }
  return runWithCleanup(() => run(o, argv, trace), cleanup, progress)
}

benchMain('storm-replay', parseArgs, main)
