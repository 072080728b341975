// Test environment: where the real services are, unique names per run, and
// small wrappers around rabbitmqctl and the broker used for cleanup.
//
// Defaults match a node-svc machine (../shared/services.sh); override with
// environment variables when the broker lives elsewhere.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect } from 'amqplib'

/** transport_url of the real RabbitMQ, as oslo.messaging clients write it. */
export const RABBIT_URL_DIRECT =
  process.env.CELLGATE_TEST_RABBIT_URL ?? 'rabbit://guest:guest@127.0.0.1:5672/'

/** The same broker as an amqp:// URL for amqplib (admin/cleanup only). */
export const AMQP_URL_DIRECT =
  process.env.CELLGATE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

/** Prefix of every queue/exchange/topic name the test suite creates. */
export const TEST_NAME_PREFIX = 'cgt'

// One free-port helper for bench and tests (bench/procs.ts).
export { freePort } from '../../bench/procs.js'

/**
 * A name no other run uses: `cgt-<prefix>-<base36 time>-<random hex>`.
 * Only [a-z0-9-]: oslo joins topic and server with "." and fanout queues
 * with "_", so those two characters must not appear inside a name.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-')
  return `${TEST_NAME_PREFIX}-${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

/** Run rabbitmqctl (never throws; non-zero exit is in `code`). ~0.6 s per call. */
export function rabbitmqctl(args: string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile('rabbitmqctl', args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      let code = 0
      if (err) code = typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err?.message ?? '') })
    })
  })
}

/** Queues on a vhost with their consumer counts (`rabbitmqctl list_queues`). */
export async function listQueues(vhost = '/'): Promise<{ name: string; consumers: number }[]> {
  const r = await rabbitmqctl(['list_queues', '-q', '-p', vhost, 'name', 'consumers'])
  if (r.code !== 0) throw new Error(`rabbitmqctl list_queues failed (${r.code}): ${r.stderr.trim()}`)
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split('\t'))
    .filter(([name, consumers]) => name && name !== 'name' && consumers !== undefined)
    .map(([name, consumers]) => ({ name: name as string, consumers: Number(consumers) }))
}

/** When the run that named a queue started (from uniqueName's time), if parseable. */
export function testNameTime(name: string): number | undefined {
  const m = /^cgt-.*?-([0-9a-z]{8,9})-[0-9a-f]{6}(?=$|[-._])/.exec(name)
  if (!m?.[1]) return undefined
  const ms = parseInt(m[1], 36)
  return ms > Date.UTC(2020, 0, 1) && ms < Date.now() + 86_400_000 ? ms : undefined
}

/**
 * Delete the run's queues (names starting with `prefix`) on the direct
 * broker, plus queues of earlier crashed runs: `cgt-` names older than
 * `staleAfterMs` (default 1 h) with no consumer. oslo's topic queues (`T`,
 * `T.S`) and notification queues (`<topic>.<prio>`, pool names) never expire
 * by themselves. Exchanges named in `exchanges` are deleted too. Returns the
 * deleted queue names.
 */
export async function deleteByPrefix(
  prefix: string,
  opts: { vhost?: string; amqpUrl?: string; exchanges?: string[]; staleAfterMs?: number } = {},
): Promise<string[]> {
  if (!prefix.startsWith(`${TEST_NAME_PREFIX}-`)) {
    throw new Error(`deleteByPrefix: refusing prefix ${JSON.stringify(prefix)} (must start with ${TEST_NAME_PREFIX}-)`)
  }
  const vhost = opts.vhost ?? '/'
  const staleBefore = Date.now() - (opts.staleAfterMs ?? 3_600_000)
  const isStale = (q: { name: string; consumers: number }): boolean => {
    const at = testNameTime(q.name)
    return q.consumers === 0 && at !== undefined && at < staleBefore
  }
  const names = (await listQueues(vhost)).filter((q) => q.name.startsWith(prefix) || isStale(q)).map((q) => q.name)
  const exchanges = opts.exchanges ?? []
  if (names.length === 0 && exchanges.length === 0) return []
  const base = opts.amqpUrl ?? AMQP_URL_DIRECT
  const url = vhost === '/' ? base : `${base.replace(/\/$/, '')}/${encodeURIComponent(vhost)}`
  const conn = await connect(url)
  try {
    const ch = await conn.createChannel()
    for (const n of names) await ch.deleteQueue(n)
    for (const x of exchanges) await ch.deleteExchange(x)
    await ch.close()
  } finally {
    await conn.close()
  }
  return names
}
