/**
 * Child processes of the benchmark (cellgate, the TCP relay) and CPU accounting from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect as tcpConnect, createServer } from 'node:net'

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const CLK_TCK: number = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(v) && v > 0 ? v : 100
  } catch {
    return 100
  }
})()

/** utime+stime of a process in milliseconds, or undefined when it is gone / unreadable. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // rest[0] is field 3 (state), so field 14 (utime) is rest[11] and field 15 (stime) rest[12].
    const ticks = Number(rest[11]) + Number(rest[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / CLK_TCK : undefined
  } catch {
    return undefined
  }
}

/** The pid of the local RabbitMQ (beam.smp), if one is visible in /proc; for broker CPU figures. */
export function findBrokerPid(): number | undefined {
  let best: { pid: number; cpu: number } | undefined
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim()
      if (comm !== 'beam.smp') continue
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (!cmdline.includes('rabbit')) continue
      const pid = Number(entry)
      const cpu = processCpuMs(pid) ?? 0
      // rabbitmqctl also runs a beam.smp; the broker is the long-lived, busy one.
      if (best === undefined || cpu > best.cpu) best = { pid, cpu }
    } catch {
      // Process vanished or not ours to read: skip.
    }
  }
  return best?.pid
}

/** A free TCP port on 127.0.0.1 (bound and released: racy, fine for a benchmark). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('freePort: no TCP address'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs or if `alive()` turns false. */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host, port })
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (!alive()) throw new Error(`process exited before ${host}:${port} accepted connections`)
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface Child {
  readonly name: string
  readonly proc: ChildProcess
  readonly pid: number | undefined
  /** The last lines it wrote (stdout and stderr), for error messages. */
  tail(): string
  alive(): boolean
  /** SIGTERM, then SIGKILL after graceMs; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>
}

const live = new Set<Child>()

/**
 * Spawns `node <args>` (the same node binary). stderr lines are echoed to our stderr with a
 * `[name]` prefix (cellgate runs at --log-level warn, so anything printed is worth seeing).
 */
export function spawnNode(name: string, args: readonly string[], opts: { cwd: string; nodeArgs?: readonly string[]; onLine?: (line: string) => void }): Child {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  let exited = false
  const exitedP = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exited = true
      live.delete(child)
      resolve()
    })
  })
  const collect = (stream: NodeJS.ReadableStream | null, echo: boolean): void => {
    if (!stream) return
    let buf = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        lines.push(line)
        if (lines.length > 40) lines.shift()
        opts.onLine?.(line)
        if (echo) process.stderr.write(`[${name}] ${line}\n`)
      }
    })
  }
  collect(proc.stdout, false)
  collect(proc.stderr, true)
  proc.stdin?.on('error', () => {})
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    tail: () => lines.join('\n'),
    alive: () => !exited,
    stop: async (graceMs = 5000) => {
      if (exited) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exitedP
      clearTimeout(timer)
    },
  }
  live.add(child)
  return child
}

/** Last resort on process exit: synchronous SIGKILL of every child still running. */
export function killAllChildrenSync(): void {
  for (const c of live) {
    try {
      c.proc.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

export function liveChildren(): Child[] {
  return [...live]
}
