import { Count, LatencyHistogram } from './histogram.js'
import { Family } from './series.js'

/** Label value for a publish that went to several cells (a fanout): its latency is the slowest cell's. */
export const MULTI_CELL = 'multi'
/** Label value when no cell took the message (refused). */
export const NO_CELL = 'none'

/**
 * Everything counted per message, in plain fields the hot path bumps directly. Read at
 * collection time by metric-producer.ts; never reset (cumulative, as Prometheus expects).
 */
export class MessageMetrics {
  readonly startedAt = Date.now()
  /** Client publishes per cell, topic and outcome: routed, parked, refused, returned. */
  readonly messages = new Family(['cell', 'topic', 'outcome'], () => new Count())
  /** Client publish → every cell confirmed (or refused): what a confirm-mode publisher waits. */
  readonly publishLatency = new Family(['cell', 'kind'], () => new LatencyHistogram())
  readonly deliveries = new Family(['cell', 'topic'], () => new Count())
  /** Broker delivery handed to cellgate → written to the client. */
  readonly deliveryLatency = new Family(['cell', 'kind'], () => new LatencyHistogram())
  /** oslo call seen → its reply (same `_msg_id`) written to the caller. */
  readonly rpcLatency = new Family(['topic'], () => new LatencyHistogram())
  clientConnections = 0
  clientChannels = 0
  /** Observer failures swallowed so the front end never sees them. */
  errors = 0
}
