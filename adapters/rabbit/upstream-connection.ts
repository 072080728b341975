import type { Logger } from '../log/logger.js'
import { IGNORING_HANDLER, type BrokerChannel, type BrokerChannelHandler } from './wire/broker-channel.js'
import type { BrokerConnection } from './wire/broker-connection.js'

/** What a client connection attached to an upstream connection hears about it. */
export interface UpstreamConnectionListener {
  blocked(reason: string, conn: UpstreamConnection): void
  unblocked(conn: UpstreamConnection): void
  /** The broker connection is gone; every channel on it is already dead. */
  lost(reason: string, conn: UpstreamConnection): void
}

/**
 * One pooled broker connection. Many client connections attach to it (multiplexing); each of
 * their channels becomes one broker channel here. It owns nothing else: channels are owned by
 * the client channel that opened them.
 */
export class UpstreamConnection {
  private readonly listeners = new Set<UpstreamConnectionListener>()
  private alive = true
  blocked = false
  private readonly lostCallbacks: Array<() => void> = []

  constructor(
    readonly id: string,
    readonly cell: string,
    private readonly broker: BrokerConnection,
    private readonly log: Logger,
  ) {
    broker.setEvents({
      blocked: (reason) => {
        this.blocked = true
        log.warn('broker blocked the connection', { reason })
        for (const l of this.listeners) l.blocked(reason, this)
      },
      unblocked: () => {
        this.blocked = false
        log.info('broker unblocked the connection')
        for (const l of this.listeners) l.unblocked(this)
      },
      lost: (reason) => this.markLost(reason),
    })
  }

  get isAlive(): boolean {
    return this.alive
  }

  get attachedCount(): number {
    return this.listeners.size
  }

  attach(listener: UpstreamConnectionListener): void {
    this.listeners.add(listener)
  }

  detach(listener: UpstreamConnectionListener): void {
    this.listeners.delete(listener)
  }

  get openChannels(): number {
    return this.broker.openChannelCount
  }

  /** A channel in confirm mode; without a handler, for work that only awaits its answers (declarations, moves). */
  openChannel(handler: BrokerChannelHandler = IGNORING_HANDLER, prefetch?: { count: number; global: boolean }): Promise<BrokerChannel> {
    return this.broker.openChannel(handler, prefetch)
  }

  async close(): Promise<void> {
    if (!this.alive) return
    this.alive = false
    await this.broker.close()
  }

  /** Called once when the broker connection is lost (not when cellgate closes it). */
  onLost(cb: () => void): void {
    this.lostCallbacks.push(cb)
  }

  private markLost(reason: string): void {
    if (!this.alive) return
    this.alive = false
    for (const cb of this.lostCallbacks) cb()
    this.log.warn('broker connection lost', { reason, clients: this.listeners.size })
    for (const l of [...this.listeners]) l.lost(reason, this)
    this.listeners.clear()
  }
}

