/**
 * What the multiplexing benchmark asks RabbitMQ itself, through rabbitmqctl / rabbitmq-diagnostics
 * (the broker's own view is the point of the benchmark: client-side counts say nothing about what
 * a proxy opens upstream). Every call is async so AMQP heartbeats keep flowing meanwhile.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'

function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message.trim()}${stderr ? `\n${stderr.trim()}` : ''}`))
      else resolve(stdout)
    })
  })
}

/** Runs rabbitmqctl with these arguments against one broker node; resolves with its stdout. */
export type Ctl = (args: readonly string[]) => Promise<string>

/** The machine's RabbitMQ (the default node of `rabbitmqctl`). */
export const ctl: Ctl = (args) => run('rabbitmqctl', args)

/** Tab-separated rows of a `-q` listing (rabbitmqctl 3.10 still prints the header line with -q: dropped). */
function rows(out: string, header: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && l.trim() !== header)
    .map((l) => l.split('\t'))
}

export async function addVhost(vhost: string, c: Ctl = ctl): Promise<void> {
  await c(['add_vhost', vhost])
  await c(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'])
}

export async function deleteVhost(vhost: string, c: Ctl = ctl): Promise<void> {
  await c(['delete_vhost', vhost])
}

/** Vhosts whose name starts with `prefix` (leftovers of an interrupted run are found this way too). */
export async function listVhosts(prefix: string): Promise<string[]> {
  return rows(await ctl(['list_vhosts', '-q', 'name']), 'name')
    .map((r) => r[0]!)
    .filter((v) => v.startsWith(prefix))
}

export interface ConnectionRow {
  vhost: string
  /** connection_name the client gave (cellgate: `cellgate:<pid>:<cell>#<n>`), '' if none. */
  clientName: string
  channels: number
}

// client_properties print as Erlang terms: [{"connection_name","nova-compute:1:ab"},...]
const CONN_NAME = /"connection_name","((?:[^"\\]|\\.)*)"/u

/** Every connection the broker has, with its vhost, channel count and client-given name. */
export async function listConnections(c: Ctl = ctl): Promise<ConnectionRow[]> {
  const out = await c(['list_connections', '-q', 'vhost', 'channels', 'client_properties'])
  return rows(out, 'vhost\tchannels\tclient_properties').map((r) => ({
    vhost: r[0] ?? '',
    channels: Number(r[1] ?? 0),
    clientName: CONN_NAME.exec(r.slice(2).join('\t'))?.[1] ?? '',
  }))
}

/** Number of channels per vhost, as the broker counts them. */
export async function channelsPerVhost(c: Ctl = ctl): Promise<Map<string, number>> {
  const m = new Map<string, number>()
  for (const r of rows(await c(['list_channels', '-q', 'vhost']), 'vhost')) m.set(r[0]!, (m.get(r[0]!) ?? 0) + 1)
  return m
}

export interface QueueRow {
  name: string
  consumers: number
  messages: number
}

export async function listQueues(vhost: string, c: Ctl = ctl): Promise<QueueRow[]> {
  return rows(await c(['list_queues', '-p', vhost, '-q', 'name', 'consumers', 'messages']), 'name\tconsumers\tmessages').map((r) => ({
    name: r[0]!,
    consumers: Number(r[1] ?? 0),
    messages: Number(r[2] ?? 0),
  }))
}

export interface SocketBudget {
  limit: number
  used: number
}

/**
 * The broker's socket limit. RabbitMQ derives it from its `ulimit -n` at boot (1024 here → 832
 * sockets); past it, new connections queue in accept and the direct run would hang, so the
 * benchmark checks its plan against this first.
 */
export async function socketBudget(): Promise<SocketBudget | undefined> {
  try {
    const out = await run('rabbitmq-diagnostics', ['status', '--formatter', 'json'])
    const fd = (JSON.parse(out) as { file_descriptors?: { sockets_limit?: unknown; sockets_used?: unknown } }).file_descriptors
    if (typeof fd?.sockets_limit !== 'number' || typeof fd.sockets_used !== 'number') return undefined
    return { limit: fd.sockets_limit, used: fd.sockets_used }
  } catch {
    return undefined
  }
}

/** Resident set size (current and peak) of a process, from /proc/<pid>/status, in MiB. */
export function processRss(pid: number | undefined): { rssMiB: number; hwmMiB: number } | undefined {
  if (pid === undefined) return undefined
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'mu').exec(status)?.[1] ?? Number.NaN)
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}
