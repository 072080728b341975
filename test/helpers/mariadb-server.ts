// A private mariadbd for one test file: its own datadir, socket, pid file and free port in a temp
// directory, root without a password (--skip-grant-tables), stopped and removed in teardown. Used
// as "the second server" of the SQL tests (shards on two servers, a shard that goes down) without
// touching the shared MariaDB on 3306.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { freePort } from './env.js'
import type { Teardownable } from './python.js'

const run = promisify(execFile)
const INSTALL_DB = process.env.CELLGATE_TEST_MARIADB_INSTALL ?? 'mariadb-install-db'
const MARIADBD = process.env.CELLGATE_TEST_MARIADBD ?? '/usr/sbin/mariadbd'

export interface MariadbServer {
  readonly host: string
  readonly port: number
  readonly user: 'root'
  readonly password: ''
  readonly dir: string
  /** The server is up (started and not stopped). */
  running(): boolean
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and resolves once it has exited. */
  stop(): Promise<void>
}

/** Starts a private mariadbd and waits until it answers a query. */
export async function startMariadb(t: Teardownable): Promise<MariadbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-mariadb-'))
  let proc: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let up = false
  const stop = async (): Promise<void> => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc?.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
    up = false
  }
  t.teardown(async () => {
    await stop()
    await rm(dir, { recursive: true, force: true })
  })
  const user = userInfo().username
  const datadir = join(dir, 'data')
  try {
    await run(INSTALL_DB, ['--no-defaults', `--datadir=${datadir}`, `--user=${user}`, '--skip-test-db', '--auth-root-authentication-method=normal'], { timeout: 120_000 })
  } catch (e) {
    throw new Error(`${INSTALL_DB} failed in ${dir}: ${(e as Error).message}`)
  }
  const port = await freePort()
  const errLog = join(dir, 'error.log')
  proc = spawn(
    MARIADBD,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${errLog}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--user=${user}`,
      '--skip-grant-tables',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      '--max-connections=200',
    ],
    { stdio: 'ignore' },
  )
  const child = proc
  exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      const log = await readFile(errLog, 'utf8').catch(() => '')
      throw new Error(`mariadbd exited with ${child.exitCode} before accepting connections:\n${log.split('\n').slice(-15).join('\n')}`)
    }
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 1000 })
      await c.query('SELECT 1')
      await c.end()
      break
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`mariadbd on :${port} did not answer within 60 s: ${(e as Error).message}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  up = true
  return { host: '127.0.0.1', port, user: 'root', password: '', dir, running: () => up, stop }
}
