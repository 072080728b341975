import type { Socket } from 'node:net'
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import type { Logger } from '../log/logger.js'

/** What a client connection attached to an upstream connection hears about it. */
export interface UpstreamConnectionListener {
  blocked(reason: string): void
  unblocked(): void
  /** The broker connection is gone; every channel on it is already dead. */
  lost(reason: string): void
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
  openChannels = 0
  private readonly socket: Socket | undefined
  private corked = false

  constructor(
    readonly id: string,
    readonly cell: string,
    private readonly model: ChannelModel,
    private readonly log: Logger,
  ) {
    this.socket = socketOf(model)
    model.on('blocked', (reason: string) => {
      this.blocked = true
      log.warn('broker blocked the connection', { reason })
      for (const l of this.listeners) l.blocked(reason)
    })
    model.on('unblocked', () => {
      this.blocked = false
      log.info('broker unblocked the connection')
      for (const l of this.listeners) l.unblocked()
    })
    // amqplib emits 'error' before 'close' for server-initiated closes; 'close' always follows.
    model.on('error', (err: Error) => log.warn('broker connection error', { err: err.message }))
    model.on('close', (err?: Error) => this.markLost(err ? err.message : 'closed by broker'))
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

  /**
   * amqplib writes every frame with its own syscall. Corking the socket until the end of this
   * turn of the event loop (amqplib's muxer writes on nextTick, before setImmediate) sends a
   * burst of publishes and acks in one write: measured 78 → 54 µs CPU per forwarded message.
   */
  batchWrites(): void {
    const socket = this.socket
    if (this.corked || socket === undefined) return
    this.corked = true
    socket.cork()
    setImmediate(() => {
      this.corked = false
      socket.uncork()
    })
  }

  async openChannel(): Promise<ConfirmChannel> {
    const ch = await this.model.createConfirmChannel()
    this.openChannels++
    ch.once('close', () => this.openChannels--)
    return ch
  }

  async close(): Promise<void> {
    if (!this.alive) return
    this.alive = false
    try {
      await this.model.close()
    } catch {
      // Already closing or closed by the broker: nothing left to release.
    }
  }

  private markLost(reason: string): void {
    if (!this.alive) return
    this.alive = false
    this.log.warn('broker connection lost', { reason, clients: this.listeners.size })
    for (const l of [...this.listeners]) l.lost(reason)
    this.listeners.clear()
  }
}

/** amqplib keeps its socket at connection.stream (not public API; if it moves, writes just go out unbatched). */
function socketOf(model: ChannelModel): Socket | undefined {
  const stream = (model as unknown as { connection?: { stream?: unknown } }).connection?.stream
  return stream !== null && typeof stream === 'object' && typeof (stream as Socket).cork === 'function' ? (stream as Socket) : undefined
}
