import { connect, type ChannelModel, type GetMessage, type Options } from 'amqplib'

/** The queue and headers cellgate parks messages with (app/amqp-routing.ts writes them). */
export const PARKED_QUEUE = 'cellgate.parked'
export const PARKED_HEADER_PREFIX = 'x-cellgate-parked-'

export interface ParkedMessage {
  /** Position in the queue, from 1. */
  readonly n: number
  readonly host: string
  readonly reason: string
  /** The cell the mapping named when the message was parked. */
  readonly mappedCell: string
  readonly exchange: string
  readonly routingKey: string
  readonly bytes: number
  readonly redelivered: boolean
}

export interface ReplayOutcome {
  readonly replayed: number
  /** Messages left parked, by why. */
  readonly left: Readonly<Record<string, number>>
}

/** Where a parked message should go now, or why it stays parked. */
export type ReplayTarget = { readonly url: string } | { readonly stay: string }

/**
 * Reads up to `limit` parked messages without consuming them: they are fetched unacknowledged on
 * one channel and returned to the queue, in their order, when the channel closes.
 */
export async function listParked(url: string, limit: number): Promise<{ total: number; messages: ParkedMessage[] }> {
  const conn = await connect(url)
  try {
    const ch = await conn.createChannel()
    const total = (await ch.checkQueue(PARKED_QUEUE)).messageCount
    const messages: ParkedMessage[] = []
    while (messages.length < Math.min(limit, total)) {
      const msg = await ch.get(PARKED_QUEUE, { noAck: false })
      if (msg === false) break
      messages.push(describe(msg, messages.length + 1))
    }
    await ch.close()
    return { total, messages }
  } finally {
    await conn.close().catch(() => {})
  }
}

/**
 * Re-sends parked messages whose host now has a cell: each goes to that cell's broker under its
 * original exchange and routing key, mandatory and confirmed, and only then is it removed from
 * the parking queue. A message that comes back unroutable (no queue for the host there yet) or
 * whose host still has no cell stays parked.
 */
export async function replayParked(parkingUrl: string, limit: number, target: (m: ParkedMessage) => ReplayTarget): Promise<ReplayOutcome> {
  const conn = await connect(parkingUrl)
  const shards = new Map<string, ChannelModel>()
  let replayed = 0
  const left: Record<string, number> = {}
  const stay = (why: string): void => {
    left[why] = (left[why] ?? 0) + 1
  }
  try {
    const ch = await conn.createChannel()
    const total = (await ch.checkQueue(PARKED_QUEUE)).messageCount
    for (let n = 1; n <= Math.min(limit, total); n++) {
      const msg = await ch.get(PARKED_QUEUE, { noAck: false })
      if (msg === false) break
      const parked = describe(msg, n)
      const to = target(parked)
      if ('stay' in to) {
        stay(to.stay)
        continue
      }
      let shard = shards.get(to.url)
      if (shard === undefined) {
        shard = await connect(to.url)
        shards.set(to.url, shard)
      }
      const sent = await resend(shard, parked, msg)
      if (sent === true) {
        ch.ack(msg)
        replayed++
      } else stay(sent)
    }
    await ch.close()
    return { replayed, left }
  } finally {
    for (const s of shards.values()) await s.close().catch(() => {})
    await conn.close().catch(() => {})
  }
}

/** true once the shard confirmed it with no return; else why it stays parked. */
async function resend(shard: ChannelModel, parked: ParkedMessage, msg: GetMessage): Promise<true | string> {
  const ch = await shard.createConfirmChannel()
  let returned = false
  let failure: string | undefined
  ch.on('return', () => {
    returned = true
  })
  ch.on('error', (err: Error) => {
    failure = err.message
  })
  try {
    await ch.checkExchange(parked.exchange === '' ? 'amq.direct' : parked.exchange)
    const headers = Object.fromEntries(Object.entries((msg.properties.headers ?? {}) as Record<string, unknown>).filter(([k]) => !k.startsWith(PARKED_HEADER_PREFIX)))
    const props: Options.Publish = { ...(msg.properties as Options.Publish), headers, mandatory: true }
    ch.publish(parked.exchange, parked.routingKey, msg.content, props)
    await ch.waitForConfirms()
    await ch.close()
  } catch (err) {
    return `shard refused: ${failure ?? (err as Error).message}`
  }
  return returned ? 'no queue for the host in its cell yet' : true
}

function describe(msg: GetMessage, n: number): ParkedMessage {
  const h = (msg.properties.headers ?? {}) as Record<string, unknown>
  const text = (k: string): string => {
    const v = h[PARKED_HEADER_PREFIX + k]
    return Buffer.isBuffer(v) ? v.toString() : typeof v === 'string' ? v : ''
  }
  return {
    n,
    host: text('host'),
    reason: text('reason'),
    mappedCell: text('cell'),
    exchange: text('exchange'),
    routingKey: text('routing-key'),
    bytes: msg.content.length,
    redelivered: msg.fields.redelivered,
  }
}
