import type { Logger } from '../log/logger.js'
import type { UpstreamConnection } from '../rabbit/upstream-connection.js'
import type { BrokerChannel } from '../rabbit/wire/broker-channel.js'
import { isServerNamed, type TopologyRecord } from './topology-record.js'

/** What is declared (for the log) and how. */
type Declaration = [string, (ch: BrokerChannel) => Promise<unknown>]

/**
 * Re-declares a connection's recorded topology on a scratch channel of the new broker connection,
 * so that one refused declaration (a changed durable flag, say) cannot close a client's channel;
 * each failure costs the scratch channel and the next entity gets a fresh one. Server-named
 * queues (amq.gen-*) cannot be declared by name again: their consumers are cancelled instead.
 * Only what lives on the connection's cell is replayed; exchanges go everywhere a channel may
 * publish or bind.
 */
export async function replay(t: TopologyRecord, conn: UpstreamConnection, log: Logger): Promise<void> {
  const steps: Declaration[] = [
    ...[...t.exchanges.values()].map((e): Declaration => [
      `exchange ${e.name}`,
      async (ch) => {
        await ch.assertExchange(e.name, e.type, e)
      },
    ]),
    ...[...t.queues.values()]
      .filter((q) => !isServerNamed(q.name) && q.cells.includes(conn.cell))
      .map((q): Declaration => [`queue ${q.name}`, (ch) => ch.assertQueue(q.name, q)]),
    ...[...t.bindings.values()]
      .filter((b) => !isServerNamed(b.queue) && t.queueOn(b.queue, conn.cell))
      .map((b): Declaration => [`binding ${b.queue}<-${b.exchange}`, (ch) => ch.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments)]),
  ]
  let ch: BrokerChannel | null = null
  for (const [what, declare] of steps) {
    try {
      ch ??= await conn.openChannel()
      await declare(ch)
    } catch (err) {
      log.warn('could not re-declare after broker loss', { what, err: (err as Error).message })
      ch = null
    }
  }
  await ch?.close().catch(() => {})
}
