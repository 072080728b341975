import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { connect, type ConsumeMessage } from 'amqplib'
import { startTestCellgate } from '../helpers/cellgate.js'

// A broker connection dropped while the broker stays up (a network blip, an operator's
// `rabbitmqctl close_connection`): cellgate reconnects at once and restores the client's queue,
// binding and consumer underneath it. The client sees no close and no cancel, and keeps its
// consumer tag; messages published after the blip are delivered to it.

const cg = await startTestCellgate()
t.teardown(() => cg.close())

/** The broker-side ids of every connection this cellgate opened (they are named cellgate:<pid>:...). */
function cellgateBrokerConnections(): string[] {
  const rows = execFileSync('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'], { encoding: 'utf8' })
  return rows
    .split('\n')
    .filter((l) => l.includes(`cellgate:${process.pid}:`))
    .map((l) => l.split('\t')[0]!)
}

/** Closes every broker connection this cellgate opened. */
function dropCellgateBrokerConnections(): number {
  const pids = cellgateBrokerConnections()
  for (const pid of pids) execFileSync('rabbitmqctl', ['-q', 'close_connection', pid, 'test: simulated broker connection loss'])
  return pids.length
}

t.test('consumers, topology and publishing survive a dropped broker connection', async (t) => {
  const c = await connect(cg.url)
  const events: string[] = []
  c.on('error', (e: Error) => events.push(`conn-error:${e.message}`))
  c.on('close', () => events.push('conn-close'))
  const ch = await c.createConfirmChannel()
  ch.on('error', (e: Error) => events.push(`ch-error:${e.message}`))
  const ex = `cg-loss-${process.pid}`
  await ch.assertExchange(ex, 'topic', { durable: false, autoDelete: false })
  const q = (await ch.assertQueue(`cg-loss-q-${process.pid}`, { exclusive: true })).queue
  await ch.bindQueue(q, ex, 'k')
  const got: string[] = []
  let cancelled = false
  const { consumerTag } = await ch.consume(q, (m: ConsumeMessage | null) => {
    if (m === null) cancelled = true
    else {
      got.push(m.content.toString())
      ch.ack(m)
    }
  })
  const publish = (body: string): Promise<void> =>
    new Promise((res, rej) => ch.publish(ex, 'k', Buffer.from(body), {}, (e) => (e ? rej(e) : res())))
  await publish('before')
  for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 20))

  t.ok(dropCellgateBrokerConnections() >= 1, 'cellgate had broker connections to drop')
  await new Promise((r) => setTimeout(r, 500))
  await publish('after')
  for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20))

  t.same(got, ['before', 'after'], 'the consumer kept receiving, from its exclusive queue re-created behind it')
  t.equal(cancelled, false, 'no basic.cancel')
  t.same(events, [], 'no connection or channel error reached the client')
  t.match(consumerTag, /.+/)
  await ch.deleteExchange(ex)
  await c.close()
})

t.test('a consumer on a server-named queue is cancelled instead, so the client declares anew', async (t) => {
  const c = await connect(cg.url)
  c.on('error', () => {})
  const ch = await c.createChannel()
  const q = (await ch.assertQueue('', { exclusive: true })).queue
  let onCancel: (v: boolean) => void = () => {}
  const cancelled = new Promise<boolean>((res) => (onCancel = res))
  await ch.consume(q, (m) => m === null && onCancel(true), { noAck: true })
  t.ok(dropCellgateBrokerConnections() >= 1)
  t.equal(await cancelled, true, 'basic.cancel reached the client')
  const again = await ch.assertQueue('', { exclusive: true })
  t.match(again.queue, /^amq\.gen-/, 'and the channel is still usable')
  await c.close()
})

t.test('publishes in flight when the broker connection drops are re-sent: every confirmed message arrives', async (t) => {
  const c = await connect(cg.url)
  const events: string[] = []
  c.on('error', (e: Error) => events.push(`conn-error:${e.message}`))
  const ch = await c.createConfirmChannel()
  ch.on('error', (e: Error) => events.push(`ch-error:${e.message}`))
  // Durable, not exclusive: the queue must outlive the dropped broker connection on its own.
  const q = `cg-loss-inflight-${process.pid}`
  await ch.assertQueue(q, { durable: true, exclusive: false, autoDelete: false })
  const confirmed = new Set<number>()
  const nacked: number[] = []
  const sends: Array<Promise<void>> = []
  let n = 0
  const publishSome = async (count: number): Promise<void> => {
    for (let k = 0; k < count; k++, n++) {
      const i = n
      sends.push(
        new Promise((res) =>
          ch.sendToQueue(q, Buffer.from(String(i)), { persistent: true }, (err) => {
            if (err) nacked.push(i)
            else confirmed.add(i)
            res()
          }),
        ),
      )
    }
    await new Promise((r) => setImmediate(r))
  }
  await publishSome(500)
  const pids = cellgateBrokerConnections()
  // The close runs while the client keeps publishing: publishes are between cellgate and the
  // broker when the connection goes.
  let closing = true
  const close = Promise.all(pids.map((pid) => promisify(execFile)('rabbitmqctl', ['-q', 'close_connection', pid, 'test: loss mid-stream']))).finally(() => (closing = false))
  while (closing) await publishSome(20)
  await close
  await publishSome(500)
  await Promise.all(sends)
  const total = n
  const dropped = pids.length
  t.ok(dropped >= 1, 'cellgate had broker connections to drop mid-stream')
  t.same(nacked, [], 'nothing nacked')
  t.equal(confirmed.size, total, 'every publish was confirmed to the client')
  const seen = new Map<number, number>()
  for (;;) {
    const m = await ch.get(q, { noAck: true })
    if (m === false) break
    const n = Number(m.content.toString())
    seen.set(n, (seen.get(n) ?? 0) + 1)
  }
  const missing = [...confirmed].filter((n) => !seen.has(n))
  t.same(missing, [], `no confirmed message is missing (${seen.size} distinct in the queue, ${[...seen.values()].filter((v) => v > 1).length} re-sent twice)`)
  t.same(events, [], 'no connection or channel error reached the client')
  await ch.deleteQueue(q)
  await c.close()
})

t.end()
