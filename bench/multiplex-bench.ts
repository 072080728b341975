/**
 * Connection multiplexing (issue 3 item 5): the same simulated deployment (N nova-compute-like
 * nodes plus controllers, oslo-shaped connections and load) runs once against RabbitMQ directly
 * and once through cellgate with three cells as vhosts of the same RabbitMQ; the broker's own
 * listings say how many connections each needed. Goal: direct ÷ cellgate ≥ 10×.
 *
 *   npm run bench:multiplex                       # 200 nodes, 30 s per target
 *   node dist/bench/multiplex-bench.js --help
 *
 * Every vhost the run creates is deleted at the end (also on Ctrl-C and errors), with everything
 * in it; cellgate is a child process with a generated config file.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { execFileSync } from 'node:child_process'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { addVhost, channelsPerVhost, deleteVhost, listConnections, listQueues, processRss, socketBudget } from './multiplex-broker.js'
import { writeResultsSection } from './results-md.js'
import { connectionRatio, GOAL_RATIO, resultTable, type BrokerView, type PhaseResult, type TargetName } from './multiplex-report.js'
import { conductorHost, Deployment, nodeHost, plannedConnections, type SimOptions } from './multiplex-sim.js'
import { benchMain, runWithCleanup } from './run-main.js'
import { findBrokerPid, freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { fmt, summarize } from './stats.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')
const CELLS = 3
/** Sockets left to everyone else using the shared RabbitMQ while the direct phase runs. */
const SOCKET_MARGIN = 40

interface Opts extends SimOptions {
  seconds: number
  targets: TargetName[]
  placement: 'mapping' | 'rendezvous'
  cellgateConns: number | undefined
  /** cellgate entry point (absolute), e.g. a build of a given commit when the tree is mid-change. */
  cellgateMain: string
  /** Free text recorded next to the cellgate entry (e.g. which commit it was built from). */
  cellgateNote: string
  rabbitHost: string
  rabbitPort: number
  writeResults: boolean
}

const HELP = `Usage: node dist/bench/multiplex-bench.js [options]   (or: npm run bench:multiplex -- [options])

Simulates N nova-compute-like nodes plus conductors, a scheduler and an API process, connected
as oslo.messaging connects (LISTEN + reply + SEND pool per process), first directly to RabbitMQ
(one vhost made for the run), then through cellgate with ${CELLS} cells as vhosts of the same RabbitMQ.
Counts the connections, channels and queues RabbitMQ itself lists for each, checks every call,
cast and fanout (lost / duplicated / misrouted), and reports direct ÷ cellgate broker connections
(goal >= ${GOAL_RATIO}x). Results: stdout, bench/out/multiplex-bench.json, bench/RESULTS.md.

Options:
  --nodes N              simulated compute nodes (default 200)
  --seconds S            load duration per target (default 30)
  --interval S           seconds between a node's calls to conductor (default 2)
  --send-pool A[-B]      SEND connections per node, spread over A..B (default 1-2; see README)
  --conductors N         conductor processes, one per cell in the cellgate run (default ${CELLS})
  --casts-per-sec R      API casts to random compute.<host> per second (default 2)
  --sched-fanout S       seconds between scheduler fanouts (default 3)
  --compute-fanout S     seconds between fanouts to every compute (default 10; 0 = none)
  --call-timeout S       RPC call timeout (default 20)
  --open-concurrency N   processes started in parallel (default 8)
  --placement P          cellgate: "mapping" (hosts spread over the cells in mapping.hosts, default)
                         or "rendezvous" (only conductors mapped; nodes placed by rendezvous hashing)
  --cellgate-conns N     cellgate upstream.connectionsPerCell (default: cellgate's own default)
  --cellgate-main FILE   cellgate entry point to run (default dist/cli/main.js)
  --cellgate-note TEXT   recorded with the results next to the entry point (e.g. the commit it was built from)
  --targets L            direct,cellgate (default both; the ratio needs both)
  --rabbit HOST:PORT     RabbitMQ (default 127.0.0.1:5672, guest/guest; rabbitmqctl must reach it)
  --no-write             do not touch bench/RESULTS.md (the JSON is still written)
  -h, --help             this text
`

function parseArgs(argv: readonly string[]): Opts {
  const o: Opts = {
    nodes: 200,
    sendPool: [1, 2],
    conductors: CELLS,
    intervalMs: 2000,
    castsPerSec: 2,
    schedFanoutMs: 3000,
    computeFanoutMs: 10_000,
    callTimeoutMs: 20_000,
    openConcurrency: 8,
    seconds: 30,
    targets: ['direct', 'cellgate'],
    placement: 'mapping',
    cellgateConns: undefined,
    cellgateMain: join(ROOT, 'dist', 'cli', 'main.js'),
    cellgateNote: '',
    rabbitHost: '127.0.0.1',
    rabbitPort: 5672,
    writeResults: true,
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number >= ${min}, got ${v}`)
    return n
  }
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = num(name, v, min)
    if (!Number.isInteger(n)) throw new Error(`${name}: expected an integer, got ${v}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string | undefined => argv[++i]
    switch (a) {
      case '--nodes': o.nodes = int(a, v(), 1); break
      case '--seconds': o.seconds = num(a, v(), 1); break
      case '--interval': o.intervalMs = num(a, v(), 0.05) * 1000; break
      case '--send-pool': {
        const [lo, hi] = (v() ?? '').split('-')
        const min = int(a, lo, 1)
        const max = hi === undefined ? min : int(a, hi, min)
        o.sendPool = [min, max]
        break
      }
      case '--conductors': o.conductors = int(a, v(), 1); break
      case '--casts-per-sec': o.castsPerSec = num(a, v(), 0); break
      case '--sched-fanout': o.schedFanoutMs = num(a, v(), 0) * 1000; break
      case '--compute-fanout': o.computeFanoutMs = num(a, v(), 0) * 1000; break
      case '--call-timeout': o.callTimeoutMs = num(a, v(), 1) * 1000; break
      case '--open-concurrency': o.openConcurrency = int(a, v(), 1); break
      case '--placement': {
        const p = v()
        if (p !== 'mapping' && p !== 'rendezvous') throw new Error(`--placement: mapping or rendezvous, got ${p}`)
        o.placement = p
        break
      }
      case '--cellgate-conns': o.cellgateConns = int(a, v(), 1); break
      case '--cellgate-main': o.cellgateMain = resolve(v() ?? ''); break
      case '--cellgate-note': o.cellgateNote = v() ?? ''; break
      case '--targets': {
        const ts = (v() ?? '').split(',').map((s) => s.trim())
        for (const t of ts) if (t !== 'direct' && t !== 'cellgate') throw new Error(`--targets: unknown target ${t}`)
        o.targets = ts as TargetName[]
        break
      }
      case '--rabbit': {
        const hp = v() ?? ''
        const c = hp.lastIndexOf(':')
        o.rabbitHost = c > 0 ? hp.slice(0, c) : hp
        o.rabbitPort = c > 0 ? int(a, hp.slice(c + 1), 1) : 5672
        break
      }
      case '--no-write': o.writeResults = false; break
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break
      default: throw new Error(`unknown option ${a} (see --help)`)
    }
  }
  return o
}

function gitHead(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const progress = (msg: string): void => {
  process.stderr.write(`[multiplex ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

// ---------------------------------------------------------------------------------------------
// What must be undone, whatever happens.

const created = { vhosts: [] as string[], configFile: undefined as string | undefined }
let deployment: Deployment | undefined
let cellgate: Child | undefined
let cleaning: Promise<void> | undefined
let interrupted = false

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(t))
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    // After Ctrl-C cellgate got SIGINT too (same process group): closes through it may never settle.
    if (deployment) await withTimeout(deployment.close(), interrupted ? 3_000 : 30_000)
    deployment = undefined
    await cellgate?.stop()
    cellgate = undefined
    for (const v of created.vhosts.splice(0)) {
      await deleteVhost(v).then(
        () => progress(`cleanup: deleted vhost ${v}`),
        (err: unknown) => progress(`cleanup: could not delete vhost ${v}: ${err instanceof Error ? err.message : String(err)}`),
      )
    }
    if (created.configFile) rmSync(created.configFile, { force: true })
  })()
  return cleaning
}

// ---------------------------------------------------------------------------------------------

function cellgateConfig(o: Opts, port: number, cellVhosts: readonly string[]): Record<string, unknown> {
  const hosts: Record<string, string> = {}
  // Conductors are cell conductors: one per cell, so every cell's anycast `conductor` has a consumer.
  for (let k = 0; k < o.conductors; k++) hosts[conductorHost(k)] = `cell${(k % CELLS) + 1}`
  if (o.placement === 'mapping') for (let i = 0; i < o.nodes; i++) hosts[nodeHost(i)] = `cell${(i % CELLS) + 1}`
  return {
    listen: { amqp: { host: '127.0.0.1', port } },
    cells: cellVhosts.map((v, k) => ({ name: `cell${k + 1}`, rabbit: `amqp://guest:guest@${o.rabbitHost}:${o.rabbitPort}/${encodeURIComponent(v)}` })),
    vhosts: [{ name: '/' }],
    users: [{ name: 'guest', password: 'guest', vhosts: ['*'] }],
    ...(o.cellgateConns !== undefined ? { upstream: { connectionsPerCell: o.cellgateConns } } : {}),
    mapping: { hosts },
    admin: { enabled: false },
    log: { level: 'warn', format: 'text' },
  }
}

async function brokerView(vhosts: readonly string[]): Promise<BrokerView> {
  const inRun = new Set(vhosts)
  const conns = (await listConnections()).filter((c) => inRun.has(c.vhost))
  const chans = await channelsPerVhost()
  const view: BrokerView = {
    connections: conns.length,
    connectionsByVhost: {},
    namedCellgate: conns.filter((c) => /^cellgate:\d+:/u.test(c.clientName)).length,
    channels: 0,
    channelsByVhost: {},
    maxChannelsPerConnection: conns.reduce((m, c) => Math.max(m, c.channels), 0),
    queuesByVhost: {},
    consumers: 0,
    messagesLeft: 0,
  }
  for (const v of vhosts) {
    view.connectionsByVhost[v] = conns.filter((c) => c.vhost === v).length
    view.channelsByVhost[v] = chans.get(v) ?? 0
    view.channels += chans.get(v) ?? 0
    const qs = await listQueues(v)
    view.queuesByVhost[v] = qs.length
    for (const q of qs) {
      view.consumers += q.consumers
      view.messagesLeft += q.messages
    }
  }
  return view
}

async function phase(o: Opts, target: TargetName, vhosts: readonly string[], brokerPid: number | undefined): Promise<PhaseResult> {
  let url = `amqp://guest:guest@${o.rabbitHost}:${o.rabbitPort}/${encodeURIComponent(vhosts[0]!)}`
  const output: string[] = []
  let outputLines = 0
  if (target === 'cellgate') {
    const port = await freePort()
    mkdirSync(OUT_DIR, { recursive: true })
    created.configFile = join(OUT_DIR, `multiplex-cellgate-${process.pid}.json`)
    writeFileSync(created.configFile, JSON.stringify(cellgateConfig(o, port, vhosts), null, 2))
    cellgate = spawnNode('cellgate', [o.cellgateMain, 'serve', '--config', created.configFile], {
      cwd: ROOT,
      onLine: (line) => {
        outputLines++
        if (output.length < 30) output.push(line)
      },
    })
    try {
      await waitForPort(port, 15_000, () => cellgate!.alive())
    } catch (err) {
      throw new Error(`cellgate did not start: ${(err as Error).message}\n${cellgate.tail()}`)
    }
    url = `amqp://guest:guest@127.0.0.1:${port}/`
    progress(`cellgate pid ${cellgate.pid} on :${port}, cells ${vhosts.join(', ')}`)
  }
  const cgPid = cellgate?.pid
  const cpu0 = processCpuMs(cgPid)
  deployment = new Deployment(url, o)
  const dep = deployment
  const t0 = Date.now()
  progress(`${target}: starting ${o.nodes} nodes + ${o.conductors} conductors, scheduler, api`)
  await dep.start((opened) => progress(`${target}: ${opened} connections open`))
  const setupMs = Date.now() - t0
  progress(`${target}: ${dep.tally.connectionsOpened} connections open in ${fmt(setupMs / 1000, 1)} s; load for ${o.seconds} s`)

  const cpu1 = processCpuMs(cgPid)
  const broker1 = processCpuMs(brokerPid)
  const l0 = Date.now()
  dep.startLoad()
  const ticker = setInterval(() => {
    const t = dep.tally
    const s = summarize(t.latencies)
    progress(
      `${target}: t=${Math.round((Date.now() - l0) / 1000)}/${o.seconds}s calls ${t.latencies.length} ok, ${t.timeouts} timeouts, ${dep.callsInFlight} in flight, p50 ${fmt(s.p50)} ms p99 ${fmt(s.p99)} ms, dropped conns ${t.connectionsDropped}`,
    )
  }, 5000)
  await new Promise((r) => setTimeout(r, o.seconds * 1000))
  clearInterval(ticker)
  const loadMs = Date.now() - l0
  const cpu2 = processCpuMs(cgPid)
  const broker2 = processCpuMs(brokerPid)
  await dep.stopLoad()
  // Casts and fanouts confirmed just before the stop may still be on their way to consumers.
  await new Promise((r) => setTimeout(r, 1500))
  progress(`${target}: load stopped; asking RabbitMQ what it sees`)
  const broker = await brokerView(vhosts)
  const rss = processRss(cgPid)
  const tally = dep.tally.summary(o.nodes, dep.loadStart)
  const result: PhaseResult = {
    target,
    vhosts: [...vhosts],
    setupMs,
    loadMs,
    tally,
    broker,
    brokerCpuMs: broker1 !== undefined && broker2 !== undefined ? broker2 - broker1 : undefined,
    ...(target === 'cellgate'
      ? {
          cellgate: {
            pid: cgPid,
            rssMiB: rss?.rssMiB,
            peakRssMiB: rss?.hwmMiB,
            cpuMsLoad: cpu1 !== undefined && cpu2 !== undefined ? cpu2 - cpu1 : undefined,
            cpuMsSetup: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
            output,
            outputLines,
          },
        }
      : {}),
  }
  progress(`${target}: broker sees ${broker.connections} connections, ${broker.channels} channels; closing`)
  await dep.close()
  deployment = undefined
  await cellgate?.stop()
  cellgate = undefined
  return result
}

async function run(o: Opts, argv: readonly string[]): Promise<void> {
  const startedAt = new Date()
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
  }
  const command =
    process.env['npm_lifecycle_event'] === 'bench:multiplex'
      ? `npm run bench:multiplex${argv.length ? ` -- ${argv.join(' ')}` : ''}`
      : `node dist/bench/multiplex-bench.js${argv.length ? ` ${argv.join(' ')}` : ''}`
  progress(`${command}: nproc ${machine.nproc}, load ${machine.loadavgAtStart.join(' ')}`)

  const planned = plannedConnections(o)
  const budget = await socketBudget()
  if (o.targets.includes('direct') && budget !== undefined && planned > budget.limit - budget.used - SOCKET_MARGIN) {
    throw new Error(
      `the direct run needs ${planned} connections but RabbitMQ allows ${budget.limit} sockets (${budget.used} in use, ${SOCKET_MARGIN} kept for others); ` +
        'use fewer --nodes or a smaller --send-pool, or raise the broker\'s open-files limit',
    )
  }
  const run36 = Date.now().toString(36)
  const vhostsOf: Record<TargetName, string[]> = {
    direct: [`cgmux-${run36}-direct`],
    cellgate: Array.from({ length: CELLS }, (_, k) => `cgmux-${run36}-cell${k + 1}`),
  }
  const shortVhost = (v: string): string => v.replace(`cgmux-${run36}-`, '')
  const brokerPid = findBrokerPid()
  const phases: PhaseResult[] = []
  for (const t of o.targets) {
    if (interrupted) throw new Error('interrupted')
    for (const v of vhostsOf[t]) {
      await addVhost(v)
      created.vhosts.push(v)
    }
    phases.push(await phase(o, t, vhostsOf[t], brokerPid))
    // Drop this target's vhosts now: the next target should not share the broker with leftovers.
    for (const v of vhostsOf[t]) {
      await deleteVhost(v)
      created.vhosts.splice(created.vhosts.indexOf(v), 1)
    }
  }
  const finishedAt = new Date()
  const ratio = connectionRatio(phases)
  const met = ratio >= GOAL_RATIO
  const anomalies: string[] = []
  for (const p of phases) {
    const t = p.tally
    const bad = [
      t.calls.timeouts && `${t.calls.timeouts} call timeouts`,
      t.calls.failed && `${t.calls.failed} failed call publishes`,
      t.casts.lost + t.computeFanouts.lost + t.schedulerFanouts.lost && `${t.casts.lost + t.computeFanouts.lost + t.schedulerFanouts.lost} lost deliveries`,
      t.casts.duplicated + t.computeFanouts.duplicated + t.schedulerFanouts.duplicated && `${t.casts.duplicated + t.computeFanouts.duplicated + t.schedulerFanouts.duplicated} duplicated deliveries`,
      t.casts.misrouted && `${t.casts.misrouted} misrouted casts`,
      t.calls.duplicateRequests && `${t.calls.duplicateRequests} requests served twice`,
      t.calls.duplicateReplies && `${t.calls.duplicateReplies} duplicate replies`,
      t.calls.lateReplies && `${t.calls.lateReplies} late replies`,
      t.connectionsDropped && `${t.connectionsDropped} connections dropped`,
      t.channelErrors && `${t.channelErrors} channel errors`,
      t.returned && `${t.returned} basic.return`,
      t.nacked && `${t.nacked} nacks`,
      t.strays && `${t.strays} stray deliveries`,
      t.calls.skippedTicks && `${t.calls.skippedTicks} call ticks skipped (previous call still out)`,
    ].filter(Boolean)
    if (bad.length) anomalies.push(`${p.target}: ${bad.join(', ')}`)
    for (const e of t.errorSamples) anomalies.push(`${p.target}: error: ${e}`)
    if (p.cellgate && p.cellgate.outputLines > 0) {
      anomalies.push(`cellgate wrote ${p.cellgate.outputLines} log lines at warn level; first ones:`)
      for (const l of p.cellgate.output.slice(0, 10)) anomalies.push(`  \`${l.slice(0, 300).replace(/`/gu, "'")}\``)
    }
    if (p.target === 'cellgate' && p.broker.namedCellgate !== p.broker.connections) {
      anomalies.push(`cellgate: ${p.broker.connections - p.broker.namedCellgate} broker connections in the cell vhosts are not named cellgate:<pid>:…`)
    }
  }

  const direct = phases.find((p) => p.target === 'direct')
  const cg = phases.find((p) => p.target === 'cellgate')
  const verdict =
    direct && cg
      ? `**Goal ≥ ${GOAL_RATIO}× fewer broker connections: ${met ? 'MET' : 'NOT MET'}** — RabbitMQ listed ${direct.broker.connections} connections for the load direct and ${cg.broker.connections} through cellgate (${CELLS} cells): **${fmt(ratio, 1)}×** fewer; channels ${direct.broker.channels} vs ${cg.broker.channels}.`
      : 'Ratio not computed (run both targets).'
  const settings = [
    `${o.nodes} nodes (nova-compute-like: LISTEN compute/compute.<host>/compute_fanout_<hex>, reply connection, SEND pool of ${o.sendPool[0]}–${o.sendPool[1]} connections spread over the nodes)`,
    `${o.conductors} conductors (LISTEN + 2 SEND), 1 scheduler (LISTEN + 1 SEND), 1 API process (2 SEND)`,
    `each node calls \`conductor\` every ${o.intervalMs / 1000} s (random phase; timeout ${o.callTimeoutMs / 1000} s)`,
    `API casts to a random \`compute.<host>\` ${o.castsPerSec}/s and fans out to every compute every ${o.computeFanoutMs / 1000} s; a random node fans out to the scheduler every ${o.schedFanoutMs / 1000} s`,
    `${o.seconds} s of load per target, targets one after the other`,
    `direct: one vhost; cellgate: ${CELLS} cells as vhosts of the same RabbitMQ, hosts placed by ${o.placement === 'mapping' ? '`mapping.hosts` (node i → cell (i mod 3)+1, conductor k → cell k)' : 'rendezvous (only conductors mapped)'}, upstream.connectionsPerCell ${o.cellgateConns ?? 'default (4)'}`,
  ]
  const section = [
    `## multiplex-bench: broker connections, ${o.nodes}-node oslo-shaped load direct vs through cellgate`,
    '',
    `- Date: ${startedAt.toISOString()} (took ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s)`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpuModel}), load average at start ${machine.loadavgAtStart.join(' / ')}, Node ${machine.node}; RabbitMQ socket limit ${budget ? `${budget.limit} (${budget.used} in use at start)` : 'unknown'}`,
    `- Command: \`${command}\``,
    `- cellgate: \`${relative(ROOT, o.cellgateMain).startsWith('..') ? o.cellgateMain : relative(ROOT, o.cellgateMain)}\`${o.cellgateMain === join(ROOT, 'dist', 'cli', 'main.js') ? ` (built from the working tree, HEAD ${gitHead()})` : ''}${o.cellgateNote ? ` — ${o.cellgateNote}` : ''}`,
    `- Settings: ${settings.join('; ')}.`,
    '- Broker figures are RabbitMQ\'s own (`rabbitmqctl list_connections` / `list_channels` / `list_queues`, only the run\'s vhosts), taken after the load with every client still connected.',
    '',
    resultTable(phases, shortVhost),
    '',
    verdict,
    '',
    ...phases.map((p) => `Call p99 per 5 s of load, ms (${p.target}): ${p.tally.calls.latencyBy5s.map((b) => fmt(b.p99, 1)).join(', ')}.`),
    '',
    ...(anomalies.length ? ['Anomalies:', ...anomalies.map((a) => (a.startsWith('  ') ? `  ${a.trim()}` : `- ${a}`)), ''] : ['No anomalies: nothing lost, duplicated or misrouted, no timeouts, no errors.', '']),
  ].join('\n')

  process.stdout.write(`\n${section}\n`)
  mkdirSync(OUT_DIR, { recursive: true })
  const json = { startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), command, machine, socketBudget: budget, options: o, ratio, goalMet: met, phases, anomalies }
  writeFileSync(join(OUT_DIR, 'multiplex-bench.json'), `${JSON.stringify(json, null, 2)}\n`)
  progress('wrote bench/out/multiplex-bench.json')
  if (o.writeResults) {
    writeResultsSection('multiplex-bench', section)
    progress('wrote bench/RESULTS.md')
  }
}

async function main(o: Opts, argv: readonly string[]): Promise<number> {
  return runWithCleanup(
    () => run(o, argv),
    () => cleanup(),
    progress,
    () => {
      interrupted = true
    },
  )
}

benchMain('multiplex-bench', parseArgs, main)
