import type { Logger } from '../log/logger.js'
import type { UpstreamConnection } from './upstream-connection.js'
import type { BrokerChannel, BrokerGetMessage } from './wire/broker-channel.js'

export interface DrainOptions {
  /** Quiet time after the last message before the source queue counts as empty (late publishes still in flight). */
  settleMs: number
  /** Give up after this long; what is left stays in the source queue (never lost). */
  maxMs: number
}

export interface DrainResult {
  moved: number
  /** The source queue was empty, unused and deleted. */
  deleted: boolean
}

/**
 * Moves every message of `queue` on one broker to the queue of the same name on another, one at
 * a time: get, publish with a confirm, and only then ack the original. A message is therefore
 * never lost, and duplicated only if cellgate dies between the confirm and the ack (the broker
 * then redelivers it, flagged redelivered). When the source stays empty for `settleMs` it is
 * deleted if nobody consumes it any more.
 */
export async function drainQueue(from: UpstreamConnection, to: UpstreamConnection, queue: string, opts: DrainOptions, log: Logger): Promise<DrainResult> {
  const src = await from.openChannel()
  const dst = await to.openChannel()
  let moved = 0
  let deleted = false
  const deadline = Date.now() + opts.maxMs
  try {
    // Never move into a queue that does not exist: the broker would confirm and drop the message.
    await dst.checkQueue(queue)
    let quietSince = Date.now()
    while (Date.now() < deadline) {
      const msg = await src.get(queue)
      if (msg === null) {
        if (Date.now() - quietSince >= opts.settleMs) {
          deleted = await deleteIfEmpty(src, queue)
          if (deleted) break
          quietSince = Date.now()
        }
        await new Promise((r) => setTimeout(r, 50))
        continue
      }
      await forward(dst, queue, msg)
      src.ack(msg.fields.deliveryTag, false)
      moved++
      quietSince = Date.now()
    }
  } finally {
    await src.close().catch(() => {})
    await dst.close().catch(() => {})
  }
  if (!deleted) log.warn('queue not fully drained in time; what is left stays where it was', { queue, moved, from: from.cell, to: to.cell })
  return { moved, deleted }
}

function forward(dst: BrokerChannel, queue: string, msg: BrokerGetMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    dst.publish('', queue, msg.content, msg.properties, false, (nacked) => (nacked ? reject(new Error('broker refused (nacked) the moved message')) : resolve()))
  })
}

/** RabbitMQ refuses (406) a delete with if-empty/if-unused when the queue is not: that closes the channel, so probe first. */
async function deleteIfEmpty(ch: BrokerChannel, queue: string): Promise<boolean> {
  const q = await ch.checkQueue(queue)
  if (q.messageCount > 0 || q.consumerCount > 0) return false
  await ch.deleteQueue(queue, true, true)
  return true
}
