/**
 * cellgate for bench/telemetry-bench.ts: what `cellgate serve --config FILE` does, plus `--off`,
 * which starts it with no telemetry at all (NO_OBSERVER) — the baseline every telemetry setting
 * is measured against. All modes go through this launcher, so they run the same code otherwise.
 *
 *   node dist/bench/telemetry-serve.js --config FILE [--off]
 */
import { startCellgate } from '../app/compose.js'
import { loadConfigFile } from '../app/config.js'
import { createLogger } from '../adapters/log/logger.js'

const argv = process.argv.slice(2)
const at = argv.indexOf('--config')
const file = at >= 0 ? argv[at + 1] : undefined
if (file === undefined) {
  process.stderr.write('usage: telemetry-serve.js --config FILE [--off]\n')
  process.exit(2)
}
const config = loadConfigFile(file)
const cg = await startCellgate(config, createLogger({ level: 'warn', format: 'text' }), { disabled: argv.includes('--off') })
const stop = (): void => {
  cg.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
