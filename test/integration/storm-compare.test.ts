// The storm comparison command at a tiny size, as a user runs it: one trace, direct and cellgate
// over 2 cells in one run on the shared RabbitMQ. The JSON carries both configurations with the
// broker's own counts and the goals judged; the HTML report is one self-contained file whose
// SVG charts hold a series per configuration.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import type { StormRun } from '../../bench/storm-results.js'
import { parseConfigs } from '../../bench/storm-replay.js'

const ROOT = resolve(import.meta.dirname, '..', '..')

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'dist', 'bench', 'storm-replay.js'), ...args], { cwd: ROOT, timeout: 170_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

t.test('configurations parse, bad ones are refused naming the option', async (t) => {
  t.same(parseConfigs('direct,cellgate:1,cells2,cellgate', 3).map((c) => [c.name, c.cells]), [['direct', 1], ['cellgate-1', 1], ['cellgate-2', 2], ['cellgate-3', 3]])
  t.throws(() => parseConfigs('direct,proxy', 3), /--configs: .*proxy/u)
  t.throws(() => parseConfigs('cellgate:2,cells2', 3), /given twice/u)
  t.throws(() => parseConfigs('cellgate:0', 3), /1 to 16 cells/u)
  const bad = await runBench(['--brokers', 'cloud'])
  t.equal(bad.code, 2, 'a bad option exits 2')
  t.match(bad.stderr, /--brokers: shared, private or nodes, got cloud/u)
})

t.test('one run compares direct and cellgate over 2 cells; JSON and HTML report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-storm-compare-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'storm.json')
  const r = await runBench(['--nodes', '6', '--seconds', '6', '--seed', '3', '--drain', '5', '--configs', 'direct,cellgate:2', '--brokers', 'shared', '--out', out])
  t.equal(r.code, 0, `exit 0${r.code ? `\n${r.stderr.slice(-3000)}` : ''}`)
  const doc = JSON.parse(readFileSync(out, 'utf8')) as StormRun
  t.same(doc.results.map((x) => x.config), ['direct', 'cellgate-2'], 'both configurations, in order, in one run')
  const [direct, cg] = doc.results as [StormRun['results'][number], StormRun['results'][number]]
  for (const x of doc.results) {
    t.same(x.replay.totals, { ...x.replay.totals, lost: 0, duplicated: 0, misrouted: 0, failed: 0 }, `${x.config}: nothing lost, duplicated, misrouted or failed`)
    t.ok(x.replay.aggregates.rpc.latencyMs.n > 0 && x.replay.aggregates.rpc.latencyMs.p99 >= x.replay.aggregates.rpc.latencyMs.p50, `${x.config}: RPC percentiles`)
    t.ok(x.replay.aggregates.rpc.histogram.reduce((a, b) => a + b, 0) === x.replay.aggregates.rpc.latencyMs.n, `${x.config}: the distribution counts every call`)
    t.ok(x.broker.queues > 0 && x.broker.channels > 0, `${x.config}: the broker's own counts (${x.broker.connections} connections, ${x.broker.channels} channels, ${x.broker.queues} queues)`)
    t.ok((x.rabbit.rssMiB ?? 0) > 0 && x.rabbit.cpuMsStorm !== undefined, `${x.config}: broker RSS and CPU`)
  }
  t.equal(cg.broker.connections, 8, 'cellgate: 4 broker connections per cell')
  t.ok(direct.broker.connections > cg.broker.connections, `direct ${direct.broker.connections} > cellgate ${cg.broker.connections} broker connections`)
  t.ok((cg.cellgate?.rssMiB ?? 0) > 0 && cg.cellgate?.cpuMsStorm !== undefined, 'cellgate RSS and CPU')
  const goals = doc.goals.map((g) => g.goal)
  t.ok(goals.some((g) => /p99 RPC/u.test(g)) && goals.some((g) => /10× fewer connections/u.test(g)) && goals.some((g) => /less memory/u.test(g)), 'the goals are judged')
  t.equal(doc.goals.find((g) => /10 000 nodes/u.test(g.goal))?.met, undefined, 'the 10 000-node goal is "not measured" at 6 nodes')
  t.equal(doc.goals.find((g) => /fewer connections/u.test(g.goal))?.met, direct.broker.connections / cg.broker.connections >= 10, 'the connection goal follows the figures')

  const html = readFileSync(out.replace(/\.json$/u, '.html'), 'utf8')
  t.match(html, /^<!DOCTYPE html>/u)
  t.notMatch(html, /<script|<link|src=|url\(|@import/u, 'no script, no external asset')
  t.same([...html.matchAll(/https?:\/\/[^"\s<]+/gu)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg'), [], 'no URL other than the SVG namespace')
  for (const chart of ['rpc-over-time', 'oneway-over-time', 'rpc-distribution', 'oneway-distribution']) {
    const svg = new RegExp(`<svg[^>]*data-chart="${chart}"[^>]*>([\\s\\S]*?)</svg>`, 'u').exec(html)?.[1]
    t.ok(svg, `${chart}: an inline SVG chart`)
    const series = [...(svg ?? '').matchAll(/<path class="series" data-series="([^"]+)" data-points="(\d+)"/gu)].map((m) => [m[1], Number(m[2])] as const)
    const want = chart.includes('distribution') ? ['direct', 'cellgate-2'] : ['direct p99', 'direct p50', 'cellgate-2 p99', 'cellgate-2 p50']
    t.same(series.map((s) => s[0]), want, `${chart}: one series per configuration`)
    // Over time every interval adds a point; a distribution of a tiny, fast run may fall in one histogram bucket.
    const least = chart.includes('distribution') ? 1 : 2
    if (chart.startsWith('rpc')) t.ok(series.every((s) => s[1] >= least), `${chart}: every series has points (${series.map((s) => s[1]).join(', ')})`)
  }
  t.match(html, /data-chart="rpc-over-time"[\s\S]*class="span"[\s\S]*>herd</u, 'the herd is marked on the time chart')
  const goalRows = [...html.matchAll(/<tr class="goal (met|notmet|na)">/gu)].map((m) => m[1])
  t.equal(goalRows.length, doc.goals.length, 'one goal row per goal')
  t.same(goalRows, doc.goals.map((g) => (g.met === undefined ? 'na' : g.met ? 'met' : 'notmet')), 'each goal marked met / not met / not measured as judged')
  t.ok(html.includes('<tr data-config="direct">') && html.includes('<tr data-config="cellgate-2">'), 'a summary row per configuration')
})
