import { execFileSync } from 'node:child_process'
import t from 'tap'
import { connect } from 'amqplib'
import { startTestCellgate } from '../helpers/cellgate.js'

// connection.blocked / unblocked: a memory alarm on the real broker blocks cellgate's broker
// connection, and cellgate passes the notification on to its clients. The publish made while
// blocked is held (not lost, not buffered without bound) and confirmed once the alarm clears.

const watermark = (v: string): void => void execFileSync('rabbitmqctl', ['-q', 'set_vm_memory_high_watermark', v])
t.teardown(() => watermark('0.4'))

const cg = await startTestCellgate()
t.teardown(() => cg.close())

t.test('a broker memory alarm reaches the client as connection.blocked, then unblocked', async (t) => {
  const c = await connect(cg.url)
  const events: string[] = []
  c.on('blocked', (reason: string) => events.push(`blocked:${reason}`))
  c.on('unblocked', () => events.push('unblocked'))
  const ch = await c.createConfirmChannel()
  const q = (await ch.assertQueue('', { exclusive: true })).queue
  await new Promise<void>((res, rej) => ch.sendToQueue(q, Buffer.from('before'), {}, (e) => (e ? rej(e) : res())))

  watermark('0.0000001')
  let confirmed = false
  const held = new Promise<void>((res, rej) =>
    ch.sendToQueue(q, Buffer.from('during'), {}, (e) => {
      confirmed = true
      return e ? rej(e) : res()
    }),
  )
  for (let i = 0; i < 100 && !events.some((e) => e.startsWith('blocked')); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(events[0], /^blocked:low on memory/, 'client told it is blocked, with the broker reason')
  t.equal(confirmed, false, 'the publish is held while the broker is blocked')

  watermark('0.4')
  await held
  for (let i = 0; i < 100 && !events.includes('unblocked'); i++) await new Promise((r) => setTimeout(r, 50))
  t.same(events.slice(1), ['unblocked'])
  const ok = await ch.checkQueue(q)
  t.equal(ok.messageCount, 2, 'both messages reached the queue')
  await c.close()
})

t.end()
