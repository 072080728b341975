// The queue mover a live remap uses: every message of a queue on one broker ends up in the
// same-named queue on another, confirmed before the original is acked; nothing moves into a
// queue that does not exist (the broker would confirm and drop it).
import t from 'tap'
import { silentLogger } from '../../adapters/log/logger.js'
import { drainQueue } from '../../adapters/rabbit/queue-drain.js'
import { UpstreamConnection } from '../../adapters/rabbit/upstream-connection.js'
import type { BrokerChannel } from '../../adapters/rabbit/wire/broker-channel.js'
import { BrokerConnection } from '../../adapters/rabbit/wire/broker-connection.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'

const run = uniqueName('drain')
const vhosts = [`${run}-a`, `${run}-b`]

await createVhosts(t, vhosts)

async function upstream(vhost: string, cell: string): Promise<UpstreamConnection> {
  const broker = await BrokerConnection.connect({ url: vhostUrl(vhost), connectionName: `test ${cell}`, heartbeat: 60 })
  const conn = new UpstreamConnection(`${cell}#1`, cell, broker, silentLogger)
  t.teardown(() => conn.close())
  return conn
}

const DURABLE = { durable: true, exclusive: false, autoDelete: false, arguments: {} }

/** Publishes to the default exchange and waits for the broker's confirm. */
function sendToQueue(ch: BrokerChannel, q: string, body: string, props = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.publish('', q, Buffer.from(body), props, false, (nacked) => (nacked ? reject(new Error('nacked')) : resolve()))
  })
}

t.test('moves every message, properties kept, and deletes the emptied source', async (t) => {
  const [a, b] = [await upstream(vhosts[0]!, 'a'), await upstream(vhosts[1]!, 'b')]
  const q = `${run}-q`
  const pa = await a.openChannel()
  await pa.assertQueue(q, DURABLE)
  await Promise.all(Array.from({ length: 50 }, (_, i) => sendToQueue(pa, q, `m${i}`, { headers: { i }, contentType: 'application/json', deliveryMode: 2 })))
  const pb = await b.openChannel()
  await pb.assertQueue(q, DURABLE)

  const r = await drainQueue(a, b, q, { settleMs: 300, maxMs: 20_000 }, silentLogger)
  t.same(r, { moved: 50, deleted: true })
  const got: string[] = []
  for (;;) {
    const m = await pb.get(q)
    if (m === null) break
    pb.ack(m.fields.deliveryTag, false)
    got.push(m.content.toString())
    if (got.length === 1) t.hasStrict(m.properties, { headers: { i: 0 }, contentType: 'application/json', deliveryMode: 2 }, 'properties kept')
  }
  t.same(got, Array.from({ length: 50 }, (_, i) => `m${i}`), 'all 50, in order')
  await t.rejects(pa.checkQueue(q), 'the source queue is gone')
})

t.test('refuses to move into a queue that does not exist, and leaves the source alone', async (t) => {
  const [a, b] = [await upstream(vhosts[0]!, 'a'), await upstream(vhosts[1]!, 'b')]
  const q = `${run}-nodst`
  const pa = await a.openChannel()
  await pa.assertQueue(q, DURABLE)
  await sendToQueue(pa, q, 'keep me')
  await t.rejects(drainQueue(a, b, q, { settleMs: 100, maxMs: 5_000 }, silentLogger), 'no destination queue: refused')
  const check = await (await a.openChannel()).checkQueue(q)
  t.equal(check.messageCount, 1, 'the message is still in the source queue')
})
