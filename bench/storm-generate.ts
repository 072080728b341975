/**
 * Writes a synthetic nova storm trace (schemas/storm-trace.schema.json), validated before writing.
 *
 *   node dist/bench/storm-generate.js --nodes 200 --seconds 30 --seed 1 --out bench/out/storm-200.json
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateNovaTrace } from './storm-nova.js'
import { validateTrace } from './storm-trace.js'

const HELP = `Usage: node dist/bench/storm-generate.js --nodes N --seconds S [--seed K] [--ops R] --out FILE

  --nodes N     compute nodes (default 200)
  --seconds S   storm length (default 30)
  --seed K      random seed, 0..2^32-1 (default 1)
  --ops R       instance operations per node per second (default 0.005)
  --out FILE    where to write the JSON trace (default bench/out/storm-trace.json)
`

function main(argv: readonly string[]): number {
  let nodes = 200
  let seconds = 30
  let seed = 1
  let ops: number | undefined
  let out = 'bench/out/storm-trace.json'
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const v = Number(argv[i + 1])
    switch (a) {
      case '--nodes': nodes = v; i++; break
      case '--seconds': seconds = v; i++; break
      case '--seed': seed = v; i++; break
      case '--ops': ops = v; i++; break
      case '--out': out = argv[++i] ?? out; break
      case '-h': case '--help': process.stdout.write(HELP); return 0
      default: process.stderr.write(`storm-generate: unknown option ${a}\n${HELP}`); return 2
    }
  }
  if (!Number.isInteger(nodes) || nodes < 1 || !(seconds > 0) || !Number.isInteger(seed) || seed < 0 || (ops !== undefined && !(ops >= 0))) {
    process.stderr.write(`storm-generate: --nodes must be a positive integer, --seconds > 0, --seed an integer >= 0, --ops >= 0\n`)
    return 2
  }
  const trace = validateTrace(generateNovaTrace({ nodes, seconds, seed, ...(ops !== undefined ? { opsPerNodePerSec: ops } : {}), note: `storm-generate ${argv.join(' ')}` }))
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(trace)}\n`)
  process.stderr.write(`storm-generate: ${out}: ${nodes} nodes, ${seconds} s, ${trace.rules.length} rules, ${trace.events.length} events\n`)
  return 0
}

process.exitCode = main(process.argv.slice(2))
