import type { SpanContext } from '@opentelemetry/api'

/** An oslo call seen going out, waiting for its reply to be delivered. */
export interface PendingCall {
  readonly startedAt: bigint
  readonly replyQueue: string
  readonly topic: string
  /** The span the server's reply continues (the request's delivery, else its receipt); sampled calls only. */
  trace: SpanContext | undefined
}

export interface RpcTrackerOptions {
  readonly maxEntries: number
  /** A call older than this has lost its reply (oslo's default timeout is 60 s; call monitor can extend it). */
  readonly maxAgeMs: number
}

const DEFAULTS: RpcTrackerOptions = { maxEntries: 20_000, maxAgeMs: 10 * 60_000 }

/**
 * Calls by `_msg_id`, bounded in size and age so a reply that never comes (a timed-out call, a
 * caller that died) cannot leak. A Map iterates in insertion order, so the oldest entry is the
 * first: eviction is O(1) per entry and done on insert.
 */
export class RpcTracker {
  private readonly calls = new Map<string, PendingCall>()
  /** Pending calls per reply queue: tells a reply by where it goes, whatever the queue is named. */
  private readonly replyQueues = new Map<string, number>()
  private readonly opts: RpcTrackerOptions
  /** Calls dropped without a reply (age or size bound). */
  lost = 0

  constructor(opts: Partial<RpcTrackerOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts }
  }

  get size(): number {
    return this.calls.size
  }

  started(msgId: string, call: PendingCall): void {
    const oldestAllowed = call.startedAt - BigInt(this.opts.maxAgeMs) * 1_000_000n
    for (const [id, c] of this.calls) {
      if (this.calls.size < this.opts.maxEntries && c.startedAt >= oldestAllowed) break
      this.remove(id, c)
      this.lost++
    }
    // A resend of the same call (same _msg_id) restarts nothing: the first sighting is the start.
    if (this.calls.has(msgId)) return
    this.calls.set(msgId, call)
    this.replyQueues.set(call.replyQueue, (this.replyQueues.get(call.replyQueue) ?? 0) + 1)
  }

  /** True when a pending call named `queue` as its reply queue. */
  isReplyQueue(queue: string): boolean {
    return this.replyQueues.has(queue)
  }

  peek(msgId: string): PendingCall | undefined {
    return this.calls.get(msgId)
  }

  finish(msgId: string): PendingCall | undefined {
    const c = this.calls.get(msgId)
    if (c !== undefined) this.remove(msgId, c)
    return c
  }

  private remove(msgId: string, c: PendingCall): void {
    this.calls.delete(msgId)
    const n = this.replyQueues.get(c.replyQueue) ?? 0
    if (n <= 1) this.replyQueues.delete(c.replyQueue)
    else this.replyQueues.set(c.replyQueue, n - 1)
  }
}
