/**
 * Sends what one event-loop turn wrote to a client in as few socket writes as possible: buffers
 * are queued and flushed in the check phase (setImmediate), after every socket readable in this
 * turn had its say, at no added latency. A relayed reply's packets are views of one backend chunk
 * lying back to back (packet-parser.ts hands out the framed bytes), so consecutive views of the
 * same memory are joined into one view: a point SELECT's whole reply leaves in one write, copied
 * nowhere.
 *
 * Like amqp091/turn-writer.ts (cork per turn), but that one writes to a fixed socket and keeps
 * every buffer separate; here the target is looked up at flush time (the socket becomes a
 * TLSSocket after the SSLRequest) and adjacent views are merged before they reach the stream.
 */
import type { Writable } from 'node:stream'

export class TurnBatch {
  private pending: Buffer[] = []
  private scheduled = false
  private holds = 0
  private readonly flushNow = (): void => this.flush()

  /** `target()` is the stream to write to at flush time. */
  constructor(private readonly target: () => Writable) {}

  write(b: Buffer): void {
    const n = this.pending.length
    const last = n > 0 ? this.pending[n - 1]! : null
    if (last !== null && last.buffer === b.buffer && last.byteOffset + last.length === b.byteOffset) {
      this.pending[n - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + b.length)
    } else this.pending.push(b)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushNow)
    }
  }

  /**
   * Keeps what is written from leaving until the returned release is called: a reply that must
   * not reach the client before cellgate's own bookkeeping for it is durable.
   */
  hold(): () => void {
    this.holds++
    let released = false
    return () => {
      if (released) return
      released = true
      this.holds--
      this.flush()
    }
  }

  /** Sends what this turn wrote now (before end(), or before the socket changes), unless held. */
  flush(): void {
    this.scheduled = false
    if (this.holds > 0) return
    const bufs = this.pending
    if (bufs.length === 0) return
    this.pending = []
    const out = this.target()
    if (out.destroyed) return
    if (bufs.length === 1) {
      out.write(bufs[0]!)
      return
    }
    out.cork()
    for (const b of bufs) out.write(b)
    out.uncork()
  }
}
