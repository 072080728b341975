/**
 * The brokers behind one configuration of the storm comparison. Three placements:
 *
 * - shared:  vhosts of the machine's RabbitMQ (cheap, but its socket limit is ~830 here and its
 *            CPU and memory include everyone else's use);
 * - private: one fresh private RabbitMQ node per configuration, started with a high `ulimit -n`,
 *            every cell a vhost on it (memory and CPU are this configuration's alone);
 * - nodes:   one fresh private node per cell (direct: one node), the closest to real cells.
 *
 * Fresh nodes per configuration so a configuration's broker memory is not what the one before it
 * left in the allocator.
 */
import { addVhost, ctl as sharedCtl, deleteVhost, processRss, type Ctl } from './multiplex-broker.js'
import { findBrokerPid } from './procs.js'
import { RabbitNode } from './rabbit-node.js'

export type BrokerMode = 'shared' | 'private' | 'nodes'

export interface BrokerNodeRef {
  /** `shared` or the private node's name. */
  name: string
  ctl: Ctl
  pid: number | undefined
  host: string
  port: number
}

export interface CellBroker {
  node: BrokerNodeRef
  vhost: string
  url: string
}

export interface ConfigBrokers {
  mode: BrokerMode
  nodes: BrokerNodeRef[]
  /** One per cell (direct: one). */
  cells: CellBroker[]
  /** Seconds the private nodes took to boot (0 for shared). */
  bootS: number
  /** Sum of the nodes' RSS right after boot and vhost creation, MiB (shared: the whole broker). */
  idleRssMiB: number | undefined
  close(): Promise<void>
}

export interface BrokerOptions {
  mode: BrokerMode
  /** The shared broker's AMQP address. */
  host: string
  port: number
  /** `ulimit -n` of private nodes. */
  nofile: number
}

const live = new Set<ConfigBrokers>()

function nodeCtl(n: RabbitNode): Ctl {
  return async (args) => {
    const r = await n.ctl([...args], 60_000)
    if (r.code !== 0) throw new Error(`rabbitmqctl -n ${n.nodeName} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
    return r.stdout
  }
}

export const urlOf = (host: string, port: number, vhost: string): string => `amqp://guest:guest@${host}:${port}/${encodeURIComponent(vhost)}`

export function sumRss(pids: readonly (number | undefined)[]): number | undefined {
  let total = 0
  for (const p of pids) {
    const r = processRss(p)
    if (r === undefined) return undefined
    total += r.rssMiB
  }
  return total
}

/**
 * Brokers and vhosts for configuration `label` with `cells` cells (direct: 1). Vhosts are named
 * `<prefix>-<label>-cellK` (direct: `<prefix>-direct`). Call close() to delete them (shared) or
 * destroy the nodes (private, nodes).
 */
export async function provisionBrokers(o: BrokerOptions, prefix: string, label: string, cells: number, progress: (s: string) => void): Promise<ConfigBrokers> {
  const vhostOf = (k: number): string => (label === 'direct' ? `${prefix}-direct` : `${prefix}-${label}-cell${k + 1}`)
  const started: RabbitNode[] = []
  const made: CellBroker[] = []
  const t0 = Date.now()
  const set: ConfigBrokers = {
    mode: o.mode,
    nodes: [],
    cells: made,
    bootS: 0,
    idleRssMiB: undefined,
    close: async () => {
      live.delete(set)
      if (o.mode === 'shared') {
        for (const c of made.splice(0)) await deleteVhost(c.vhost, c.node.ctl).catch((err: unknown) => progress(`cleanup: could not delete vhost ${c.vhost}: ${String(err)}`))
      }
      await Promise.all(started.splice(0).map((n) => n.destroy()))
    },
  }
  live.add(set)
  try {
    if (o.mode === 'shared') {
      set.nodes.push({ name: 'shared', ctl: sharedCtl, pid: findBrokerPid(), host: o.host, port: o.port })
    } else {
      const count = o.mode === 'private' ? 1 : cells
      progress(`${label}: starting ${count} private RabbitMQ node${count > 1 ? 's' : ''} (ulimit -n ${o.nofile})`)
      const nodes = await Promise.all(Array.from({ length: count }, () => RabbitNode.create({ prefix: 'cgstorm', nofile: o.nofile })))
      started.push(...nodes)
      await Promise.all(nodes.map((n) => n.start(120_000)))
      for (const n of nodes) set.nodes.push({ name: n.nodeName, ctl: nodeCtl(n), pid: n.beamPid, host: '127.0.0.1', port: n.port })
      set.bootS = (Date.now() - t0) / 1000
    }
    for (let k = 0; k < cells; k++) {
      const node = set.nodes[o.mode === 'nodes' ? k : 0]!
      const vhost = vhostOf(k)
      await addVhost(vhost, node.ctl)
      made.push({ node, vhost, url: urlOf(node.host, node.port, vhost) })
    }
    set.idleRssMiB = sumRss(set.nodes.map((n) => n.pid))
    return set
  } catch (err) {
    await set.close()
    throw err
  }
}

/** Every broker set not yet closed (for Ctrl-C and errors). */
export async function closeAllBrokers(): Promise<void> {
  await Promise.all([...live].map((s) => s.close()))
}
