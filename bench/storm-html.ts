/**
 * The storm comparison as one self-contained HTML file (inline CSS and SVG, no script, no
 * external asset): the goals met or not, the deployment-wide figures per configuration, RPC call
 * latency percentiles over time and the latency distribution per configuration, and the per-kind
 * table.
 */
import { verdictWord } from './storm-goals.js'
import type { TargetResult } from './storm-report.js'
import type { StormRun } from './storm-results.js'
import { esc, lineChart, type Series } from './storm-svg.js'
import { HIST_EDGES_MS, type LatencyAggregate } from './storm-tally.js'
import { fmt } from './stats.js'

const COLORS = ['#1f4e9a', '#c0392b', '#27893a', '#8e44ad', '#d68910', '#17808a', '#555']

const colorOf = (results: readonly TargetResult[], r: TargetResult): string => COLORS[results.indexOf(r) % COLORS.length]!

/** The distribution as a CDF: for each histogram bucket's upper edge, the share at or below it. */
export function cdfPoints(hist: readonly number[]): [number, number][] {
  const total = hist.reduce((a, b) => a + b, 0)
  if (total === 0) return []
  const out: [number, number][] = []
  let acc = 0
  hist.forEach((n, i) => {
    acc += n
    const edge = HIST_EDGES_MS[Math.min(i, HIST_EDGES_MS.length - 1)]!
    if (n > 0 || (acc > 0 && acc < total)) out.push([edge, acc / total])
  })
  return out
}

function overTime(doc: StormRun, which: 'rpc' | 'oneWay', title: string, id: string): string {
  const series: Series[] = []
  for (const r of doc.results) {
    const a: LatencyAggregate = r.replay.aggregates[which]
    const c = colorOf(doc.results, r)
    series.push({ name: `${r.config} p99`, color: c, points: a.overTime.map((b) => [b.fromS + a.bucketMs / 2000, b.p99]) })
    series.push({ name: `${r.config} p50`, color: c, dash: '5 3', points: a.overTime.map((b) => [b.fromS + a.bucketMs / 2000, b.p50]) })
  }
  const spans = herdSpans(doc)
  return lineChart({ id, title, xLabel: 'storm time, s (by when the message was sent)', yLabel: 'latency, ms (log)', yLog: true, spans, series, width: 650, height: 320 })
}

function herdSpans(doc: StormRun): { from: number; to: number; label: string }[] {
  // Runs from before the herd windows were written have none.
  return (doc.herds ?? []).map(([from, to]) => ({ from: from / 1000, to: to / 1000, label: 'herd' }))
}

function distribution(doc: StormRun, which: 'rpc' | 'oneWay', title: string, id: string): string {
  const series: Series[] = doc.results.map((r) => ({ name: r.config, color: colorOf(doc.results, r), points: cdfPoints(r.replay.aggregates[which].histogram) }))
  return lineChart({ id, title, xLabel: 'latency, ms (log)', yLabel: 'share of messages at or below', xLog: true, yRange: [0, 1], series, width: 650, height: 320 })
}

const td = (v: string | number, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${esc(String(v))}</td>`

function goalsTable(doc: StormRun): string {
  const rows = doc.goals.map((g) => `<tr class="goal ${g.met === undefined ? 'na' : g.met ? 'met' : 'notmet'}">${td(g.goal)}${td(g.measured)}${td(verdictWord(g.met), 'verdict')}</tr>`)
  return `<table class="goals"><thead><tr><th>goal</th><th>measured (this run)</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function summaryTable(doc: StormRun): string {
  const head = ['configuration', 'RPC p50 ms', 'RPC p95 ms', 'RPC p99 ms', 'RPC max ms', 'steady p50 / p99 ms', 'one-way p99 ms', 'lost', 'dup', 'timeouts', 'client conns', 'broker conns', 'broker channels', 'broker queues', 'cellgate CPU s', 'cellgate RSS MiB', 'broker CPU s', 'broker RSS MiB (idle)']
  const rows = doc.results.map((r) => {
    const a = r.replay.aggregates.rpc
    const t = r.replay.totals
    return `<tr data-config="${esc(r.config)}"><th style="color:${colorOf(doc.results, r)}">${esc(r.config)}</th>${[
      fmt(a.latencyMs.p50, 1), fmt(a.latencyMs.p95, 1), fmt(a.latencyMs.p99, 1), fmt(a.latencyMs.max, 1), `${fmt(a.latencySteadyMs.p50, 1)} / ${fmt(a.latencySteadyMs.p99, 1)}`, fmt(r.replay.aggregates.oneWay.latencyMs.p99, 1),
      t.lost, t.duplicated, t.timeouts, r.replay.connectionsOpened, r.broker.connections, r.broker.channels, r.broker.queues,
      r.cellgate ? fmt((r.cellgate.cpuMsStorm ?? Number.NaN) / 1000, 1) : '—', r.cellgate ? fmt(r.cellgate.rssMiB, 0) : '—',
      fmt((r.rabbit.cpuMsStorm ?? Number.NaN) / 1000, 1), `${fmt(r.rabbit.rssMiB, 0)} (${fmt(r.rabbit.idleRssMiB, 0)})`,
    ].map((v) => td(v)).join('')}</tr>`
  })
  return `<table class="summary"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function kindsTable(doc: StormRun): string {
  const whats = [...new Set(doc.results.flatMap((r) => r.replay.kinds.map((k) => k.what)))]
  const head = ['kind', 'pattern', 'configuration', 'sent', 'delivered / expected', 'lost', 'dup', 'timeouts', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'per s']
  const rows: string[] = []
  for (const w of whats) {
    for (const r of doc.results) {
      const k = r.replay.kinds.find((x) => x.what === w)
      if (!k) continue
      const bad = k.lost > 0 || k.duplicated > 0 || k.timeouts > 0 ? ' class="bad"' : ''
      rows.push(`<tr${bad}>${td(w)}${td(k.pattern)}${td(r.config)}${td(k.sent)}${td(`${k.delivered} / ${k.expected}`)}${td(k.lost)}${td(k.duplicated)}${td(k.timeouts)}${td(fmt(k.latencyMs.p50, 1))}${td(fmt(k.latencyMs.p95, 1))}${td(fmt(k.latencyMs.p99, 1))}${td(fmt(k.latencyMs.max, 1))}${td(fmt(k.throughput, 1))}</tr>`)
    }
  }
  return `<table class="kinds"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#555;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f2f2f2;white-space:normal}td:first-child,th:first-child{text-align:left}
.goals td{text-align:left;white-space:normal}
tr.met .verdict{background:#d5f0d8;color:#13591f;font-weight:600}
tr.notmet .verdict{background:#f8d3cf;color:#8a1c11;font-weight:600}
tr.na .verdict{background:#eee;color:#555}
tr.bad td{background:#fdecea}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart .ct{font-weight:600;font-size:13px}.chart .tk{font-size:11px;fill:#444}.chart .al{font-size:12px;fill:#333}
.chart .lg{font-size:11px;fill:#222}.chart .sl{font-size:11px;fill:#8a6d3b}.chart .grid{stroke:#e6e6e6}
.note{color:#555;max-width:1000px}
`

export function stormHtml(doc: StormRun): string {
  const h = doc.header
  const title = `cellgate storm bench: ${h.nodes} nodes, ${h.durationMs / 1000} s`
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(`${doc.results.map((r) => r.config).join(', ')} on ${doc.options.brokers} brokers · trace ${h.generator}, seed ${h.seed} · run ${doc.startedAt} → ${doc.finishedAt} · ${doc.machine.nproc} cores, load ${doc.machine.loadavgAtStart.join(' ')} at start · node ${doc.machine.node}`)}</p>
<h2>Goals (ratios from this run)</h2>
${goalsTable(doc)}
<h2>Per configuration</h2>
${summaryTable(doc)}
<p class="note">RPC: every call kind together (report_state, conductor object calls, API calls to computes), publish → final reply; the long call with heartbeats is listed separately below. Steady: calls started outside the herd window. Broker figures are RabbitMQ's own (rabbitmqctl) after the storm with every client connected; RSS of the configuration's broker node(s) at the end of the storm, idle RSS right after they started.</p>
<h2>Latency over time</h2>
<div class="charts">
${overTime(doc, 'rpc', 'RPC calls: p99 (solid) and p50 (dashed) per interval', 'rpc-over-time')}
${overTime(doc, 'oneWay', 'Casts, fanouts, notifications: p99 and p50', 'oneway-over-time')}
</div>
<h2>Latency distribution</h2>
<div class="charts">
${distribution(doc, 'rpc', 'RPC calls: cumulative distribution', 'rpc-distribution')}
${distribution(doc, 'oneWay', 'Casts, fanouts, notifications: cumulative distribution', 'oneway-distribution')}
</div>
<h2>Per message kind</h2>
${kindsTable(doc)}
<p class="note">Command: <code>node dist/bench/storm-replay.js ${esc(doc.argv.join(' '))}</code></p>
</body></html>
`
}
