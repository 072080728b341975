import t from 'tap'
import { createHash } from 'node:crypto'
import { parseSaslResponse, UserDirectory } from '../../adapters/amqp091/auth.js'
import { DeliveryTags } from '../../adapters/amqp091/delivery-tags.js'
import { Heartbeat } from '../../adapters/amqp091/heartbeat.js'
import { SerialQueue } from '../../adapters/amqp091/serial-queue.js'
import { encodeFieldTable } from '../../adapters/amqp091/field-table.js'

t.test('delivery tags: one client sequence over several broker channels', async (t) => {
  const m = new DeliveryTags<string>()
  t.equal(m.issue('cellA', 1), 1)
  t.equal(m.issue('cellA', 2), 2)
  t.equal(m.issue('cellB', 1), 3, 'a second cell continues the client sequence')
  t.equal(m.issueSettled(), 4, 'a no-ack delivery takes a tag too')
  t.equal(m.issue('cellA', 3), 5)
  t.same(m.settle(2, false), { kind: 'settle', acts: [{ leg: 'cellA', brokerTag: 2, multiple: false }] })
  t.same(m.settle(2, false), { kind: 'unknown' }, 'a second ack of the same tag is unknown, as in RabbitMQ')
  t.same(m.settle(4, false), { kind: 'unknown' }, 'a no-ack tag cannot be acked')
  t.same(m.settle(9, false), { kind: 'unknown' }, 'never delivered')
  t.same(m.settle(0, false), { kind: 'unknown' }, 'tag 0 alone is not a tag')
  t.same(m.settle(5, true), {
    kind: 'settle',
    acts: [
      // cellA has 1 and 3 outstanding (2 was acked): not contiguous, so no multiple-ack that could sweep more
      { leg: 'cellA', brokerTag: 1, multiple: false },
      { leg: 'cellA', brokerTag: 3, multiple: false },
      { leg: 'cellB', brokerTag: 1, multiple: false },
    ],
  }, 'multiple is split per broker channel')
  t.equal(m.issue('cellA', 4), 6)
  t.equal(m.issue('cellA', 5), 7)
  t.equal(m.issue('cellB', 2), 8)
  t.same(m.settle(7, true), { kind: 'settle', acts: [{ leg: 'cellA', brokerTag: 5, multiple: true }] }, 'a contiguous run is one multiple-ack')
  t.same(m.settle(0, true), { kind: 'settle', acts: [{ leg: 'cellB', brokerTag: 2, multiple: false }] }, 'tag 0 with multiple means everything outstanding')
  t.same(m.settle(0, true), { kind: 'settle', acts: [] }, 'nothing left')
})

t.test('SASL responses', async (t) => {
  t.same(parseSaslResponse('PLAIN', Buffer.from('\0nova\0s3cret')), { user: 'nova', password: 's3cret' })
  t.same(parseSaslResponse('PLAIN', Buffer.from('authz\0nova\0pw')), { user: 'nova', password: 'pw' })
  t.equal(parseSaslResponse('PLAIN', Buffer.from('nova:pw')), null)
  // AMQPLAIN is a field table without its length prefix (py-amqp's default).
  const table = encodeFieldTable({ LOGIN: 'nova', PASSWORD: 'pw' }).subarray(4)
  t.same(parseSaslResponse('AMQPLAIN', table), { user: 'nova', password: 'pw' })
  t.equal(parseSaslResponse('AMQPLAIN', Buffer.from([1, 2, 3])), null, 'garbage is a refused login, not a crash')
  t.equal(parseSaslResponse('EXTERNAL', Buffer.alloc(0)), null)
})

t.test('users: passwords in clear or as sha256, vhost grants', async (t) => {
  const dir = new UserDirectory([
    { name: 'a', password: 'pa', vhosts: ['/'] },
    { name: 'b', passwordSha256: createHash('sha256').update('pb').digest('hex'), vhosts: ['*'] },
  ])
  const a = dir.authenticate({ user: 'a', password: 'pa' })
  t.ok(a)
  t.equal(dir.authenticate({ user: 'a', password: 'pb' }), null)
  t.equal(dir.authenticate({ user: 'nobody', password: 'pa' }), null)
  const b = dir.authenticate({ user: 'b', password: 'pb' })
  t.ok(b)
  t.equal(dir.mayOpen(a!, '/'), true)
  t.equal(dir.mayOpen(a!, 'cell1'), false)
  t.equal(dir.mayOpen(b!, 'cell1'), true)
})

t.test('heartbeat: one frame per idle H/2 period, gives up after 3H', async (t) => {
  const sent: number[] = []
  let timedOut = false
  const start = Date.now()
  const hb = new Heartbeat(10, { send: () => sent.push(1), timedOut: () => (timedOut = true) })
  t.teardown(() => hb.stop())
  hb.sent()
  hb.received()
  hb.tick(start + 5_000)
  t.equal(sent.length, 0, 'no heartbeat in a period in which we wrote')
  hb.tick(start + 10_000)
  t.equal(sent.length, 1, 'a heartbeat after a silent period')
  hb.tick(start + 15_000)
  t.equal(sent.length, 2, 'and one per silent period after that, not more')
  hb.tick(start + 29_000)
  t.equal(timedOut, false, 'a client silent for 2.9H is still alive')
  hb.suspendTimeout(true)
  hb.tick(start + 60_000)
  t.equal(timedOut, false, 'no timeout while cellgate itself is not reading')
  hb.suspendTimeout(false)
  hb.tick(Date.now() + 30_001)
  t.equal(timedOut, true, 'silent for more than 3H')
})

t.test('serial queue keeps order across async steps and survives failures', async (t) => {
  const seen: string[] = []
  const errors: unknown[] = []
  const q = new SerialQueue((e) => errors.push(e))
  q.push(() => void seen.push('a'))
  q.push(async () => {
    await new Promise((r) => setTimeout(r, 20))
    seen.push('b')
  })
  q.push(() => {
    throw new Error('boom')
  })
  q.push(() => void seen.push('c'))
  q.pushFront(() => void seen.push('first-after-b'))
  t.equal(q.idle, false)
  await new Promise((r) => setTimeout(r, 60))
  t.same(seen, ['a', 'b', 'first-after-b', 'c'])
  t.equal(errors.length, 1)
  t.equal(q.idle, true)
})
