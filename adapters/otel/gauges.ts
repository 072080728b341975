import type { Meter } from '@opentelemetry/api'
import type { MessageMetrics } from './message-metrics.js'
import type { RpcTracker } from './rpc-tracker.js'

/** What a cell's broker pool shows (adapters/rabbit/cell-pool.ts CellPool). */
export interface PoolGauges {
  readonly connectionCount: number
  readonly reconnects: number
  readonly reachable: boolean
}

/**
 * Values that already exist somewhere (pools, connection counts): read only when collected, so
 * they cost nothing between scrapes.
 */
export function registerGauges(meter: Meter, pools: ReadonlyMap<string, PoolGauges>, m: MessageMetrics, rpc: RpcTracker): void {
  meter
    .createObservableGauge('cellgate.upstream.connections', { description: 'Open broker connections per cell', unit: '{connection}' })
    .addCallback((r) => {
      for (const [cell, p] of pools) r.observe(p.connectionCount, { cell })
    })
  meter
    .createObservableGauge('cellgate.upstream.reachable', { description: '1 when the cell broker is reachable (what /readyz checks)' })
    .addCallback((r) => {
      for (const [cell, p] of pools) r.observe(p.reachable ? 1 : 0, { cell })
    })
  meter
    .createObservableCounter('cellgate.upstream.reconnects', { description: 'Broker connections re-established after failures, per cell', unit: '{reconnect}' })
    .addCallback((r) => {
      for (const [cell, p] of pools) r.observe(p.reconnects, { cell })
    })
  meter
    .createObservableUpDownCounter('cellgate.client.connections', { description: 'Open client AMQP connections', unit: '{connection}' })
    .addCallback((r) => r.observe(m.clientConnections))
  meter
    .createObservableUpDownCounter('cellgate.client.channels', { description: 'Open client AMQP channels', unit: '{channel}' })
    .addCallback((r) => r.observe(m.clientChannels))
  meter
    .createObservableGauge('cellgate.rpc.pending', { description: 'oslo calls waiting for their reply', unit: '{call}' })
    .addCallback((r) => r.observe(rpc.size))
}
