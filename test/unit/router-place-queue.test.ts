import t from 'tap'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import { placeBinding, placeExchange, placeQueue, type QueueContext, type QueueFacts, type QueuePlacement, type QueueWhy } from '../../router/amqp/place-queue.js'
import { placePublish } from '../../router/amqp/place-publish.js'
import { classifyQueue } from '../../router/amqp/oslo-destination.js'
import type { PublisherCell } from '../../router/amqp/publisher-cell.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const cells = [
  { name: 'cell1', disabled: false },
  { name: 'cell2', disabled: false },
  { name: 'cell3', disabled: false },
  { name: 'cell4', disabled: true },
  { name: 'cell0', disabled: false },
]
const hostCell: Array<[string, string]> = [['cmp1', 'cell1'], ['stor2', 'cell2'], ['cmp4', 'cell4'], ['cmp9', 'cell9']]
const map: CellMap = buildCellMap(cells, [], { hostCell, parkingCell: 'cell0' })
const noParking = buildCellMap(cells.slice(0, 4), [], { hostCell })
const ctx: QueueContext = { map }
const WORK = ['cell1', 'cell2', 'cell3']

const at = (queue: string, c: string[], why: QueueWhy): QueuePlacement => ({ kind: 'cells', cells: c, why, dest: classifyQueue(queue) })
type Case = { comment: string; facts: QueueFacts; ctx?: QueueContext; plan: QueuePlacement }
const F = 'compute_fanout_0123456789abcdef0123456789abcdef'

const cases: Case[] = [
  { comment: 'server queue on the mapped host\'s cell, whoever declares it', facts: { queue: 'compute.cmp1', ownCell: 'cell3' }, plan: at('compute.cmp1', ['cell1'], 'host-mapping') },
  { comment: 'cinder backend queue on h\'s cell', facts: { queue: 'cinder-volume.stor2@lvm', ownCell: undefined }, plan: at('cinder-volume.stor2@lvm', ['cell2'], 'host-mapping') },
  { comment: 'cinder backend-host queue on h\'s cell', facts: { queue: 'cinder-volume.stor2@lvm.stor2', ownCell: 'cell1' }, plan: at('cinder-volume.stor2@lvm.stor2', ['cell2'], 'host-mapping') },
  { comment: 'unmapped host\'s queue by rendezvous, same as its publishes', facts: { queue: 'l3_agent.net5.example.com', ownCell: 'cell1' }, plan: at('l3_agent.net5.example.com', [rendezvousCell('net5.example.com', WORK)!], 'rendezvous') },
  { comment: 'host of a disabled cell keeps its queue there to drain', facts: { queue: 'compute.cmp4', ownCell: undefined }, plan: at('compute.cmp4', ['cell4'], 'host-cell-disabled') },
  { comment: 'host of a disabled cell without parking cell: still there', facts: { queue: 'compute.cmp4', ownCell: undefined }, ctx: { map: noParking }, plan: at('compute.cmp4', ['cell4'], 'host-cell-disabled') },
  { comment: 'host of an unknown cell: queue waits in the parking cell', facts: { queue: 'compute.cmp9', ownCell: 'cell1' }, plan: { kind: 'park', cell: 'cell0', host: 'cmp9', reason: 'cell-unknown', mappedCell: 'cell9', dest: classifyQueue('compute.cmp9') } },
  { comment: 'host of an unknown cell without parking cell: refused', facts: { queue: 'compute.cmp9', ownCell: 'cell1' }, ctx: { map: noParking }, plan: { kind: 'refuse', reason: 'cell-unknown', host: 'cmp9', dest: classifyQueue('compute.cmp9') } },
  { comment: 'anycast consumer on its own cell', facts: { queue: 'conductor', ownCell: 'cell2' }, plan: at('conductor', ['cell2'], 'own-cell') },
  { comment: 'anycast consumer of no cell (super-conductor) on every work cell', facts: { queue: 'conductor', ownCell: undefined }, plan: at('conductor', WORK, 'every-cell') },
  { comment: 'neutron-server q-plugin of no cell on every work cell', facts: { queue: 'q-plugin', ownCell: undefined }, plan: at('q-plugin', WORK, 'every-cell') },
  { comment: 'fanout queue on exactly one cell: its own', facts: { queue: F, ownCell: 'cell3' }, plan: at(F, ['cell3'], 'own-cell') },
  { comment: 'fanout queue of a cell-less consumer on exactly one cell: the default', facts: { queue: F, ownCell: undefined }, plan: at(F, ['cell1'], 'default-cell') },
  { comment: 'configured default cell', facts: { queue: F, ownCell: undefined }, ctx: { map, defaultCell: 'cell2' }, plan: at(F, ['cell2'], 'default-cell') },
  { comment: 'reply queue on the caller\'s cell', facts: { queue: 'reply_abc', ownCell: 'cell2' }, plan: at('reply_abc', ['cell2'], 'own-cell') },
  { comment: 'reply queue of a cell-less caller on one cell only', facts: { queue: 'reply_abc', ownCell: undefined }, plan: at('reply_abc', ['cell1'], 'default-cell') },
  { comment: 'notification queue on the publisher\'s cell', facts: { queue: 'notifications.info', ownCell: 'cell3' }, plan: at('notifications.info', ['cell3'], 'own-cell') },
  { comment: 'notification queue of a cell-less listener on every cell', facts: { queue: 'notifications.info', ownCell: undefined }, plan: at('notifications.info', WORK, 'every-cell') },
  { comment: 'notification queue on the aggregate cell', facts: { queue: 'notifications.info', ownCell: 'cell1' }, ctx: { map, notificationsCell: 'cell3' }, plan: at('notifications.info', ['cell3'], 'notification-aggregate') },
  { comment: 'pool queue with a known notification binding on the aggregate cell', facts: { queue: '', ownCell: 'cell1', bindingKeys: ['notifications.info'] }, ctx: { map, notificationsCell: 'cell3' }, plan: at('', ['cell3'], 'notification-aggregate') },
  { comment: 'pool queue with a known notification binding, cell-less listener: every cell', facts: { queue: '', ownCell: undefined, bindingKeys: ['x', 'versioned_notifications.error'] }, plan: at('', WORK, 'every-cell') },
  { comment: 'server-named queue on its own cell', facts: { queue: '', ownCell: 'cell2' }, plan: at('', ['cell2'], 'own-cell') },
  { comment: 'server-named queue with non-notification bindings stays on one cell', facts: { queue: '', ownCell: undefined, bindingKeys: ['compute.cmp1'] }, plan: at('', ['cell1'], 'default-cell') },
  { comment: 'no work cell: anycast refused', facts: { queue: 'conductor', ownCell: undefined }, ctx: { map: buildCellMap([{ name: 'x', disabled: true }]) }, plan: { kind: 'refuse', reason: 'no-enabled-cell', dest: classifyQueue('conductor') } },
  { comment: 'no work cell: reply refused', facts: { queue: 'reply_ab', ownCell: undefined }, ctx: { map: buildCellMap([{ name: 'x', disabled: true }]) }, plan: { kind: 'refuse', reason: 'no-enabled-cell', dest: classifyQueue('reply_ab') } },
]
for (const c of cases) t.same(placeQueue(c.facts, c.ctx ?? ctx), c.plan, c.comment)

t.same(placeExchange('nova', ctx), { kind: 'cells', cells: WORK }, 'exchanges are declared on every work cell')
t.same(placeExchange('', ctx), { kind: 'builtin' }, 'the default exchange is never declared')
t.same(placeExchange('amq.topic', ctx), { kind: 'builtin' }, 'amq.* are never declared')
t.same(placeBinding(['cell1'], 'nova', ctx), { cells: ['cell1'], declareExchangeOn: [] }, 'a binding follows its queue')
t.same(placeBinding(['cell4'], 'nova', ctx), { cells: ['cell4'], declareExchangeOn: ['cell4'] }, 'a binding in a draining cell needs the exchange re-declared there')
t.same(placeBinding(['cell0'], '', ctx), { cells: ['cell0'], declareExchangeOn: [] }, 'builtin exchanges need nothing')

/**
 * A small broker model: queues live in cells, a publish placed in a cell is delivered to every
 * queue bound there (fanout: all fanout queues of the topic; anycast: the topic queue, once per
 * competing group). Counts deliveries per consumer.
 */
t.test('every fanout reaches every consumer exactly once, whichever cell publishes', async (t) => {
  const consumers = [
    { id: 'sched-top', ownCell: undefined },
    { id: 'cmp-in-1', ownCell: 'cell1' },
    { id: 'cmp-in-2', ownCell: 'cell2' },
    { id: 'cmp-in-3', ownCell: 'cell3' },
  ]
  const queueCell = new Map<string, string[]>()
  consumers.forEach((c, i) => {
    const p = placeQueue({ queue: `scheduler_fanout_${i}abc`, ownCell: c.ownCell }, ctx)
    if (p.kind !== 'cells') throw new Error('unexpected')
    t.equal(p.cells.length, 1, `${c.id}: its fanout queue is on one cell`)
    queueCell.set(c.id, [...p.cells])
  })
  for (const publisherCell of WORK) {
    const who: PublisherCell = { kind: 'cell', cell: publisherCell, why: 'vhost' }
    const p = placePublish('scheduler_fanout', '', () => who, { map, replyQueueCell: () => undefined })
    if (p.kind !== 'cells') throw new Error('unexpected')
    for (const c of consumers) {
      const got = p.cells.filter((cell) => queueCell.get(c.id)!.includes(cell)).length
      t.equal(got, 1, `published from ${publisherCell}: ${c.id} gets it once`)
    }
  }
})

t.test('a super-conductor gets each anycast once, from whichever cell it was published', async (t) => {
  const superQ = placeQueue({ queue: 'conductor', ownCell: undefined }, ctx)
  const cellQ = placeQueue({ queue: 'conductor', ownCell: 'cell2' }, ctx)
  if (superQ.kind !== 'cells' || cellQ.kind !== 'cells') throw new Error('unexpected')
  for (const publisherCell of WORK) {
    const who: PublisherCell = { kind: 'cell', cell: publisherCell, why: 'vhost' }
    const p = placePublish('nova', 'conductor', () => who, { map, replyQueueCell: () => undefined })
    if (p.kind !== 'cells') throw new Error('unexpected')
    t.same(p.cells, [publisherCell], `published from ${publisherCell}: one copy`)
    t.ok(superQ.cells.includes(publisherCell), `the super-conductor has a queue in ${publisherCell}`)
  }
  t.same(cellQ.cells, ['cell2'], 'a cell conductor only listens in its cell')
})

t.test('replies find their caller across cells', async (t) => {
  const q = placeQueue({ queue: 'reply_c0ffee', ownCell: 'cell3' }, ctx)
  if (q.kind !== 'cells') throw new Error('unexpected')
  const where = new Map([['reply_c0ffee', q.cells[0]!]])
  const server: PublisherCell = { kind: 'cell', cell: 'cell1', why: 'learned-host' }
  const p = placePublish('', 'reply_c0ffee', () => server, { map, replyQueueCell: (n) => where.get(n) })
  t.same(p.kind === 'cells' ? p.cells : [], ['cell3'], 'the reply from cell1 goes to the caller in cell3')
})
