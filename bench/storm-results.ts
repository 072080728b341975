/**
 * The document one storm comparison writes (bench/out/storm-replay-<N>n.json), and its section of
 * bench/RESULTS.md: the goals as ratios from that one run, then the summary and per-kind tables.
 */
import type { SocketBudget } from './multiplex-broker.js'
import type { GoalVerdict } from './storm-goals.js'
import { verdictWord } from './storm-goals.js'
import { kindTable, summaryTable, type TargetResult } from './storm-report.js'
import type { TraceHeader } from './storm-trace.js'

export interface StormRun {
  startedAt: string
  finishedAt: string
  argv: string[]
  machine: { nproc: number; loadavgAtStart: number[]; node: string }
  socketBudget: SocketBudget | undefined
  header: TraceHeader
  options: Record<string, unknown> & { brokers: string; configs: { name: string; cells: number }[] }
  /** Herd windows of the trace, [from, to) ms of storm (left out of the steady figures). */
  herds: [number, number][]
  results: TargetResult[]
  goals: GoalVerdict[]
}

export function goalsTable(goals: readonly GoalVerdict[]): string {
  return ['| goal | measured | verdict |', '|---|---|---|', ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met === false ? '**NOT met**' : verdictWord(g.met)} |`)].join('\n')
}

export function stormResultsSection(doc: StormRun): string {
  const h = doc.header
  return [
    `## storm bench: ${h.nodes} nodes, ${h.durationMs / 1000} s, ${doc.results.map((r) => r.config).join(' / ')} (${doc.options.brokers} brokers)`,
    '',
    `Run ${doc.startedAt} → ${doc.finishedAt}; \`node dist/bench/storm-replay.js ${doc.argv.join(' ')}\`; ${doc.machine.nproc} cores, load ${doc.machine.loadavgAtStart.join(' ')} at start; trace ${h.generator}, seed ${h.seed}.`,
    '',
    goalsTable(doc.goals),
    '',
    summaryTable(doc.results),
    '',
    kindTable(doc.results),
  ].join('\n')
}
