/**
 * The storm bench's cells: cellgate's generated config (cells as vhosts, every simulated host
 * pinned to a cell so placement is even and known) and what RabbitMQ lists in the run's vhosts.
 */
import { channelsPerVhost, listConnections, listQueues } from './multiplex-broker.js'
import type { CellBroker } from './storm-brokers.js'
import { conductorHost, SCHEDULER_HOST } from './storm-run.js'
import { hostsOf, type StormTrace } from './storm-trace.js'

/** Host → cell name: node i → cell (i mod n)+1, conductor k → cell (k mod n)+1, the scheduler → cell1. */
export function stormHostCells(trace: StormTrace, cells: number, conductors: number): Record<string, string> {
  const hosts: Record<string, string> = {}
  hostsOf(trace.header).forEach((h, i) => (hosts[h] = `cell${(i % cells) + 1}`))
  for (let k = 0; k < conductors; k++) hosts[conductorHost(k)] = `cell${(k % cells) + 1}`
  hosts[SCHEDULER_HOST] = 'cell1'
  return hosts
}

export function stormCellgateConfig(trace: StormTrace, o: { port: number; conductors: number; cellUrls: readonly string[] }): Record<string, unknown> {
  return {
    listen: { amqp: { host: '127.0.0.1', port: o.port } },
    cells: o.cellUrls.map((rabbit, k) => ({ name: `cell${k + 1}`, rabbit })),
    vhosts: [{ name: '/' }],
    users: [{ name: 'guest', password: 'guest', vhosts: ['*'] }],
    mapping: { hosts: stormHostCells(trace, o.cellUrls.length, o.conductors) },
    // Off the default admin/SQL ports: a developer's cellgate may be running beside the bench.
    admin: { enabled: false },
    sql: { enabled: false },
    log: { level: 'warn', format: 'text' },
  }
}

export interface StormBrokerView {
  connections: number
  channels: number
  queues: number
  consumers: number
  /** Messages still in queues (notification queues nobody consumes fill up, as in nova). */
  messagesLeft: number
  byVhost: Record<string, { connections: number; channels: number; queues: number }>
}

/** What the brokers list in the run's vhosts (one rabbitmqctl per node and listing). */
export async function brokerViewOf(cells: readonly CellBroker[]): Promise<StormBrokerView> {
  const view: StormBrokerView = { connections: 0, channels: 0, queues: 0, consumers: 0, messagesLeft: 0, byVhost: {} }
  const nodes = [...new Set(cells.map((c) => c.node))]
  for (const node of nodes) {
    const mine = cells.filter((c) => c.node === node).map((c) => c.vhost)
    const inRun = new Set(mine)
    const conns = (await listConnections(node.ctl)).filter((c) => inRun.has(c.vhost))
    const chans = await channelsPerVhost(node.ctl)
    view.connections += conns.length
    for (const v of mine) {
      const qs = await listQueues(v, node.ctl)
      const ch = chans.get(v) ?? 0
      view.byVhost[v] = { connections: conns.filter((c) => c.vhost === v).length, channels: ch, queues: qs.length }
      view.channels += ch
      view.queues += qs.length
      for (const q of qs) {
        view.consumers += q.consumers
        view.messagesLeft += q.messages
      }
    }
  }
  return view
}
