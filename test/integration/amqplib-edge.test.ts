import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib'
import { RABBIT_URL, startTestCellgate } from '../helpers/cellgate.js'
import { RawAmqp } from '../helpers/raw-amqp.js'

// Protocol edge cases through cellgate, driven by amqplib as the client and checked against the
// real RabbitMQ behind it.

const uid = (p: string): string => `cg-test-${p}-${randomBytes(4).toString('hex')}`

const cg = await startTestCellgate()
t.teardown(() => cg.close())

async function client(url = cg.url): Promise<ChannelModel> {
  const c = await connect(url)
  c.on('error', () => {})
  return c
}

/** Cleanup goes straight to RabbitMQ: it must not depend on the system under test. */
async function deleteQueue(q: string): Promise<void> {
  const c = await connect(RABBIT_URL)
  await (await c.createChannel()).deleteQueue(q)
  await c.close()
}

function nextMessage(ch: Channel, queue: string): Promise<ConsumeMessage> {
  return new Promise((resolve) => {
    void ch.consume(queue, (m) => void (m && resolve(m)), { noAck: true })
  })
}

t.test('publish and consume keep every property and typed header', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('props'), { autoDelete: true })).queue
  const headers = {
    plain: 'text',
    n: 42,
    big: 2 ** 40,
    neg: -7,
    flag: true,
    nothing: null,
    nested: { a: [1, 'two', { deep: true }] },
    typedLong: { '!': 'long', value: 5 },
    ts: { '!': 'timestamp', value: 1700000000 },
    bytes: Buffer.from([0, 1, 2, 255]),
  }
  const props = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers,
    deliveryMode: 2,
    priority: 3,
    correlationId: 'corr-1',
    replyTo: 'reply_abc',
    expiration: '60000',
    messageId: 'mid-1',
    timestamp: 1700000001,
    type: 'kind',
    userId: 'guest',
    appId: 'nova-compute',
  }
  const got = nextMessage(ch, q)
  await new Promise<void>((res, rej) => ch.publish('', q, Buffer.from('{"x":1}'), props, (err) => (err ? rej(err) : res())))
  const m = await got
  t.equal(m.content.toString(), '{"x":1}')
  for (const [k, v] of Object.entries(props)) {
    if (k === 'headers') continue
    t.same((m.properties as unknown as Record<string, unknown>)[k], v, `property ${k} kept`)
  }
  const h = m.properties.headers as Record<string, unknown>
  t.equal(h['plain'], 'text')
  t.equal(h['n'], 42)
  t.equal(h['big'], 2 ** 40)
  t.equal(h['neg'], -7)
  t.equal(h['flag'], true)
  t.equal(h['nothing'], null)
  t.same(h['nested'], { a: [1, 'two', { deep: true }] })
  t.equal(h['typedLong'], 5, 'int64 header arrives as the same number')
  t.same(h['ts'], { '!': 'timestamp', value: 1700000000 })
  t.same(h['bytes'], Buffer.from([0, 1, 2, 255]))
})

t.test('mandatory publish to nowhere: basic.return arrives before the confirm', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const order: string[] = []
  ch.on('return', (m: ConsumeMessage) => order.push(`return:${(m.fields as unknown as { replyCode: number }).replyCode}:${m.content.toString()}`))
  await new Promise<void>((res, rej) =>
    ch.publish('', uid('nobody'), Buffer.from('lost?'), { mandatory: true }, (err) => {
      order.push(err ? 'nack' : 'ack')
      return err ? rej(err) : res()
    }),
  )
  t.same(order, ['return:312:lost?', 'ack'])
})

t.test('non-mandatory publish to nowhere is acked and dropped, as RabbitMQ does', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  let returned = false
  ch.on('return', () => (returned = true))
  await new Promise<void>((res, rej) => ch.publish('', uid('nobody'), Buffer.from('x'), {}, (err) => (err ? rej(err) : res())))
  t.equal(returned, false)
})

t.test('a broker nack reaches the client as a nack', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('full'), { autoDelete: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })).queue
  t.teardown(() => deleteQueue(q))
  const outcome = (body: string): Promise<string> =>
    new Promise((res) => ch.publish('', q, Buffer.from(body), {}, (err) => res(err ? 'nack' : 'ack')))
  t.equal(await outcome('first'), 'ack')
  t.equal(await outcome('second'), 'nack')
})

t.test('16 MiB body crosses as many frames and comes back identical', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('big'), { autoDelete: true })).queue
  const body = randomBytes(16 * 1024 * 1024)
  const got = nextMessage(ch, q)
  await new Promise<void>((res, rej) => ch.publish('', q, body, {}, (err) => (err ? rej(err) : res())))
  const m = await got
  t.equal(m.content.length, body.length)
  t.ok(m.content.equals(body), 'body identical')
})

t.test('ack, reject and nack with multiple map to the right messages', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('acks'), { autoDelete: false })).queue
  t.teardown(() => deleteQueue(q))
  for (let i = 1; i <= 6; i++) ch.sendToQueue(q, Buffer.from(String(i)))
  await ch.waitForConfirms()
  const got: ConsumeMessage[] = []
  const waitFor = (n: number): Promise<void> =>
    new Promise((res) => {
      const timer = setInterval(() => {
        if (got.length >= n) {
          clearInterval(timer)
          res()
        }
      }, 10)
    })
  await ch.consume(q, (m) => void (m && got.push(m)))
  await waitFor(6)
  ch.ack(got[1]!, true) // acks 1 and 2
  ch.reject(got[2]!, false) // drops 3
  ch.nack(got[5]!, true, true) // requeues 4, 5 and 6
  await waitFor(9)
  const again = got.slice(6).map((m) => `${m.content.toString()}:${m.fields.redelivered}`)
  t.same(again.sort(), ['4:true', '5:true', '6:true'])
  for (const m of got.slice(6)) ch.ack(m)
  await ch.close()
  const ch2 = await c.createChannel()
  t.equal((await ch2.checkQueue(q)).messageCount, 0, 'nothing left after the acks')
})

t.test('broker-initiated cancel reaches the consumer', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createChannel()
  const q = (await ch.assertQueue(uid('cancel'), { autoDelete: false })).queue
  const cancelled = new Promise<string>((res) => {
    void ch.consume(q, (m) => {
      if (m === null) res('cancelled')
    })
  })
  const other = await c.createChannel()
  await other.deleteQueue(q)
  t.equal(await cancelled, 'cancelled')
})

t.test('client cancel stops deliveries', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('ccancel'), { autoDelete: false })).queue
  t.teardown(() => deleteQueue(q))
  let seen = 0
  const { consumerTag } = await ch.consume(q, () => seen++, { noAck: true })
  await ch.cancel(consumerTag)
  ch.sendToQueue(q, Buffer.from('after cancel'))
  await ch.waitForConfirms()
  await new Promise((r) => setTimeout(r, 200))
  t.equal(seen, 0)
  const left = await ch.checkQueue(q)
  t.equal(left.messageCount, 1, 'message stays in the queue')
})

t.test('broker channel errors reach the client with the broker code and text', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ex = uid('ex')
  const ch = await c.createChannel()
  await ch.assertExchange(ex, 'topic', { durable: false, autoDelete: true })
  const ch2 = await c.createChannel()
  ch2.on('error', () => {}) // amqplib turns an unhandled channel error into a connection error
  const err = await ch2.assertExchange(ex, 'topic', { durable: true }).catch((e: unknown) => e as Error & { code: number })
  t.equal((err as { code: number }).code, 406)
  t.match((err as Error).message, /inequivalent arg 'durable'/)
  const ch3 = await c.createChannel()
  ch3.on('error', () => {})
  const missing = await ch3.checkQueue(uid('missing')).catch((e: unknown) => e as { code: number; message: string })
  t.equal((missing as { code: number }).code, 404)
  t.match((missing as { message: string }).message, /NOT_FOUND - no queue/)
  await ch.deleteExchange(ex)
})

t.test('ack of an unknown delivery tag is a 406 channel error', async (t) => {
  const c = await client()
  t.teardown(() => c.close())
  const ch = await c.createChannel()
  const closed = new Promise<Error & { code?: number }>((res) => ch.on('error', res))
  ch.ack({ fields: { deliveryTag: 99 } } as unknown as ConsumeMessage)
  const err = await closed
  t.equal(err.code, 406)
  t.match(err.message, /unknown delivery tag 99/)
})

t.test('wrong password is refused with 403, forbidden vhost with 530', async (t) => {
  const bad = await RawAmqp.open(cg.amqpPort)
  const refused = await bad.handshake('guest', 'wrong')
  bad.close()
  t.equal(refused?.method?.name, 'connection.close')
  t.match(refused?.method?.args, { replyCode: 403, replyText: /^ACCESS_REFUSED - Login was refused/ })
  const unknown = await RawAmqp.open(cg.amqpPort)
  const noVhost = await unknown.handshake('guest', 'guest', 'cell9')
  unknown.close()
  t.match(noVhost?.method?.args, { replyCode: 530, replyText: /^NOT_ALLOWED - vhost cell9 not found/ })
})

t.test('many client connections share a few broker connections', async (t) => {
  // A fresh instance, so connections other tests are still closing do not blur the count.
  const own = await startTestCellgate()
  const clients = await Promise.all(Array.from({ length: 24 }, () => client(own.url)))
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await own.close()
  })
  const channels = await Promise.all(clients.map((c) => c.createChannel()))
  await Promise.all(channels.map((ch) => ch.checkExchange('amq.topic')))
  t.equal(own.clientConnections(), 24)
  const upstream = own.upstreamConnections()['cell1']!
  t.ok(upstream >= 1 && upstream <= 4, `24 clients over ${upstream} broker connections`)
})

t.test('a consumer that never acks holds at most the prefetch cap in cellgate', async (t) => {
  const c = await client()
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue(uid('slow'), { autoDelete: false })).queue
  for (let i = 0; i < 2000; i++) ch.sendToQueue(q, Buffer.alloc(100))
  await ch.waitForConfirms()
  let received = 0
  await ch.consume(q, () => received++) // unlimited prefetch asked, never acks
  await new Promise((r) => setTimeout(r, 1000))
  const rows = execFileSync('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged'], { encoding: 'utf8' })
  const row = rows.split('\n').find((l) => l.startsWith(q + '\t'))!
  const [, ready, unacked] = row.split('\t').map(Number) as [number, number, number]
  t.equal(unacked, 256, 'the broker holds back everything past the cap')
  t.equal(ready, 2000 - 256)
  t.equal(received, 256)
  await c.close()
  await deleteQueue(q)
})

t.test('stopping cellgate tells clients 320 CONNECTION_FORCED, as a RabbitMQ shutdown does', async (t) => {
  const own = await startTestCellgate()
  const raw = await RawAmqp.open(own.amqpPort)
  t.equal((await raw.handshake())?.method?.name, 'connection.open-ok')
  const closing = own.close()
  const close = await raw.waitMethod('connection.close')
  t.match(close?.method?.args, { replyCode: 320, replyText: /^CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'/ })
  raw.method(0, { name: 'connection.close-ok', args: {} })
  await closing
  raw.close()
})

// The root test would otherwise wait for an empty event loop, which cellgate's listener never gives.
t.end()
