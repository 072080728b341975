// cellgate's own AMQP client (adapters/rabbit/wire) against the real RabbitMQ: handshake and its
// refusals, pipelined declarations, confirms (single, multiple, nack), return before ack,
// multi-frame bodies, get, broker channel errors with the broker's code and text, and the
// connection closed under it by the broker.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { IGNORING_HANDLER, type BrokerChannel, type BrokerChannelHandler, type BrokerDelivery, type BrokerReturn } from '../../adapters/rabbit/wire/broker-channel.js'
import { BrokerConnection } from '../../adapters/rabbit/wire/broker-connection.js'
import { BrokerError } from '../../adapters/rabbit/wire/broker-error.js'
import { rabbitmqctl, uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'

const run = uniqueName('wire')
const vhost = `${run}-v`
await createVhosts(t, [vhost])

const QUEUE = { durable: false, exclusive: false, autoDelete: false, arguments: {} }

async function connect(name = 'wire test', url = vhostUrl(vhost)): Promise<BrokerConnection> {
  const c = await BrokerConnection.connect({ url, connectionName: `${run} ${name}`, heartbeat: 60 })
  t.teardown(() => c.close())
  return c
}

/** A handler that records what the channel reports. */
function recorder(): BrokerChannelHandler & { deliveries: BrokerDelivery[]; returns: BrokerReturn[]; cancels: string[]; closes: Array<{ code: number; lost: boolean }>; order: string[] } {
  const r = {
    deliveries: [] as BrokerDelivery[],
    returns: [] as BrokerReturn[],
    cancels: [] as string[],
    closes: [] as Array<{ code: number; lost: boolean }>,
    order: [] as string[],
    deliver: (m: BrokerDelivery) => {
      r.deliveries.push(m)
      r.order.push('deliver')
    },
    returned: (m: BrokerReturn) => {
      r.returns.push(m)
      r.order.push('return')
    },
    consumerCancelled: (tag: string) => r.cancels.push(tag),
    closed: (reason: { code: number }, lost: boolean) => r.closes.push({ code: reason.code, lost }),
    drain: () => {},
  }
  return r
}

function publish(ch: BrokerChannel, exchange: string, key: string, body: Buffer | string, mandatory = false, props = {}): Promise<boolean> {
  return new Promise((resolve) => {
    ch.publish(exchange, key, typeof body === 'string' ? Buffer.from(body) : body, props, mandatory, (nacked) => resolve(nacked))
  })
}

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

t.test('refuses a wrong password with 403 and an unknown vhost with 530', async (t) => {
  const bad = vhostUrl(vhost).replace('guest:guest', 'guest:wrong')
  const e1 = await BrokerConnection.connect({ url: bad, connectionName: 'bad', heartbeat: 60 }).catch((e: unknown) => e)
  t.ok(e1 instanceof BrokerError && e1.code === 403, `wrong password: ${String(e1)}`)
  const e2 = await BrokerConnection.connect({ url: vhostUrl(`${run}-nope`), connectionName: 'bad', heartbeat: 60 }).catch((e: unknown) => e)
  t.ok(e2 instanceof BrokerError && e2.code === 530, `unknown vhost: ${String(e2)}`)
  const e3 = await BrokerConnection.connect({ url: 'amqp://127.0.0.1:1/', connectionName: 'bad', heartbeat: 60 }).catch((e: unknown) => e)
  t.ok(e3 instanceof Error && /handshake/.test((e3 as Error).message), `nothing listening: ${String(e3)}`)
})

t.test('pipelined declarations, publish with confirms, consume and ack', async (t) => {
  const c = await connect()
  const rec = recorder()
  const ch = await c.openChannel(rec)
  const q = `${run}-q1`
  // Not awaited one by one: the broker answers in order, each request gets its own reply.
  const [ok1, , ok2] = await Promise.all([ch.assertQueue(q, QUEUE), ch.assertExchange(`${run}-x`, 'topic', { durable: false, autoDelete: false, internal: false, arguments: {} }), ch.checkQueue(q)])
  t.equal(ok1.queue, q)
  t.equal(ok2.messageCount, 0)
  await ch.bindQueue(q, `${run}-x`, 'k.#', {})
  const nacks = await Promise.all(Array.from({ length: 100 }, (_, i) => publish(ch, `${run}-x`, `k.${i}`, `m${i}`, false, { headers: { i, tag: 'v' }, contentType: 'text/plain' })))
  t.same(nacks.filter(Boolean), [], '100 publishes confirmed, none nacked')
  t.equal((await ch.checkQueue(q)).messageCount, 100)
  const tag = await ch.consume(q, { consumerTag: '', noLocal: false, exclusive: false, arguments: {} })
  t.match(tag, /^amq\.ctag-/, 'broker-chosen consumer tag')
  await until('100 deliveries', () => rec.deliveries.length === 100)
  const first = rec.deliveries[0]!
  t.equal(first.content.toString(), 'm0')
  t.same({ ...first.properties.headers }, { i: 0, tag: 'v' }, 'headers decoded')
  t.equal(first.properties.contentType, 'text/plain')
  t.equal(first.header.readUInt16BE(0), 60, 'the raw header payload is kept (class 60)')
  t.same(rec.deliveries.map((d) => d.content.toString()), Array.from({ length: 100 }, (_, i) => `m${i}`), 'in order')
  ch.ack(rec.deliveries[99]!.fields.deliveryTag, true)
  await ch.cancel(tag)
  await until('acks applied', () => true)
  t.equal((await ch.checkQueue(q)).messageCount, 0, 'multiple ack settled all 100')
  await ch.close()
  t.notOk(ch.isOpen)
})

t.test('mandatory publish to nowhere: basic.return before its confirm', async (t) => {
  const c = await connect()
  const rec = recorder()
  const ch = await c.openChannel(rec)
  const nacked = await publish(ch, '', `${run}-nobody`, 'lost?', true)
  rec.order.push('confirm')
  t.equal(nacked, false, 'confirmed (RabbitMQ acks a returned message)')
  t.same(rec.order, ['return', 'confirm'], 'return first')
  t.equal(rec.returns[0]!.fields.replyCode, 312)
  t.equal(rec.returns[0]!.content.toString(), 'lost?')
})

t.test('a full queue with reject-publish nacks', async (t) => {
  const c = await connect()
  const ch = await c.openChannel(recorder())
  const q = `${run}-full`
  await ch.assertQueue(q, { ...QUEUE, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })
  t.equal(await publish(ch, '', q, 'one'), false, 'first fits')
  t.equal(await publish(ch, '', q, 'two'), true, 'second nacked')
})

t.test('16 MiB body crosses in many frames; get and get-empty', async (t) => {
  const c = await connect()
  const ch = await c.openChannel(recorder())
  const q = `${run}-big`
  await ch.assertQueue(q, QUEUE)
  const body = Buffer.alloc(16 << 20)
  for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i)
  t.equal(await publish(ch, '', q, body), false)
  const got = await ch.get(q)
  t.ok(got !== null && got.content.equals(body), '16 MiB identical')
  t.equal(got?.fields.messageCount, 0)
  ch.ack(got!.fields.deliveryTag, false)
  t.equal(await ch.get(q), null, 'empty queue: null')
})

t.test('broker channel errors reject the request with the broker code and text; other channels go on', async (t) => {
  const c = await connect()
  const rec = recorder()
  const ch = await c.openChannel(rec)
  const other = await c.openChannel(IGNORING_HANDLER)
  const err = await ch.checkQueue(`${run}-missing`).catch((e: unknown) => e)
  t.ok(err instanceof BrokerError, 'a BrokerError')
  t.equal((err as BrokerError).reason.code, 404)
  t.match((err as BrokerError).reason.text, /^NOT_FOUND - no queue/)
  t.equal((err as BrokerError).reason.classId, 50)
  t.same(rec.closes, [{ code: 404, lost: false }], 'the handler hears the close, not as a lost connection')
  t.notOk(ch.isOpen)
  t.equal((await other.assertQueue(`${run}-other`, QUEUE)).queue, `${run}-other`, 'another channel of the connection still works')
  const late = await ch.checkQueue('x').catch((e: unknown) => e)
  t.ok(late instanceof Error && !(late instanceof BrokerError), 'a request on the closed channel fails at once')
})

t.test('the broker closing the connection ends every channel as lost', async (t) => {
  const name = `${run} doomed`
  const c = await BrokerConnection.connect({ url: vhostUrl(vhost), connectionName: name, heartbeat: 60 })
  let lostWhy = ''
  c.setEvents({ blocked: () => {}, unblocked: () => {}, lost: (why) => (lostWhy = why) })
  const rec = recorder()
  await c.openChannel(rec)
  // rabbitmqctl names connections by peer address; find ours by its client-provided name.
  const list = await rabbitmqctl(['list_connections', '-q', 'pid', 'client_properties'])
  const line = list.stdout.split('\n').find((l) => l.includes(name))
  t.ok(line, 'our connection is listed with its name')
  const pid = line!.split('\t')[0]!
  await rabbitmqctl(['close_connection', pid, 'test closes it'])
  await until('lost', () => lostWhy !== '')
  t.match(lostWhy, /320/, `lost with the broker's reason: ${lostWhy}`)
  t.same(rec.closes, [{ code: 320, lost: true }], 'the channel was told first, as lost')
  t.notOk(c.isOpen)
  await t.rejects(c.openChannel(IGNORING_HANDLER), BrokerError, 'no new channels on a closed connection')
})
