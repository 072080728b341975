// A private, throw-away RabbitMQ node for tests that must stop and start a
// broker: the machine's shared RabbitMQ (5672) is never touched.
//
// Everything the node writes lives in one temp dir: mnesia, logs, pid file,
// its own config (the machine's /etc/rabbitmq/rabbitmq.conf pins a listener
// on 5672 and /etc/rabbitmq/rabbitmq-env.conf a node name, so both are
// replaced), an enabled_plugins file with no plugins (management and
// prometheus would fight the shared node for 15672/15692), and a private
// HOME holding the Erlang cookie the server and our rabbitmqctl calls share.
// Stopping keeps the data dir, so start() again restarts the same node.
//
// Gotchas found on Debian bookworm, RabbitMQ 3.10.8 / Erlang 25:
// - /usr/sbin/rabbitmq-server and /usr/sbin/rabbitmqctl are wrappers that
//   `su rabbitmq` when run as root (HOME becomes /var/lib/rabbitmq, and the
//   rabbitmqctl wrapper refuses any other user): call /usr/lib/rabbitmq/bin/*.
// - `rabbitmqctl await_startup` fails at once while the node has not yet
//   registered with epmd, then polls only every 10 s: readiness is polled
//   here with a real AMQP handshake instead.
// - A boot takes ~8-9 s on a 2-CPU machine (most of it Erlang/mnesia start).
// - CLI tools use distribution ports 35672-35682 (RABBITMQ_CTL_DIST_PORT_*),
//   independent of RABBITMQ_DIST_PORT.
// - If no epmd runs, erl starts one as a daemon that outlives the node.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from 'amqplib'
import { freePort } from './procs.js'

/** Where the real (non-wrapper) RabbitMQ scripts live. */
export const RABBITMQ_BIN = process.env.CELLGATE_TEST_RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin'

const OUTPUT_KEEP = 64 * 1024
const live = new Set<RabbitNode>()

// Last resort when the test process exits without running teardowns.
process.on('exit', () => {
  for (const n of live) n.destroySync()
})

/**
 * A detached shell that outlives a test process killed by a signal (no 'exit' handlers run
 * then): once this process is gone it SIGKILLs the node's beam (pid file, checked against the
 * node's dir) and removes the dir. It ends by itself when the dir is removed by destroy().
 */
function startWatchdog(dir: string): void {
  const script = [
    `parent=${process.pid}`,
    'dir="$1"',
    'while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done',
    '[ -d "$dir" ] || exit 0',
    'pid=$(cat "$dir/rabbitmq.pid" 2>/dev/null)',
    'if [ -n "$pid" ] && grep -qaF "$dir" "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid"; fi',
    'sleep 1',
    'rm -rf "$dir"',
  ].join('\n')
  try {
    spawn('/bin/sh', ['-c', script, 'cellgate-rabbit-watchdog', dir], { detached: true, stdio: 'ignore' }).unref()
  } catch {
    // best effort: the 'exit' handler and teardowns still clean up in the usual cases
  }
}

export interface Teardownable {
  teardown(fn: () => unknown): void
}

export interface RabbitNodeOptions {
  /** Node name prefix (default "cgtest"); a random suffix is always added. */
  prefix?: string
  /**
   * Open-files limit the node starts with (`ulimit -n`; RabbitMQ allows ~90% of it as sockets).
   * Default: inherited. The machine's shared broker runs with 1024, i.e. 832 sockets.
   */
  nofile?: number
}

export interface TimedResult {
  ms: number
}

export class RabbitNode {
  readonly nodeName: string
  readonly port: number
  readonly distPort: number
  readonly dir: string
  private child: ChildProcess | null = null
  private childExit: Promise<void> = Promise.resolve()
  private output = ''
  private destroyed = false
  /** Start/stop durations measured so far, for reports. */
  readonly timings: { event: 'start' | 'stop'; ms: number }[] = []

  private constructor(nodeName: string, port: number, distPort: number, dir: string, private readonly nofile: number | undefined) {
    this.nodeName = nodeName
    this.port = port
    this.distPort = distPort
    this.dir = dir
  }

  /** Allocates ports and writes the node's files; does not start it. */
  static async create(opts: RabbitNodeOptions = {}): Promise<RabbitNode> {
    if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server'))) {
      throw new Error(`rabbitmq-server not found in ${RABBITMQ_BIN} (set CELLGATE_TEST_RABBITMQ_BIN)`)
    }
    const port = await freePort()
    let distPort = await freePort()
    while (distPort === port) distPort = await freePort()
    const name = `${opts.prefix ?? 'cgtest'}-${randomBytes(4).toString('hex')}@localhost`
    const dir = mkdtempSync(join(tmpdir(), 'cellgate-rabbit-'))
    const node = new RabbitNode(name, port, distPort, dir, opts.nofile)
    live.add(node)
    startWatchdog(dir)
    mkdirSync(join(dir, 'home'))
    const cookie = join(dir, 'home', '.erlang.cookie')
    writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase())
    chmodSync(cookie, 0o400)
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n')
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '# private test node: ignore /etc/rabbitmq/rabbitmq-env.conf\n')
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = 127.0.0.1:${port}`,
        // a temp dir on a full-ish disk must not block publishers
        'disk_free_limit.absolute = 1MB',
        'log.console = true',
        'log.console.level = warning',
        'log.file.level = info',
        '',
      ].join('\n'),
    )
    return node
  }

  /** amqp:// URL (guest/guest, vhost "/") for amqplib or a cellgate cell. */
  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`
  }

  /** The broker's own pid (beam.smp), for CPU and RSS figures; undefined when not running. */
  get beamPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'rabbitmq.pid'), 'utf8').trim())
      return Number.isInteger(pid) && pid > 1 ? pid : undefined
    } catch {
      return undefined
    }
  }

  get running(): boolean {
    return this.child !== null
  }

  private env(): NodeJS.ProcessEnv {
    const d = this.dir
    return {
      ...process.env,
      HOME: join(d, 'home'),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_PID_FILE: join(d, 'rabbitmq.pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_CONF_ENV_FILE: join(d, 'rabbitmq-env.conf'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      ERL_EPMD_ADDRESS: '127.0.0.1',
    }
  }

  /** Starts the node and waits until an AMQP client can log in. Returns how long that took. */
  async start(timeoutMs = 60_000): Promise<TimedResult> {
    if (this.destroyed) throw new Error(`${this.nodeName}: destroyed`)
    if (this.child) throw new Error(`${this.nodeName}: already running`)
    const started = Date.now()
    this.output += `\n--- start ${new Date().toISOString()}\n`
    // detached: its own process group, so the sh wrapper and beam can be killed together
    const server = join(RABBITMQ_BIN, 'rabbitmq-server')
    const [cmd, args] = this.nofile === undefined ? [server, []] : ['/bin/sh', ['-c', `ulimit -n ${this.nofile} && exec "$0"`, server]]
    const child = spawn(cmd, args, {
      cwd: this.dir,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    this.child = child
    let exited = false
    this.childExit = new Promise<void>((resolve) => {
      child.on('error', (err) => {
        this.append(`[spawn error] ${err.message}\n`)
      })
      child.on('close', (code, signal) => {
        exited = true
        this.append(`--- rabbitmq-server exited (code ${code}, signal ${signal})\n`)
        if (this.child === child) this.child = null
        resolve()
      })
    })
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.append(s))
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.append(s))

    const deadline = started + timeoutMs
    for (;;) {
      if (exited) throw new Error(`${this.nodeName}: rabbitmq-server exited during start\n${this.diagnostics()}`)
      if (await this.canLogin()) break
      if (Date.now() > deadline) {
        throw new Error(`${this.nodeName}: not accepting AMQP on ${this.port} after ${timeoutMs} ms\n${this.diagnostics()}`)
      }
      await sleep(200)
    }
    const ms = Date.now() - started
    this.timings.push({ event: 'start', ms })
    return { ms }
  }

  /**
   * Stops the node the way an operator would (`rabbitmqctl stop`: clients get
   * connection.close 320 CONNECTION_FORCED), then waits for the process to
   * exit; falls back to SIGTERM and SIGKILL. The data dir is kept.
   */
  async stop(timeoutMs = 30_000): Promise<TimedResult> {
    const started = Date.now()
    const child = this.child
    if (!child) return { ms: 0 }
    const r = await this.ctl(['stop'], timeoutMs)
    if (r.code !== 0) this.append(`--- rabbitmqctl stop failed (${r.code}): ${r.stderr.trim()}\n`)
    if (!(await this.waitExit(Math.max(1_000, timeoutMs - (Date.now() - started))))) {
      this.append('--- rabbitmq-server still running after stop: SIGTERM\n')
      this.signalGroup(child, 'SIGTERM')
      if (!(await this.waitExit(10_000))) {
        this.append('--- still running: SIGKILL\n')
        this.killHard(child)
        await this.waitExit(5_000)
      }
    }
    const ms = Date.now() - started
    this.timings.push({ event: 'stop', ms })
    return { ms }
  }

  /** Kills the broker like a crash would (SIGKILL to beam): clients see the TCP connection drop. */
  async crash(): Promise<void> {
    const child = this.child
    if (!child) return
    this.killHard(child)
    await this.waitExit(10_000)
  }

  /** Stop if running, kill whatever is left, and remove the temp dir. Never throws. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    try {
      if (this.child) await this.stop(15_000)
    } catch (err) {
      this.append(`--- stop during destroy failed: ${String(err)}\n`)
    }
    this.destroySync()
  }

  /** Synchronous last resort (process 'exit' handler): SIGKILL and rm -rf. */
  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    live.delete(this)
    if (this.child) this.killHard(this.child)
    else this.killBeamFromPidFile()
    try {
      rmSync(this.dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }

  /** rabbitmqctl -n <node> ARGS with the node's cookie; never throws. */
  ctl(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        join(RABBITMQ_BIN, 'rabbitmqctl'),
        ['-n', this.nodeName, ...args],
        { env: this.env(), timeout: timeoutMs, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          let code = 0
          if (err) code = typeof err.code === 'number' ? err.code : 1
          resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err?.message ?? '') })
        },
      )
    })
  }

  /** Node name, ports, dir, and the tail of its console output and log file. */
  diagnostics(chars = 6_000): string {
    let logTail = ''
    try {
      const f = join(this.dir, 'log', `${this.nodeName}.log`)
      if (existsSync(f)) logTail = readFileSync(f, 'utf8').slice(-chars)
    } catch {
      // ignore
    }
    return [
      `rabbit node ${this.nodeName} amqp=${this.port} dist=${this.distPort} dir=${this.dir} ${this.child ? `running pid ${this.child.pid}` : 'stopped'}`,
      `timings: ${JSON.stringify(this.timings)}`,
      '--- console output tail:',
      this.output.slice(-chars),
      '--- log file tail:',
      logTail,
    ].join('\n')
  }

  private append(s: string): void {
    this.output += s
    if (this.output.length > OUTPUT_KEEP * 2) this.output = this.output.slice(-OUTPUT_KEEP)
  }

  private async canLogin(): Promise<boolean> {
    try {
      const conn = await connect(this.amqpUrl, { timeout: 2_000 })
      conn.on('error', () => {})
      await conn.close().catch(() => {})
      return true
    } catch {
      return false
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (!this.child) return true
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([
      this.childExit.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms)
      }),
    ])
    if (timer) clearTimeout(timer)
    return r
  }

  private signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  }

  private killHard(child: ChildProcess): void {
    this.killBeamFromPidFile()
    this.signalGroup(child, 'SIGKILL')
  }

  private killBeamFromPidFile(): void {
    try {
      const pid = Number(readFileSync(join(this.dir, 'rabbitmq.pid'), 'utf8').trim())
      if (!Number.isInteger(pid) || pid <= 1) return
      // A stale pid file (after a crash) may name a recycled pid: only kill our own beam.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmdline.includes(this.dir)) process.kill(pid, 'SIGKILL')
    } catch {
      // no pid file or no such process
    }
  }
}

/** Creates and starts a private node; it is stopped and its dir removed in `t`'s teardown. */
export async function startRabbitNode(
  t: Teardownable,
  opts: RabbitNodeOptions = {},
): Promise<{ node: RabbitNode; startMs: number }> {
  const node = await RabbitNode.create(opts)
  t.teardown(() => node.destroy())
  const { ms } = await node.start()
  return { node, startMs: ms }
}
