// cellgate as a real child process (`node dist/cli/main.js serve --config F`),
// for tests that kill and restart it. Its log (stderr) is kept for failure
// diagnostics.
//
// dist/ is gitignored and `npm test` only type-checks (tsc --noEmit), so on a
// fresh checkout dist/cli/main.js does not exist: ensureCellgateBuilt() runs
// tsc once when the build output is missing or older than a source file
// (the same rule scripts/start.mjs uses). CELLGATE_TEST_NO_BUILD=1 turns that
// off (a missing build then fails with a clear message).
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CELLGATE_MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js')
const SOURCE_DIRS = ['router', 'adapters', 'app', 'cli']
const LOG_KEEP = 512 * 1024
const live = new Set<CellgateProcess>()

process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

/**
 * A detached shell that SIGKILLs the cellgate child if this test process dies by a signal
 * (no 'exit' handlers run then), so no orphan keeps listening. `tag` (the config path) must
 * appear in the child's command line, which guards against a recycled pid.
 */
function startWatchdog(child: number, tag: string): void {
  const script = [
    `parent=${process.pid}`,
    `child=${child}`,
    'tag="$1"',
    'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done',
    'kill -0 "$parent" 2>/dev/null && exit 0',
    'if grep -qaF "$tag" "/proc/$child/cmdline" 2>/dev/null; then kill -9 "$child"; fi',
    'case "$tag" in */cellgate-proc-*/cellgate.json) rm -rf "$(dirname "$tag")" ;; esac',
  ].join('\n')
  try {
    spawn('/bin/sh', ['-c', script, 'cellgate-proc-watchdog', tag], { detached: true, stdio: 'ignore' }).unref()
  } catch {
    // best effort
  }
}

export interface Teardownable {
  teardown(fn: () => unknown): void
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

function newestTs(dir: string): { path: string; ms: number } {
  let best = { path: '', ms: 0 }
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return best
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      if (e.name === 'node_modules') continue
      const n = newestTs(p)
      if (n.ms > best.ms) best = n
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const ms = mtime(p) ?? 0
      if (ms > best.ms) best = { path: p, ms }
    }
  }
  return best
}

/** Why dist/cli/main.js needs (re)building, or null when it is up to date. */
export function cellgateBuildStaleness(): string | null {
  const built = mtime(CELLGATE_MAIN)
  if (built === undefined) return `${CELLGATE_MAIN} does not exist`
  let newest = { path: '', ms: 0 }
  for (const d of SOURCE_DIRS) {
    const n = newestTs(join(PROJECT_ROOT, d))
    if (n.ms > newest.ms) newest = n
  }
  if (newest.ms > built) return `${newest.path} is newer than ${CELLGATE_MAIN}`
  return null
}

let buildOnce: Promise<string> | null = null

/**
 * Make sure dist/cli/main.js exists and is not older than the sources; builds with tsc when
 * needed. Resolves with a note for the test log; rejects when there is no usable build.
 */
export function ensureCellgateBuilt(): Promise<string> {
  buildOnce ??= doEnsureBuilt()
  return buildOnce
}

async function doEnsureBuilt(): Promise<string> {
  const why = cellgateBuildStaleness()
  if (why === null) return `using ${CELLGATE_MAIN} (up to date)`
  if (process.env.CELLGATE_TEST_NO_BUILD === '1') {
    if (existsSync(CELLGATE_MAIN)) return `using a stale ${CELLGATE_MAIN} (CELLGATE_TEST_NO_BUILD=1): ${why}`
    throw new Error(`cellgate is not built: ${why}. Run \`npm run build\` first (CELLGATE_TEST_NO_BUILD=1 is set).`)
  }
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const started = Date.now()
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: PROJECT_ROOT, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, out: `${String(stdout)}${String(stderr)}` })
    })
  })
  const ms = Date.now() - started
  if (!existsSync(CELLGATE_MAIN)) {
    throw new Error(`cellgate is not built (${why}) and \`tsc -p tsconfig.json\` did not produce it (exit ${r.code}):\n${r.out.slice(-4000)}`)
  }
  // tsc emits even with type errors; type errors are the type-check's business, not this test's.
  return r.code === 0
    ? `built cellgate with tsc in ${ms} ms (${why})`
    : `tsc reported errors (exit ${r.code}, ${ms} ms) but emitted ${CELLGATE_MAIN}; running it anyway:\n${r.out.slice(-2000)}`
}

export interface CellgateProcessOptions {
  /** Fixed AMQP port (pass the same one to restart "in place"). */
  port: number
  /** Broker URLs; default: one cell "cell1" on the shared RabbitMQ. */
  cells?: { name: string; rabbit: string; disabled?: boolean }[]
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
  /** Merged into the config's `upstream` section (reconnect delays etc.). */
  upstream?: Record<string, number>
  /** Label used in diagnostics ("gen 2"...). */
  label?: string
}

export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** One cellgate process. A restart is a new CellgateProcess on the same port. */
export class CellgateProcess {
  readonly port: number
  readonly label: string
  readonly pid: number | undefined
  readonly startedAt = Date.now()
  /** When its listener accepted a TCP connection (set by start()). */
  readyAt = 0
  private logBuf = ''
  private exitInfo: ProcessExit | null = null
  private readonly exitPromise: Promise<ProcessExit>
  private readonly child: ChildProcess
  private readonly dir: string

  private constructor(opts: CellgateProcessOptions) {
    this.port = opts.port
    this.label = opts.label ?? `cellgate:${opts.port}`
    this.dir = mkdtempSync(join(tmpdir(), 'cellgate-proc-'))
    const config = {
      listen: { amqp: { host: '127.0.0.1', port: opts.port } },
      cells: (opts.cells ?? [{ name: 'cell1', rabbit: process.env.CELLGATE_TEST_RABBIT ?? 'amqp://guest:guest@127.0.0.1:5672/' }]).map(
        (c) => ({ name: c.name, rabbit: c.rabbit, disabled: c.disabled ?? false }),
      ),
      vhosts: [{ name: '/' }],
      users: [{ name: 'guest', password: 'guest', vhosts: ['/'] }],
      ...(opts.upstream ? { upstream: opts.upstream } : {}),
      // Never the default admin/SQL ports: a cellgate started by hand may hold them.
      admin: { enabled: true, host: '127.0.0.1', port: 0 },
      sql: { enabled: false },
      log: { level: opts.logLevel ?? 'info', format: 'text' },
    }
    const configFile = join(this.dir, 'cellgate.json')
    writeFileSync(configFile, JSON.stringify(config, null, 2))
    this.child = spawn(process.execPath, [CELLGATE_MAIN, 'serve', '--config', configFile], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CELLGATE_CONFIG: '' },
    })
    this.pid = this.child.pid
    live.add(this)
    if (this.pid !== undefined) startWatchdog(this.pid, configFile)
    const onData = (s: string): void => {
      this.logBuf += s
      if (this.logBuf.length > LOG_KEEP * 2) this.logBuf = this.logBuf.slice(-LOG_KEEP)
    }
    this.child.stdout?.setEncoding('utf8').on('data', onData)
    this.child.stderr?.setEncoding('utf8').on('data', onData)
    this.exitPromise = new Promise<ProcessExit>((resolve) => {
      this.child.on('error', (err) => onData(`[spawn error] ${err.message}\n`))
      this.child.on('close', (code, signal) => {
        live.delete(this)
        this.exitInfo = { code, signal }
        onData(`--- cellgate exited (code ${code}, signal ${signal})\n`)
        try {
          rmSync(this.dir, { recursive: true, force: true })
        } catch {
          // best effort
        }
        resolve(this.exitInfo)
      })
    })
  }

  /** Spawns cellgate and resolves once its AMQP port accepts connections. */
  static async start(opts: CellgateProcessOptions, timeoutMs = 20_000): Promise<CellgateProcess> {
    const p = new CellgateProcess(opts)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (p.exitInfo) throw new Error(`${p.label} exited during start\n${p.diagnostics()}`)
      if (await portAccepts(opts.port)) break
      if (Date.now() > deadline) {
        p.kill('SIGKILL')
        throw new Error(`${p.label} not listening on ${opts.port} after ${timeoutMs} ms\n${p.diagnostics()}`)
      }
      await sleep(50)
    }
    p.readyAt = Date.now()
    return p
  }

  get log(): string {
    return this.logBuf
  }

  get exited(): ProcessExit | null {
    return this.exitInfo
  }

  get whenExited(): Promise<ProcessExit> {
    return this.exitPromise
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exitInfo !== null) return
    try {
      this.child.kill(signal)
    } catch {
      // already gone
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL after graceMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo
    this.kill(signal)
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([
      this.exitPromise,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs)
      }),
    ])
    if (timer) clearTimeout(timer)
    if (r !== 'timeout') return r
    this.logBuf += `--- did not exit ${graceMs} ms after ${signal}: SIGKILL\n`
    this.kill('SIGKILL')
    return this.exitPromise
  }

  diagnostics(chars = 8_000): string {
    const state = this.exitInfo ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : 'running'
    return [`${this.label} (pid ${this.pid}, port ${this.port}, ${state}) log tail:`, this.logBuf.slice(-chars)].join('\n')
  }
}

/** Starts cellgate as a process; it is stopped (SIGTERM, then SIGKILL) in `t`'s teardown. */
export async function startCellgateProcess(t: Teardownable, opts: CellgateProcessOptions): Promise<CellgateProcess> {
  const p = await CellgateProcess.start(opts)
  t.teardown(() => p.stop('SIGTERM', 5_000))
  return p
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function portAccepts(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1')
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      s.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}
