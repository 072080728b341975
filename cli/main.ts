/**
 * cellgate's entry point: parse the command line, load the configuration, and serve until a
 * signal. `node dist/cli/main.js ...` runs it; bin/cellgate.js and scripts/start.mjs call runCli().
 */
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  ConfigError,
  applyOverrides,
  configPathFrom,
  findProjectFile,
  hostPort,
  loadConfig,
  summarizeConfig,
} from '../app/config.js'
import type { CellgateConfig } from '../app/config-types.js'
import { createLogger } from '../adapters/log/logger.js'
import { CliUsageError, parseCliArgs, type CliCommand } from './args.js'
import { helpText } from './help.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js'
import { parkedCommand } from './parked-command.js'
import { routesCommand } from './routes-command.js'

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js'

const processIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
}

/** Two deliveries of one signal closer than this are one signal (npm forwards what the tty sent). */
const SIGNAL_DEDUP_MS = 250

/** cellgate's version, from package.json. */
export function cellgateVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(findProjectFile('package.json'), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * Run one command line. Resolves with the exit status; for `serve`, once the proxy was closed
 * after SIGINT/SIGTERM (a second signal exits the process at once with status 1).
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let cmd: CliCommand
  try {
    cmd = parseCliArgs(argv)
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`cellgate: ${err.message}\n`)
      return EXIT_USAGE
    }
    throw err
  }

  switch (cmd.command) {
    case 'help':
      io.stdout(helpText(cmd.topic, cellgateVersion()))
      return EXIT_OK
    case 'version':
      io.stdout(`${cellgateVersion()}\n`)
      return EXIT_OK
    case 'routes':
      return routesCommand(cmd, io)
    case 'parked':
      return parkedCommand(cmd, io)
    case 'check-config':
    case 'serve': {
      let config: CellgateConfig
      let source: string
      try {
        const loaded = loadConfig(configPathFrom(cmd.configPath, io.env))
        config = applyOverrides(loaded.config, cmd.overrides)
        source = loaded.source
      } catch (err) {
        if (err instanceof ConfigError) {
          io.stderr(`cellgate: invalid configuration: ${err.message}\n`)
          return EXIT_USAGE
        }
        throw err
      }
      if (cmd.command === 'check-config') {
        io.stdout(`config OK: ${summarizeConfig(config)}\n`)
        return EXIT_OK
      }
      return serve(config, source, io)
    }
  }
}

async function serve(config: CellgateConfig, source: string, io: CliIo): Promise<number> {
  const log = createLogger({ level: config.log.level, format: config.log.format, write: (line) => io.stderr(`${line}\n`) })
  log.info('cellgate starting', {
    version: cellgateVersion(),
    config: source,
    amqp: hostPort(config.listen.amqp.host, config.listen.amqp.port),
  })

  let handle: { close(): Promise<void> }
  try {
    const { startCellgate } = await import('../app/compose.js')
    handle = await startCellgate(config)
  } catch (err) {
    log.error(`failed to start: ${err instanceof Error ? err.message : String(err)}`)
    return EXIT_FAILURE
  }

  return new Promise<number>((resolveExit) => {
    let first: { signal: NodeJS.Signals; at: number } | undefined
    const onSignal = (signal: NodeJS.Signals): void => {
      const now = Date.now()
      if (first) {
        if (signal === first.signal && now - first.at < SIGNAL_DEDUP_MS) return
        log.warn('second signal: forcing exit', { signal })
        process.exit(EXIT_FAILURE)
      }
      first = { signal, at: now }
      log.info('shutting down', { signal })
      handle.close().then(
        () => {
          detach()
          resolveExit(EXIT_OK)
        },
        (err: unknown) => {
          log.error(`error while shutting down: ${err instanceof Error ? err.message : String(err)}`)
          detach()
          resolveExit(EXIT_FAILURE)
        },
      )
    }
    const detach = (): void => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

/** Run with this process's argv and exit with the status (what the bin shim calls). */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`cellgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exit(EXIT_FAILURE)
    },
  )
}

function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) runCli()
