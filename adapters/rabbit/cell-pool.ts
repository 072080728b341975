import type { Logger } from '../log/logger.js'
import { UpstreamConnection } from './upstream-connection.js'
import { BrokerConnection } from './wire/broker-connection.js'

export interface CellPoolOptions {
  cell: string
  /** Broker URL, e.g. amqp://guest:guest@127.0.0.1:5672/ ; its path is the upstream vhost. */
  url: string
  maxConnections: number
  /** Past this many open channels a connection counts as full and another one is opened (while under maxConnections). */
  channelsPerConnection: number
  heartbeatSeconds: number
  reconnectDelayMs: number
  reconnectMaxDelayMs: number
}

export type Connector = (url: string, clientName: string, heartbeat: number) => Promise<BrokerConnection>

const brokerConnector: Connector = (url, connectionName, heartbeat) => BrokerConnection.connect({ url, connectionName, heartbeat })

export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError'
}

/**
 * The broker connections of one cell. Client connections attach for their lifetime (affinity:
 * exclusive queues and consumer tags stay on one broker connection) and are spread over at most
 * `maxConnections` connections, least attached first. A broker that is down is retried with
 * exponential backoff for as long as someone waits.
 */
export class CellPool {
  private readonly live: UpstreamConnection[] = []
  private connecting: Promise<UpstreamConnection> | null = null
  private closed = false
  private serial = 0
  private failures = 0
  reconnects = 0

  constructor(
    private readonly opts: CellPoolOptions,
    private readonly log: Logger,
    private readonly connector: Connector = brokerConnector,
  ) {}

  get cell(): string {
    return this.opts.cell
  }

  /** False once connecting has failed and no connection is up: the broker is down, as far as we know. */
  get reachable(): boolean {
    return this.failures === 0 || this.connectionCount > 0
  }

  get connectionCount(): number {
    return this.live.filter((c) => c.isAlive).length
  }

  /** A connection for a new client: reuse the least attached, or open another while under the limit. */
  async acquire(): Promise<UpstreamConnection> {
    if (this.closed) throw new PoolClosedError(`cell ${this.opts.cell} is shutting down`)
    this.prune()
    const least = this.live.reduce<UpstreamConnection | undefined>(
      (best, c) => (best === undefined || c.attachedCount < best.attachedCount ? c : best),
      undefined,
    )
    const roomForMore = this.live.length < this.opts.maxConnections
    if (least === undefined) return this.connectOnce()
    const idle = least.attachedCount === 0 && least.openChannels < this.opts.channelsPerConnection
    // Spread clients over up to maxConnections connections; once at the limit, share the least busy.
    if (idle || !roomForMore) return least
    return this.connectOnce()
  }

  /**
   * Opens one connection now, in the background, so `reachable` says something true from the
   * start (/readyz) and the first client does not wait for the TCP and AMQP handshakes.
   */
  warm(): void {
    if (this.closed || this.connectionCount > 0) return
    this.connectOnce().catch(() => {})
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.live.map((c) => c.close()))
    this.live.length = 0
  }

  private prune(): void {
    for (let i = this.live.length - 1; i >= 0; i--) if (!this.live[i]!.isAlive) this.live.splice(i, 1)
  }

  /** Concurrent acquirers share one connection attempt, so a storm of clients opens one socket. */
  private connectOnce(): Promise<UpstreamConnection> {
    if (this.connecting) return this.connecting
    this.connecting = this.connectWithRetry().finally(() => {
      this.connecting = null
    })
    return this.connecting
  }

  private async connectWithRetry(): Promise<UpstreamConnection> {
    for (;;) {
      if (this.closed) throw new PoolClosedError(`cell ${this.opts.cell} is shutting down`)
      const id = `${this.opts.cell}#${++this.serial}`
      try {
        const broker = await this.connector(this.opts.url, `cellgate:${process.pid}:${id}`, this.opts.heartbeatSeconds)
        const conn = new UpstreamConnection(id, this.opts.cell, broker, this.log.child({ upstream: id }))
        // With its last connection gone the pool reconnects by itself: `reachable` must follow
        // the broker even while no client asks (a broker that died under an idle cell).
        conn.onLost(() => {
          this.prune()
          if (this.connectionCount === 0) this.warm()
        })
        if (this.failures > 0) {
          this.reconnects++
          this.log.info('broker reachable again', { cell: this.opts.cell, after_failures: this.failures })
        }
        this.failures = 0
        this.live.push(conn)
        this.log.debug('opened broker connection', { upstream: id })
        return conn
      } catch (err) {
        this.failures++
        const delay = Math.min(this.opts.reconnectDelayMs * 2 ** (this.failures - 1), this.opts.reconnectMaxDelayMs)
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn('cannot reach broker; retrying', {
            cell: this.opts.cell,
            err: (err as Error).message,
            attempt: this.failures,
            retry_ms: delay,
          })
        }
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }
}
