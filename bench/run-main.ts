import { killAllChildrenSync } from './procs.js'

/**
 * A benchmark's process entry: options parsed (a bad one is a one-line error and exit 2, not a
 * stack), then `body`, whose result is the exit status; an unexpected failure exits 1.
 */
export function benchMain<O>(name: string, parse: (argv: string[]) => O, body: (opts: O, argv: readonly string[]) => Promise<number>): void {
  const argv = process.argv.slice(2)
  let opts: O
  try {
    opts = parse(argv)
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`)
    process.exit(2)
  }
  body(opts, argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${name}: ${String(err)}\n`)
      process.exit(1)
    },
  )
}

/**
 * The shape every benchmark's main shares: run, and clean up (child processes, vhosts, queues)
 * whatever happens: an error, Ctrl-C (a second one kills at once), or a connection a proxy
 * dropped mid-run surfacing as an unhandled rejection. Resolves with the exit status.
 */
export async function runWithCleanup(
  run: () => Promise<void>,
  cleanup: () => Promise<void>,
  progress: (line: string) => void,
  /** Told at the first signal, so the run can stop early and cleanup hurry. */
  onInterrupt: () => void = () => {},
): Promise<number> {
  let interrupted = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      killAllChildrenSync()
      process.exit(130)
    }
    interrupted = true
    onInterrupt()
    progress(`${sig}: cleaning up (again to kill at once)`)
    void cleanup().finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', killAllChildrenSync)
  process.on('unhandledRejection', (err) => progress(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}`))
  try {
    await run()
    return 0
  } catch (err) {
    if (interrupted) return 130
    progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    return 1
  } finally {
    await cleanup()
  }
}
