// The queue mover a live remap uses: every message of a queue on one broker ends up in the
// same-named queue on another, confirmed before the original is acked; nothing moves into a
// queue that does not exist (the broker would confirm and drop it).
import t from 'tap'
import { connect } from 'amqplib'
import { silentLogger } from '../../adapters/log/logger.js'
import { drainQueue } from '../../adapters/rabbit/queue-drain.js'
import { UpstreamConnection } from '../../adapters/rabbit/upstream-connection.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'

const run = uniqueName('drain')
const vhosts = [`${run}-a`, `${run}-b`]

await createVhosts(t, vhosts)

async function upstream(vhost: string, cell: string): Promise<UpstreamConnection> {
  const model = await connect(vhostUrl(vhost))
  const conn = new UpstreamConnection(`${cell}#1`, cell, model, silentLogger)
  t.teardown(() => conn.close())
  return conn
}

t.test('moves every message, properties kept, and deletes the emptied source', async (t) => {
  const [a, b] = [await upstream(vhosts[0]!, 'a'), await upstream(vhosts[1]!, 'b')]
  const q = `${run}-q`
  const pa = await a.openChannel()
  await pa.assertQueue(q, { durable: true })
  for (let i = 0; i < 50; i++) pa.sendToQueue(q, Buffer.from(`m${i}`), { headers: { i }, contentType: 'application/json', deliveryMode: 2 })
  await pa.waitForConfirms()
  const pb = await b.openChannel()
  await pb.assertQueue(q, { durable: true })

  const r = await drainQueue(a, b, q, { settleMs: 300, maxMs: 20_000 }, silentLogger)
  t.same(r, { moved: 50, deleted: true })
  const got: string[] = []
  for (;;) {
    const m = await pb.get(q, { noAck: true })
    if (m === false) break
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
  await pa.assertQueue(q, { durable: true })
  pa.sendToQueue(q, Buffer.from('keep me'))
  await pa.waitForConfirms()
  await t.rejects(drainQueue(a, b, q, { settleMs: 100, maxMs: 5_000 }, silentLogger), 'no destination queue: refused')
  const check = await (await a.openChannel()).checkQueue(q)
  t.equal(check.messageCount, 1, 'the message is still in the source queue')
})
