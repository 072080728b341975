// Spawn the oslo.messaging driver scripts in test/python/ and follow their
// JSON-lines event stream.
//
// Protocol (see test/python/oslo_common.py): every stdout line is one JSON
// object with an "event" key; stderr is free-form logging kept for
// diagnostics. Long-running scripts (servers, listeners) stop cleanly when
// their stdin closes or on SIGTERM, so a dying test process never leaves
// them behind.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Readable, Writable } from 'node:stream'

/** Debian's interpreter: the one with python3-oslo.messaging installed. */
export const PYTHON = process.env.CELLGATE_TEST_PYTHON ?? '/usr/bin/python3'

/** Absolute path of test/python/. */
export const PY_DIR = fileURLToPath(new URL('../python/', import.meta.url))

export interface PyEvent {
  event: string
  /** seconds since the script started (monotonic) */
  t?: number
  [key: string]: unknown
}

export interface PyExit {
  code: number | null
  signal: NodeJS.Signals | null
  events: PyEvent[]
  stderr: string
}

/** The part of a tap Test that startPy needs. */
export interface Teardownable {
  teardown(fn: () => unknown): void
}

export type EventPredicate = (e: PyEvent) => boolean

const STDERR_KEEP = 256 * 1024
const live = new Set<PyProc>()

// Last resort if the test process exits without running teardowns.
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

interface Waiter {
  check(): boolean
  fail(err: Error): void
}

export class PyProc {
  readonly events: PyEvent[] = []
  readonly script: string
  readonly args: readonly string[]
  readonly pid: number | undefined
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>
  private stderrBuf = ''
  private exitInfo: PyExit | null = null
  private readonly exitPromise: Promise<PyExit>
  private readonly waiters = new Set<Waiter>()

  constructor(script: string, args: readonly string[]) {
    this.script = script
    this.args = args
    this.child = spawn(PYTHON, [script, ...args], {
      cwd: PY_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    })
    this.pid = this.child.pid
    live.add(this)
    // A script that exits early closes its stdin; don't crash on EPIPE.
    this.child.stdin.on('error', () => {})
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line))
    this.child.stderr.setEncoding('utf8')
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrBuf += chunk
      if (this.stderrBuf.length > STDERR_KEEP * 2) this.stderrBuf = this.stderrBuf.slice(-STDERR_KEEP)
    })
    // 'close' (not 'exit') so every stdout line has been parsed first.
    this.exitPromise = new Promise<PyExit>((resolve) => {
      let spawnError: Error | null = null
      this.child.on('error', (err) => {
        spawnError = err
      })
      this.child.on('close', (code, signal) => {
        live.delete(this)
        if (spawnError) this.stderrBuf += `\n[spawn error] ${spawnError.message}`
        this.exitInfo = { code, signal, events: this.events, stderr: this.stderrBuf }
        for (const w of [...this.waiters]) {
          if (!w.check()) w.fail(this.error(`exited (code ${code}, signal ${signal}) before the awaited event`))
        }
        resolve(this.exitInfo)
      })
    })
  }

  private onLine(line: string): void {
    let ev: PyEvent
    try {
      const parsed: unknown = JSON.parse(line)
      ev =
        parsed !== null && typeof parsed === 'object' && typeof (parsed as PyEvent).event === 'string'
          ? (parsed as PyEvent)
          : { event: 'raw', line }
    } catch {
      ev = { event: 'raw', line }
    }
    this.events.push(ev)
    for (const w of [...this.waiters]) w.check()
  }

  get stderr(): string {
    return this.stderrBuf
  }

  get exited(): PyExit | null {
    return this.exitInfo
  }

  /** Events with this name (optionally filtered). */
  named(name: string, pred?: EventPredicate): PyEvent[] {
    return this.events.filter((e) => e.event === name && (!pred || pred(e)))
  }

  /** Resolve when `predicate(events)` holds; reject on timeout or exit. */
  waitFor(predicate: (events: PyEvent[]) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const w: Waiter = {
        check: () => {
          if (!predicate(this.events)) return false
          done()
          resolve()
          return true
        },
        fail: (err) => {
          done()
          reject(err)
        },
      }
      const done = (): void => {
        if (timer) clearTimeout(timer)
        this.waiters.delete(w)
      }
      if (w.check()) return
      if (this.exitInfo) {
        reject(this.error(`already exited (code ${this.exitInfo.code}) without ${what}`))
        return
      }
      this.waiters.add(w)
      timer = setTimeout(() => w.fail(this.error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
    })
  }

  /** First event named `name` (matching `pred`), past or future. */
  async waitEvent(name: string, pred?: EventPredicate, timeoutMs = 30_000): Promise<PyEvent> {
    const find = (): PyEvent | undefined => this.events.find((e) => e.event === name && (!pred || pred(e)))
    await this.waitFor(() => find() !== undefined, timeoutMs, `event "${name}"`)
    return find() as PyEvent
  }

  /** Wait for the process to exit by itself; kill it after `timeoutMs`. */
  async done(timeoutMs = 120_000): Promise<PyExit> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const r = await Promise.race([this.exitPromise, timeout])
    if (timer) clearTimeout(timer)
    if (r === 'timeout') {
      await this.stop(2_000)
      throw this.error(`did not exit within ${timeoutMs} ms (killed)`)
    }
    return r
  }

  /**
   * Stop cleanly: close stdin and send SIGTERM (the scripts then run
   * server.stop()/wait() and transport.cleanup()); SIGKILL after graceMs.
   */
  async stop(graceMs = 10_000): Promise<PyExit> {
    if (this.exitInfo) return this.exitInfo
    this.child.stdin.end()
    this.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL')
        resolve()
      }, graceMs)
    })
    await Promise.race([this.exitPromise, killer])
    if (timer) clearTimeout(timer)
    return this.exitPromise
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exitInfo === null && this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.kill(signal)
      } catch {
        // already gone
      }
    }
  }

  /** Script, args, exit status, recent events and stderr tail, for failure messages. */
  diagnostics(maxEvents = 25, stderrChars = 4_000): string {
    const recent = this.events.slice(-maxEvents).map((e) => JSON.stringify(e).slice(0, 400))
    const exit = this.exitInfo ? `exit code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : 'running'
    return [
      `${this.script} ${this.args.join(' ')} (pid ${this.pid}, ${exit}, ${this.events.length} events)`,
      '--- last events:',
      ...recent,
      '--- stderr tail:',
      this.stderrBuf.slice(-stderrChars),
    ].join('\n')
  }

  private error(msg: string): Error {
    return new Error(`${this.script}: ${msg}\n${this.diagnostics()}`)
  }
}

/** Start a script from test/python/; it is stopped in `t`'s teardown. */
export function startPy(t: Teardownable, script: string, args: readonly string[]): PyProc {
  const p = new PyProc(script, args)
  t.teardown(() => p.stop())
  return p
}

/** Start a script and wait for it to exit (e.g. a client scenario). */
export async function runPy(
  t: Teardownable,
  script: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<PyExit & { proc: PyProc }> {
  const p = startPy(t, script, args)
  const r = await p.done(timeoutMs)
  return { ...r, proc: p }
}
