/**
 * SQL front end: point SELECT / INSERT latency (p50/p99) and QPS through cellgate vs MariaDB
 * direct, a scatter query over 3 shards vs one database, and router CPU per cached statement.
 *
 *   npm run bench:sql                # build, then run with the defaults (~1 min)
 *   npm run bench:sql -- --quick     # smoke run
 *   node dist/bench/sql-bench.js --help
 *
 * Targets: **direct** = MariaDB, one plain database; **relay** = the same database through a blind
 * TCP relay (bench/tcp-relay.ts: parses nothing, so it is what any proxy process costs here: two
 * more socket hops and a process to schedule); **schema** = cellgate in schema mode routing that
 * database's name to it; **shard** = cellgate in shard mode over 3 shard databases (the rows
 * spread by uuid). cellgate and the relay run as child processes so their CPU can be read from
 * /proc/<pid>/stat.
 * Rounds interleave the targets (order rotated per round); ratios against direct are taken within
 * a round, then the median over rounds. Writes bench/RESULTS.md (the sql-bench section) and
 * bench/out/sql-bench.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { hostPortArg, intArg, intListArg } from './cli-opts.js'
import { writeResultsSection } from './results-md.js'
import { benchMain, runWithCleanup } from './run-main.js'
import { freePort, processCpuMs, spawnNode, waitForPort, type Child } from './procs.js'
import { measureRouterCpu, type RouterCpuRow } from './sql-router-cpu.js'
import { newUuid, pointInsert, pointSelect, SCATTER_COUNT, SCATTER_PAGE, SqlRig, TABLE_DDL, type ConnSpec, type SegmentResult } from './sql-workload.js'
import { fmt, median, ratio, summarize, type LatencySummary } from './stats.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = join(ROOT, 'bench', 'out')
const GOAL_P50 = 1.3
const GOAL_ROUTER_US = 20
const SHARDS = 3
const USER = { user: 'bench', password: 'bench-secret' }

type TargetName = 'direct' | 'relay' | 'schema' | 'shard'
const TARGETS: readonly TargetName[] = ['direct', 'relay', 'schema', 'shard']
type Scenario = 'select' | 'insert' | 'scatter-page' | 'scatter-count'

interface Opts {
  queries: number
  scatterQueries: number
  rounds: number
  concurrency: number[]
  rows: number
  routerIterations: number
  mysqlHost: string
  mysqlPort: number
  mysqlUser: string
  mysqlPassword: string
  cellgateMain: string
  writeResults: boolean
  cellgateProf: boolean
}

const HELP = `Usage: node dist/bench/sql-bench.js [options]   (or: npm run bench:sql -- [options])

Point SELECT and INSERT latency (p50/p99) and QPS through cellgate (schema mode and shard mode
over ${SHARDS} shards) and through a blind TCP relay vs MariaDB direct, interleaved in rounds; a scatter query (ORDER BY/LIMIT
page and COUNT) over the shards vs one database; router CPU per cached statement in process and
cellgate process CPU per statement. Results to stdout, bench/RESULTS.md, bench/out/sql-bench.json.

Options:
  --queries N          point statements per target, scenario and concurrency, over all rounds (default 6000)
  --scatter-queries N  scatter statements per target and query, over all rounds (default 600)
  --rounds N           rounds (default 5)
  --concurrency L      comma-separated client connections per target (default 1,8)
  --rows N             rows seeded in the table (default 3000)
  --router-iter N      iterations of the in-process router measurement (default 200000)
  --mysql HOST:PORT    MariaDB (default 127.0.0.1:3306)
  --mysql-user U       MariaDB account for setup and cellgate's backends (default root)
  --mysql-password P   its password (default empty)
  --cellgate-main F    cellgate entry point to spawn (default dist/cli/main.js)
  --quick              small numbers for a smoke run
  --no-write           do not touch bench/RESULTS.md (the JSON copy is still written)
  --cellgate-prof      run cellgate under --cpu-prof (profiles in bench/out/prof/); implies --no-write
  -h, --help           this text
`

function parseArgs(argv: readonly string[]): Opts {
  const quick = argv.includes('--quick')
  const o: Opts = {
    queries: quick ? 600 : 6000,
    scatterQueries: quick ? 60 : 600,
    rounds: quick ? 2 : 5,
    concurrency: [1, 8],
    rows: quick ? 600 : 3000,
    routerIterations: quick ? 20_000 : 200_000,
    mysqlHost: '127.0.0.1',
    mysqlPort: 3306,
    mysqlUser: 'root',
    mysqlPassword: '',
    cellgateMain: 'dist/cli/main.js',
    writeResults: true,
    cellgateProf: false,
  }
  const int = intArg
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = (): string | undefined => argv[++i]
    switch (a) {
      case '--queries': o.queries = int(a, v()); break
      case '--scatter-queries': o.scatterQueries = int(a, v()); break
      case '--rounds': o.rounds = int(a, v()); break
      case '--rows': o.rows = int(a, v(), 30); break
      case '--router-iter': o.routerIterations = int(a, v(), 1000); break
      case '--concurrency': o.concurrency = intListArg(a, v()); break
      case '--mysql': {
        const hp = hostPortArg(a, v(), 3306)
        o.mysqlHost = hp.host
        o.mysqlPort = hp.port
        break
      }
      case '--mysql-user': o.mysqlUser = v() ?? ''; break
      case '--mysql-password': o.mysqlPassword = v() ?? ''; break
      case '--cellgate-main': o.cellgateMain = v() ?? o.cellgateMain; break
      case '--quick': break
      case '--no-write': o.writeResults = false; break
      case '--cellgate-prof': o.cellgateProf = true; o.writeResults = false; break
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break
      default: throw new Error(`unknown option ${a} (see --help)`)
    }
  }
  return o
}

const progress = (msg: string): void => {
  process.stderr.write(`[sql-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

interface Segment {
  round: number
  summary: LatencySummary
  qps: number
  errors: number
  /** The proxy's CPU (cellgate's, or the relay's; utime+stime) during the segment, µs per statement; undefined for direct. */
  cellgateUs: number | undefined
}

// ---- process state, cleaned up once ----

let cellgate: Child | undefined
let relayChild: Child | undefined
let admin: mysql.Connection | undefined
const rigs = new Map<TargetName, SqlRig>()
const createdDbs: string[] = []
let cleaning: Promise<void> | undefined

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled([...rigs.values()].map((r) => r.close()))
    await Promise.allSettled([cellgate?.stop(), relayChild?.stop()])
    if (admin) {
      for (const db of createdDbs) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {})
      if (createdDbs.length) progress(`cleanup: dropped ${createdDbs.length} databases`)
      await admin.end().catch(() => {})
    }
  })()
  return cleaning
}

const rotate = <T>(xs: readonly T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]!)

async function startCellgate(opts: Opts, plain: string, logical: string, shardDbs: string[]): Promise<number> {
  const sqlPort = await freePort()
  const amqpPort = await freePort()
  const backend = `mysql://${encodeURIComponent(opts.mysqlUser)}:${encodeURIComponent(opts.mysqlPassword)}@${opts.mysqlHost}:${opts.mysqlPort}/`
  mkdirSync(OUT_DIR, { recursive: true })
  const configFile = join(OUT_DIR, `cellgate-sql-bench-${process.pid}.json`)
  writeFileSync(
    configFile,
    JSON.stringify({
      admin: { enabled: false },
      sql: {
        enabled: true,
        host: '127.0.0.1',
        port: sqlPort,
        defaultBackend: backend,
        databases: { [plain]: `${backend}${plain}` },
        users: [{ name: USER.user, password: USER.password }],
        shardMode: { database: logical, shards: shardDbs.map((db, i) => ({ name: `s${i}`, url: `${backend}${db}` })) },
      },
    }),
  )
  const nodeArgs = opts.cellgateProf ? ['--cpu-prof', '--cpu-prof-dir', join(OUT_DIR, 'prof')] : []
  cellgate = spawnNode('cellgate', [opts.cellgateMain, 'serve', '--config', configFile, '--amqp-port', String(amqpPort), '--log-level', 'warn'], { cwd: ROOT, nodeArgs })
  try {
    await waitForPort(sqlPort, 15_000, () => cellgate!.alive())
  } catch (err) {
    throw new Error(`cellgate did not start: ${(err as Error).message}\n${cellgate.tail()}`)
  }
  progress(`cellgate pid ${cellgate.pid}, SQL on :${sqlPort}${opts.cellgateProf ? ' (--cpu-prof)' : ''}`)
  return sqlPort
}

async function run(opts: Opts, argv: readonly string[]): Promise<void> {
  const startedAt = new Date()
  const command =
    process.env['npm_lifecycle_event'] === 'bench:sql'
      ? `npm run bench:sql${argv.length ? ` -- ${argv.join(' ')}` : ''}`
      : `node dist/bench/sql-bench.js${argv.length ? ` ${argv.join(' ')}` : ''}`
  const machine = { nproc: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))), node: process.version, mariadb: 'unknown' }
  progress(`${command}: nproc ${machine.nproc}, load ${machine.loadavgAtStart.join(' ')}`)

  // ---- router CPU in process first, on a quiet process (no sockets yet) ----
  progress(`router CPU: ${opts.routerIterations} iterations per statement kind`)
  const router: RouterCpuRow[] = measureRouterCpu(opts.routerIterations)
  for (const r of router) progress(`  ${r.statement}: classify ${fmt(r.classifyUs)} µs, digest ${fmt(r.digestUs)} µs, cached plan ${fmt(r.cachedUs)} µs, uncached ${fmt(r.uncachedUs)} µs`)

  // ---- databases ----
  const mysqlConn = { host: opts.mysqlHost, port: opts.mysqlPort, user: opts.mysqlUser, password: opts.mysqlPassword }
  admin = await mysql.createConnection({ ...mysqlConn, multipleStatements: true })
  const [[ver]] = (await admin.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]]
  machine.mariadb = ver?.v ?? 'unknown'
  const stem = `cgbench_sql_${Date.now().toString(36)}`
  const plain = `${stem}_plain`
  const logical = `${stem}_nova`
  const shardDbs = Array.from({ length: SHARDS }, (_, i) => `${stem}_s${i}`)
  for (const db of [plain, ...shardDbs]) {
    await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`)
    createdDbs.push(db)
  }
  await admin.query(`USE \`${plain}\`; ${TABLE_DDL}`)

  const sqlPort = await startCellgate(opts, plain, logical, shardDbs)
  const relayPort = await freePort()
  relayChild = spawnNode('relay', ['dist/bench/tcp-relay.js', '--port', String(relayPort), '--target', `${opts.mysqlHost}:${opts.mysqlPort}`], { cwd: ROOT })
  await waitForPort(relayPort, 10_000, () => relayChild!.alive())
  progress(`relay pid ${relayChild.pid} on :${relayPort}`)
  const maxC = Math.max(...opts.concurrency)
  const specs: Record<TargetName, ConnSpec> = {
    direct: { ...mysqlConn, database: plain },
    relay: { ...mysqlConn, host: '127.0.0.1', port: relayPort, database: plain },
    schema: { host: '127.0.0.1', port: sqlPort, ...USER, database: plain },
    shard: { host: '127.0.0.1', port: sqlPort, ...USER, database: logical },
  }
  for (const t of TARGETS) rigs.set(t, await SqlRig.open(t, specs[t], maxC))
  const rig = (t: TargetName): SqlRig => rigs.get(t)!

  // The table through cellgate (DDL goes to every shard), then the same rows in both layouts.
  await rig('shard').rows(TABLE_DDL)
  const seeded = Array.from({ length: opts.rows }, () => newUuid())
  progress(`seeding ${opts.rows} rows (direct, and one INSERT each through shard mode)`)
  for (let i = 0; i < seeded.length; i += 500) {
    const chunk = seeded.slice(i, i + 500)
    const values = chunk.map((u, j) => pointInsert(u, i + j).replace(/^.*VALUES /u, '')).join(', ')
    await admin.query(`USE \`${plain}\`; INSERT INTO instances (uuid, host, display_name, created_at, deleted) VALUES ${values}`)
  }
  const seedRes = await rig('shard').run(seeded.length, maxC, (i) => pointInsert(seeded[i]!, i))
  if (seedRes.errors) throw new Error(`seeding through shard mode: ${seedRes.errors} errors, first: ${seedRes.firstError}`)
  const perShard: number[] = []
  for (const db of shardDbs) {
    const [[c]] = (await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.instances`)) as unknown as [[{ n: number }]]
    perShard.push(Number(c?.n ?? 0))
  }
  progress(`rows per shard: ${perShard.join(' / ')}`)

  // Correctness once before timing: the scatter answers equal the plain database's.
  for (const sql of [SCATTER_PAGE, SCATTER_COUNT]) {
    const a = JSON.stringify(await rig('direct').rows(sql))
    const b = JSON.stringify(await rig('shard').rows(sql))
    if (a !== b) throw new Error(`shard mode answered "${sql}" differently from the plain database:\n direct ${a.slice(0, 300)}\n shard  ${b.slice(0, 300)}`)
  }
  const probe = await rig('shard').rows(pointSelect(seeded[0]!))
  if (probe.length !== 1) throw new Error(`point SELECT through shard mode returned ${probe.length} rows`)

  // ---- timed rounds ----
  const perRound = Math.max(1, Math.ceil(opts.queries / opts.rounds))
  const scatterPerRound = Math.max(1, Math.ceil(opts.scatterQueries / opts.rounds))
  const segs: Record<string, Segment[]> = {}
  const anomalies: string[] = []
  let pick = 0
  let insertN = opts.rows
  const makers: Record<Scenario, () => (i: number) => string> = {
    select: () => {
      const base = pick
      pick += perRound
      return (i) => pointSelect(seeded[(base + i * 7919) % seeded.length]!)
    },
    insert: () => {
      const base = insertN
      insertN += perRound
      return (i) => pointInsert(newUuid(), base + i)
    },
    'scatter-page': () => () => SCATTER_PAGE,
    'scatter-count': () => () => SCATTER_COUNT,
  }
  const segment = async (r: number, t: TargetName, sc: Scenario, c: number, n: number): Promise<void> => {
    await rig(t).run(Math.min(50, n), c, makers[sc]()) // re-warm after switching targets
    const proxyPid = t === 'relay' ? relayChild?.pid : cellgate?.pid
    const cpuA = processCpuMs(proxyPid)
    const res: SegmentResult = await rig(t).run(n, c, makers[sc]())
    const cpuB = processCpuMs(proxyPid)
    const s: Segment = {
      round: r,
      summary: summarize(res.latencies),
      qps: (res.latencies.length * 1000) / res.elapsedMs,
      errors: res.errors,
      cellgateUs: t === 'direct' || cpuA === undefined || cpuB === undefined ? undefined : ((cpuB - cpuA) * 1000) / n,
    }
    ;(segs[`${sc}@${c}@${t}`] ??= []).push(s)
    if (res.errors) anomalies.push(`round ${r + 1}: ${t} ${sc} c=${c}: ${res.errors} errors, first: ${res.firstError}`)
    progress(`round ${r + 1}/${opts.rounds} ${sc.padEnd(13)} c=${c} ${t.padEnd(6)} p50 ${fmt(s.summary.p50, 3)} ms  p99 ${fmt(s.summary.p99, 3)} ms  ${fmt(s.qps, 0)} q/s`)
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const sc of ['select', 'insert'] as const) {
      for (const c of opts.concurrency) for (const t of rotate(TARGETS, r)) await segment(r, t, sc, c, perRound)
    }
    for (const sc of ['scatter-page', 'scatter-count'] as const) {
      for (const t of rotate(['direct', 'shard'] as const, r)) await segment(r, t, sc, 1, scatterPerRound)
    }
  }

  // ---- aggregate and report ----
  const agg = (k: string): { p50: number; p99: number; qps: number; n: number; cpu: number } | undefined => {
    const ss = segs[k]
    if (!ss) return undefined
    return {
      p50: median(ss.map((s) => s.summary.p50)),
      p99: median(ss.map((s) => s.summary.p99)),
      qps: median(ss.map((s) => s.qps)),
      n: ss.reduce((p, s) => p + s.summary.n, 0),
      cpu: median(ss.map((s) => s.cellgateUs ?? Number.NaN)),
    }
  }
  const vsDirect = (sc: Scenario, c: number, t: TargetName, f: 'p50' | 'p99' | 'qps'): number[] => {
    const xs = segs[`${sc}@${c}@${t}`] ?? []
    const ds = segs[`${sc}@${c}@direct`] ?? []
    return xs.map((s, i) => ratio(f === 'qps' ? s.qps : s.summary[f], f === 'qps' ? ds[i]?.qps : ds[i]?.summary[f]))
  }
  const range = (xs: number[]): string => {
    const ok = xs.filter(Number.isFinite)
    return ok.length < 2 ? fmt(median(ok)) : `${fmt(median(ok))} (${fmt(Math.min(...ok))}–${fmt(Math.max(...ok))})`
  }
  const yes = (b: boolean): string => (b ? '**yes**' : '**NO**')
  const goals: Record<string, { ratio: number; met: boolean }> = {}
  const lines: string[] = []
  lines.push('### Point statements (one row by uuid; INSERT of a new uuid, autocommit)')
  lines.push('')
  lines.push('| statement | conns | target | p50 ms | p99 ms | q/s | p50 ×direct (range) | p99 ×direct | q/s ×direct | p50 goal ≤1.3× | proxy CPU µs/stmt |')
  lines.push('|---|---:|---|---:|---:|---:|---:|---:|---:|:---:|---:|')
  for (const sc of ['select', 'insert'] as const) {
    for (const c of opts.concurrency) {
      for (const t of TARGETS) {
        const a = agg(`${sc}@${c}@${t}`)
        if (!a) continue
        const p50r = median(vsDirect(sc, c, t, 'p50'))
        if (t !== 'direct' && t !== 'relay' && sc === 'select') goals[`${t} select c=${c}`] = { ratio: p50r, met: p50r <= GOAL_P50 }
        const d = t === 'direct'
        lines.push(
          `| ${sc.toUpperCase()} | ${c} | ${t} | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${fmt(a.qps, 0)} | ${d ? '1.00' : range(vsDirect(sc, c, t, 'p50'))} | ${d ? '1.00' : fmt(median(vsDirect(sc, c, t, 'p99')))} | ${d ? '1.00' : fmt(median(vsDirect(sc, c, t, 'qps')))} | ${d || t === 'relay' || sc !== 'select' ? '—' : yes(p50r <= GOAL_P50)} | ${d ? '—' : fmt(a.cpu, 1)} |`,
        )
      }
    }
  }
  lines.push('')
  lines.push(`### Scatter over ${SHARDS} shards vs one database (1 connection; ${opts.rows} rows, ${perShard.join('/')} per shard)`)
  lines.push('')
  lines.push('| query | target | p50 ms | p99 ms | q/s | p50 ×direct (range) | cellgate CPU µs/stmt |')
  lines.push('|---|---|---:|---:|---:|---:|---:|')
  for (const [sc, text] of [['scatter-page', 'ORDER BY created_at DESC, uuid LIMIT 20 (k-way merge)'], ['scatter-count', 'COUNT(*) (re-aggregated)']] as const) {
    for (const t of ['direct', 'shard'] as const) {
      const a = agg(`${sc}@1@${t}`)
      if (!a) continue
      lines.push(`| ${text} | ${t} | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${fmt(a.qps, 0)} | ${t === 'direct' ? '1.00' : range(vsDirect(sc, 1, t, 'p50'))} | ${t === 'direct' ? '—' : fmt(a.cpu, 1)} |`)
    }
  }
  lines.push('')
  lines.push(`### Router CPU per statement, in process (${opts.routerIterations} iterations, 512 distinct literal sets cycled)`)
  lines.push('')
  lines.push('| statement | chars | session classifier µs | tokenize+digest µs | whole path, plan cached µs | goal ≤20 µs | whole path, no cache µs |')
  lines.push('|---|---:|---:|---:|---:|:---:|---:|')
  for (const r of router) {
    goals[`router: ${r.statement}`] = { ratio: r.cachedUs, met: r.cachedUs <= GOAL_ROUTER_US }
    lines.push(`| ${r.statement} | ${r.chars} | ${fmt(r.classifyUs)} | ${fmt(r.digestUs)} | ${fmt(r.cachedUs)} | ${yes(r.cachedUs <= GOAL_ROUTER_US)} | ${fmt(r.uncachedUs)} |`)
  }
  lines.push('')
  const sel1 = agg(`select@1@shard`)
  const relayFloor = opts.concurrency.map((c) => `c=${c} ${fmt(median(vsDirect('select', c, 'relay', 'p50')))}×`).join(', ')
  lines.push(
    `**Goals:** point SELECT p50 ≤ ${GOAL_P50}× direct: ${Object.entries(goals)
      .filter(([k]) => !k.startsWith('router'))
      .map(([k, g]) => `${k} ${fmt(g.ratio)}× ${g.met ? 'met' : 'MISSED'}`)
      .join(', ')}; the blind TCP relay (what any proxy process costs on this machine) point SELECT p50 ${relayFloor} direct. Router CPU per cached statement ≤ ${GOAL_ROUTER_US} µs: ${router.map((r) => `${fmt(r.cachedUs)} µs`).join(' / ')} ${router.every((r) => r.cachedUs <= GOAL_ROUTER_US) ? 'met' : 'MISSED'}. ` +
      `cellgate's whole process CPU per shard-mode point SELECT (protocol, routing, both sockets) is ${fmt(sel1?.cpu, 1)} µs (from /proc, 10 ms ticks).`,
  )
  lines.push('')
  if (anomalies.length) {
    lines.push('Anomalies:')
    for (const a of anomalies) lines.push(`- ${a}`)
    lines.push('')
  }
  const finishedAt = new Date()
  const header = [
    '## sql-bench: cellgate SQL front end vs MariaDB direct',
    '',
    `- Date: ${startedAt.toISOString()} (took ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s)`,
    `- Machine: ${machine.nproc} CPUs (${machine.cpuModel}), load average at start ${machine.loadavgAtStart.join(' / ')}, Node ${machine.node}, MariaDB ${machine.mariadb}; shared and noisy, so read the ratios`,
    `- Command: \`${command}\``,
    `- Settings: ${opts.rounds} rounds, targets interleaved (order rotated per round); per round, target, statement and connection count ${perRound} point statements (${scatterPerRound} per scatter query) after 50 unrecorded; mysql2 text protocol. Medians over rounds; ×direct = median of per-round ratios.`,
    `- Targets: **direct** = MariaDB, one database; **relay** = that database through a blind TCP relay (\`bench/tcp-relay.ts\` child: pipes bytes, parses nothing; the floor of any proxy process); **schema** = cellgate schema mode (the database name routed to that database); **shard** = cellgate shard mode over ${SHARDS} shard databases on the same server (rows placed by uuid). cellgate = \`node ${opts.cellgateMain} serve\` child; proxy CPU (cellgate's or the relay's) = utime+stime from /proc/<pid>/stat over the segment.`,
    '',
  ].join('\n')
  const table = lines.join('\n')
  process.stdout.write(`\n${header}\n${table}\n`)
  mkdirSync(OUT_DIR, { recursive: true })
  writeFileSync(
    join(OUT_DIR, 'sql-bench.json'),
    JSON.stringify({ startedAt, finishedAt, command, machine, options: opts, perShard, goals, router, segments: segs, anomalies }, null, 2) + '\n',
  )
  progress('wrote bench/out/sql-bench.json')
  if (opts.writeResults) {
    writeResultsSection('sql-bench', `${header}\n${table}`)
    progress('wrote bench/RESULTS.md')
  }
}

benchMain('sql-bench', parseArgs, (opts, argv) => runWithCleanup(() => run(opts, argv), cleanup, progress))
