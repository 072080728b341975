import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** bench/RESULTS.md of this checkout (from dist/bench/ or bench/). */
export const RESULTS_MD = join(dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/bench$/u, '/bench'), 'RESULTS.md')

const PREAMBLE = '# Benchmark results\n\nWritten by the benchmarks in bench/ (see bench/README.md); text outside the marker comments is kept.\n\n'

/**
 * Replaces one benchmark's section of bench/RESULTS.md, between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` (appended when absent); everything else in the file is kept as written.
 */
export function writeResultsSection(name: string, section: string, file: string = RESULTS_MD): void {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const block = `${start}\n${section.trimEnd()}\n${end}`
  let text = existsSync(file) ? readFileSync(file, 'utf8') : PREAMBLE
  const s = text.indexOf(start)
  const e = text.indexOf(end)
  if (s >= 0 && e > s) text = text.slice(0, s) + block + text.slice(e + end.length)
  else text = `${text.trimEnd()}\n\n${block}\n`
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`)
}
