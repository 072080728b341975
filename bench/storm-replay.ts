/**
 * Replays one storm trace against several configurations in one run, one after the other, each
 * with brokers and vhosts made for it and removed after it (also on Ctrl-C and errors): RabbitMQ
 * directly, and cellgate over 1, 2, 4... cells. Reports per message kind and the brokers' own
 * view; writes JSON and a self-contained HTML report.
 *
 *   npm run bench:storm -- --nodes 200 --seconds 30
 *   node dist/bench/storm-replay.js --nodes 1000 --seconds 60 --brokers private --configs direct,cellgate:4
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processRss, socketBudget } from './multiplex-broker.js'
import { benchMain, runWithCleanup } from './run-main.js'
import { freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { writeResultsSection } from './results-md.js'
import { closeAllBrokers, provisionBrokers, sumRss, type BrokerMode, type ConfigBrokers } from './storm-brokers.js'
import { brokerViewOf, stormCellgateConfig } from './storm-cells.js'
import { judgeGoals } from './storm-goals.js'
import { stormHtml } from './storm-html.js'
import { generateNovaTrace } from './storm-nova.js'
import { kindTable, summaryTable, type StormTarget, type TargetResult } from './storm-report.js'
import { stormResultsSection, type StormRun } from './storm-results.js'
import { herdWindows, plannedStormConnections, StormReplay, type ReplayOptions } from './storm-run.js'
import { loadTrace, validateTrace, type StormTrace } from './storm-trace.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')
/** Sockets left to everyone else on the shared RabbitMQ (as multiplex-bench). */
const SOCKET_MARGIN = 40

/** One configuration: direct, or cellgate over `cells` cells. */
export interface StormConfig {
  name: string
  target: StormTarget
  cells: number
}

interface Opts extends Omit<ReplayOptions, 'url'> {
  trace: string | undefined
  nodes: number
  seconds: number
  seed: number
  configs: StormConfig[]
  brokers: BrokerMode
  nofile: number
  cellgateMain: string
  rabbitHost: string
  rabbitPort: number
  out: string | undefined
  html: string | undefined
  writeResults: boolean
  render: string | undefined
}

/** `direct`, `cellgate:K` (or `cellsK`), `cellgate` (= --cells). */
export function parseConfigs(list: string, defaultCells: number): StormConfig[] {
  const out: StormConfig[] = []
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    let c: StormConfig
    if (raw === 'direct') c = { name: 'direct', target: 'direct', cells: 1 }
    else {
      const m = /^(?:cellgate(?::(\d+))?|cells(\d+))$/u.exec(raw)
      if (m === null) throw new Error(`--configs: direct, cellgate, cellgate:K or cellsK, got ${raw}`)
      const k = Number(m[1] ?? m[2] ?? defaultCells)
      if (!Number.isInteger(k) || k < 1 || k > 16) throw new Error(`--configs: ${raw}: 1 to 16 cells`)
      c = { name: `cellgate-${k}`, target: 'cellgate', cells: k }
    }
    if (out.some((x) => x.name === c.name)) throw new Error(`--configs: ${c.name} given twice`)
    out.push(c)
  }
  if (out.length === 0) throw new Error('--configs: empty')
  return out
}

const HELP = `Usage: node dist/bench/storm-replay.js [options]   (or: npm run bench:storm -- [options])

Replays one storm trace (schemas/storm-trace.schema.json) with simulated oslo.messaging processes
(N nova-compute nodes, conductors, a scheduler, an API process, a notification listener) on real
AMQP connections, against each configuration in turn: RabbitMQ directly, and cellgate over K
cells. Reports per message kind: count, p50/p95/p99/max latency, timeouts, lost, duplicated,
throughput; the brokers' connections/channels/queues; CPU and RSS of cellgate and the brokers;
the issue's goals met or not. Writes JSON and a self-contained HTML report with latency plots.

Options:
  --trace FILE           trace to replay (default: generate one with --nodes/--seconds/--seed)
  --nodes N              nodes of the generated trace (default 50)
  --seconds S            length of the generated trace (default 20)
  --seed K               seed of the generated trace (default 1)
  --configs L            configurations, in order (default direct,cellgate:1,cellgate:2,cellgate:4);
                         direct, cellgate:K (K cells), cellgate (= --cells)
  --target L             the same as --configs
  --cells N              cells of a plain "cellgate" in --configs (default 3)
  --brokers M            where the brokers are (default shared):
                           shared   vhosts of the RabbitMQ at --rabbit (its socket limit applies)
                           private  a fresh private RabbitMQ node per configuration, cells as vhosts
                           nodes    a fresh private node per cell (direct: one node)
  --nofile N             ulimit -n of private nodes (default 20000; sockets are ~90% of it)
  --conductors N         conductor processes (default: the most cells of any configuration)
  --send-pool A[-B]      SEND connections per node, spread over A..B (default 1-2)
  --call-timeout S       call timeout when the trace gives none (default 60)
  --drain S              after the storm, wait at most S for calls still out (default 15)
  --open-concurrency N   processes connecting in parallel at start (default 8)
  --cellgate-main FILE   cellgate entry point (default dist/cli/main.js)
  --rabbit HOST:PORT     RabbitMQ (default 127.0.0.1:5672, guest/guest; rabbitmqctl must reach it)
  --out FILE             JSON results (default bench/out/storm-replay-<nodes>n.json)
  --html FILE            HTML report (default: the JSON's name with .html)
  --write-results        replace this node count's section of bench/RESULTS.md
  --render FILE          run nothing: write the HTML report (and with --write-results the
                         RESULTS.md section) of an earlier run's JSON
  -h, --help             this text
`

function parseArgs(argv: readonly string[]): Opts {
  const o: Opts = {
    trace: undefined, nodes: 50, seconds: 20, seed: 1, configs: [], brokers: 'shared', nofile: 20_000, conductors: 0,
    sendPool: [1, 2], callTimeoutMs: 60_000, drainMs: 15_000, openConcurrency: 8,
    cellgateMain: join(ROOT, 'dist', 'cli', 'main.js'), rabbitHost: '127.0.0.1', rabbitPort: 5672, out: undefined, html: undefined, writeResults: false, render: undefined,
  }
  let configs = 'direct,cellgate:1,cellgate:2,cellgate:4'
  let cells = 3
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
      case '--configs': case '--target': case '--targets': configs = v() ?? ''; break
      case '--cells': cells = Math.floor(num(a, v(), 1)); break
      case '--brokers': {
        const m = v()
        if (m !== 'shared' && m !== 'private' && m !== 'nodes') throw new Error(`${a}: shared, private or nodes, got ${m}`)
        o.brokers = m
        break
      }
      case '--nofile': o.nofile = Math.floor(num(a, v(), 1024)); break
      case '--html': o.html = v(); break
      case '--write-results': o.writeResults = true; break
      case '--render': o.render = v(); break
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
  o.configs = parseConfigs(configs, cells)
  if (o.conductors === 0) o.conductors = Math.max(...o.configs.map((c) => c.cells))
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
const created = { configFile: undefined as string | undefined }
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
  await closeAllBrokers()
  if (created.configFile) rmSync(created.configFile, { force: true })
  created.configFile = undefined
}

function cleanup(): Promise<void> {
  cleaning ??= undo()
  return cleaning
}

const cpuOf = (pids: readonly (number | undefined)[]): number | undefined => {
  let total = 0
  for (const p of pids) {
    const ms = processCpuMs(p)
    if (ms === undefined) return undefined
    total += ms
  }
  return total
}

async function runConfig(o: Opts, trace: StormTrace, cfg: StormConfig, run36: string): Promise<TargetResult> {
  const brokers: ConfigBrokers = await provisionBrokers({ mode: o.brokers, host: o.rabbitHost, port: o.rabbitPort, nofile: o.nofile }, `cgstorm-${run36}`, cfg.name, cfg.cells, progress)
  const pids = brokers.nodes.map((n) => n.pid)
  let url = brokers.cells[0]!.url
  try {
    if (cfg.target === 'cellgate') {
      const port = await freePort()
      mkdirSync(OUT_DIR, { recursive: true })
      created.configFile = join(OUT_DIR, `storm-cellgate-${process.pid}.json`)
      writeFileSync(created.configFile, JSON.stringify(stormCellgateConfig(trace, { port, conductors: o.conductors, cellUrls: brokers.cells.map((c) => c.url) }), null, 2))
      cellgate = spawnNode('cellgate', [o.cellgateMain, 'serve', '--config', created.configFile], { cwd: ROOT })
      await waitForPort(port, 15_000, () => cellgate!.alive()).catch((err: unknown) => {
        throw new Error(`cellgate did not start: ${String(err)}\n${cellgate?.tail() ?? ''}`)
      })
      url = `amqp://guest:guest@127.0.0.1:${port}/`
    }
    const r = new StormReplay(trace, { ...o, url })
    replay = r
    const t0 = Date.now()
    const stop = progressBar(cfg.name, r, t0)
    try {
      await r.start()
      const cg0 = processCpuMs(cellgate?.pid)
      const b0 = cpuOf(pids)
      const me0 = process.cpuUsage()
      await r.run()
      const me = process.cpuUsage(me0)
      const cg1 = processCpuMs(cellgate?.pid)
      const b1 = cpuOf(pids)
      stop()
      progress(`${cfg.name}: storm done; asking RabbitMQ what it sees`)
      const broker = await brokerViewOf(brokers.cells)
      const cgRss = processRss(cellgate?.pid)
      return {
        config: cfg.name,
        target: cfg.target,
        cells: cfg.cells,
        vhosts: brokers.cells.map((c) => c.vhost),
        replay: r.result(),
        // The simulator's own CPU: one event loop runs every simulated process; near 1000 ms per
        // second of storm it is saturated and latencies measure the simulator, not the bus.
        simulator: { cpuMsStorm: Math.round((me.user + me.system) / 1000) },
        broker,
        ...(cfg.target === 'cellgate' ? { cellgate: { pid: cellgate?.pid, cpuMsStorm: cg0 !== undefined && cg1 !== undefined ? cg1 - cg0 : undefined, rssMiB: cgRss?.rssMiB, peakRssMiB: cgRss?.hwmMiB } } : {}),
        rabbit: { mode: brokers.mode, nodes: brokers.nodes.map((n) => n.name), pids, bootS: brokers.bootS, cpuMsStorm: b0 !== undefined && b1 !== undefined ? b1 - b0 : undefined, rssMiB: sumRss(pids), idleRssMiB: brokers.idleRssMiB },
      }
    } finally {
      stop()
      await r.close()
      replay = undefined
    }
  } finally {
    await cellgate?.stop()
    cellgate = undefined
    if (created.configFile) rmSync(created.configFile, { force: true })
    created.configFile = undefined
    await brokers.close()
  }
}

async function run(o: Opts, argv: readonly string[], trace: StormTrace): Promise<void> {
  const h = trace.header
  const planned = plannedStormConnections(trace, o)
  const hasDirect = o.configs.some((c) => c.target === 'direct')
  const budget = o.brokers === 'shared' ? await socketBudget() : undefined
  if (hasDirect && budget !== undefined && planned > budget.limit - budget.used - SOCKET_MARGIN) {
    throw new Error(`the direct run needs ${planned} connections but RabbitMQ allows ${budget.limit} sockets (${budget.used} in use, ${SOCKET_MARGIN} kept for others); use --brokers private (a private node with ulimit -n ${o.nofile}), fewer nodes or a smaller --send-pool`)
  }
  if (hasDirect && o.brokers !== 'shared' && planned > o.nofile * 0.9 - SOCKET_MARGIN) {
    throw new Error(`the direct run needs ${planned} connections but a private node with ulimit -n ${o.nofile} allows about ${Math.floor(o.nofile * 0.9)} sockets; raise --nofile`)
  }
  progress(`${h.nodes} nodes, ${h.durationMs / 1000} s, ${trace.rules.length} rules + ${trace.events.length} events; ${planned} client connections per configuration; ${o.configs.map((c) => c.name).join(', ')} on ${o.brokers} brokers`)
  const run36 = Date.now().toString(36)
  const startedAt = new Date()
  const results: TargetResult[] = []
  // The whole run is bounded: setup, storm, drain and cleanup of every configuration.
  const budgetMs = o.configs.length * (240_000 + h.durationMs + o.drainMs + h.nodes * 60)
  let watchdog: NodeJS.Timeout | undefined
  const overrun = new Promise<never>((_, reject) => (watchdog = setTimeout(() => reject(new Error(`run exceeded ${budgetMs / 1000} s`)), budgetMs)))
  try {
    for (const c of o.configs) results.push(await Promise.race([runConfig(o, trace, c, run36), overrun]))
  } finally {
    clearTimeout(watchdog)
  }
  const machine = { nproc: cpus().length, loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))), node: process.version }
  const doc: StormRun = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), argv: [...argv], machine, socketBudget: budget, header: h, options: { ...o, configs: o.configs }, herds: herdWindows(trace), results, goals: judgeGoals(results, h.nodes) }
  const text = [
    `storm replay: ${h.nodes} nodes, ${h.durationMs / 1000} s (${h.generator}, seed ${h.seed}); ${o.configs.map((c) => c.name).join(', ')} on ${o.brokers} brokers`,
    '',
    kindTable(results),
    '',
    'Latencies: calls publish → final reply, one-way kinds publish → delivery, herd: reconnect time per node. Steady: messages started outside [herd − 1 s, herd + down + spread + 3 s).',
    '',
    summaryTable(results),
    '',
    'Client connections count the herd\'s reconnects.',
    '',
    ...doc.goals.map((g) => `goal: ${g.goal}: ${g.measured}: ${g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met'}`),
    '',
  ].join('\n')
  process.stdout.write(`\n${text}\n`)
  const out = o.out ?? join(OUT_DIR, `storm-replay-${h.nodes}n.json`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`)
  progress(`wrote ${out}`)
  const html = o.html ?? out.replace(/\.json$/u, '') + '.html'
  writeFileSync(html, stormHtml(doc))
  progress(`wrote ${html}`)
  if (o.writeResults) {
    writeResultsSection(`storm-bench-${h.nodes}n`, stormResultsSection(doc))
    progress(`wrote the storm-bench-${h.nodes}n section of bench/RESULTS.md`)
  }
}

/** Writes the HTML report (and the RESULTS.md section) of a run's JSON again. */
function render(o: Opts, file: string): number {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as StormRun
  doc.goals = judgeGoals(doc.results, doc.header.nodes)
  const html = o.html ?? file.replace(/\.json$/u, '') + '.html'
  writeFileSync(html, stormHtml(doc))
  progress(`wrote ${html}`)
  if (o.writeResults) {
    writeResultsSection(`storm-bench-${doc.header.nodes}n`, stormResultsSection(doc))
    progress(`wrote the storm-bench-${doc.header.nodes}n section of bench/RESULTS.md`)
  }
  return 0
}

async function main(o: Opts, argv: readonly string[]): Promise<number> {
  if (o.render !== undefined) return render(o, o.render)
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

// Imported by tests for parseConfigs: only the entry runs.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) benchMain('storm-replay', parseArgs, main)
