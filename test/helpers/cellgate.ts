import { startCellgate, type RunningCellgate } from '../../app/compose.js'
import type { CellgateConfig } from '../../app/config-types.js'
import { defaultConfig } from '../../app/config-defaults.js'
import { createLogger, silentLogger } from '../../adapters/log/logger.js'

export const RABBIT_URL = process.env['CELLGATE_TEST_RABBIT'] ?? 'amqp://guest:guest@127.0.0.1:5672/'

/** A configuration for tests: the defaults, on a free port, the local RabbitMQ as the single cell. */
export function testConfig(patch: Partial<CellgateConfig> = {}): CellgateConfig {
  const base = defaultConfig()
  return {
    ...base,
    listen: { amqp: { host: '127.0.0.1', port: 0 } },
    cells: [{ name: 'cell1', rabbit: RABBIT_URL, disabled: false }],
    // Tests restart brokers: retry quickly.
    upstream: { ...base.upstream, reconnectDelayMs: 200, reconnectMaxDelayMs: 2000 },
    log: { level: 'error', format: 'text' },
    // Tests run side by side with a cellgate started by hand: never take the default admin port.
    admin: { enabled: true, host: '127.0.0.1', port: 0 },
    sql: { ...base.sql, port: 0 },
    ...patch,
  }
}

/** Starts cellgate in this process; CELLGATE_TEST_LOG=debug shows its log on stderr. */
export async function startTestCellgate(patch: Partial<CellgateConfig> = {}): Promise<RunningCellgate & { url: string }> {
  const level = process.env['CELLGATE_TEST_LOG']
  const log = level ? createLogger({ level: level as 'debug', format: 'text' }) : silentLogger
  const cg = await startCellgate(testConfig(patch), log)
  return Object.assign(cg, { url: `amqp://guest:guest@127.0.0.1:${cg.amqpPort}/` })
}
