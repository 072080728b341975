import t from 'tap'
import { BoundedMemo } from '../../router/bounded-memo.js'
import { buildCellMap } from '../../router/cell-map.js'
import { placePublish } from '../../router/amqp/place-publish.js'
import { placeQueue } from '../../router/amqp/place-queue.js'
import type { PublisherCell } from '../../router/amqp/publisher-cell.js'
import { RoutingTable } from '../../router/amqp/routing-table.js'

const map = buildCellMap(
  [{ name: 'cell1', disabled: false }, { name: 'cell2', disabled: false }, { name: 'cell3', disabled: true }, { name: 'cell0', disabled: false }],
  [['cell2', 'cell2']],
  { hostCell: [['cmp1', 'cell1'], ['cmp3', 'cell3']], parkingCell: 'cell0' },
)
const pub: PublisherCell = { kind: 'cell', cell: 'cell2', why: 'vhost' }
const replies = new Map([['reply_ab', 'cell1']])
const lookups = { replyQueueCell: (q: string) => replies.get(q) }

const keys: Array<{ comment: string; exchange: string; key: string }> = [
  { comment: 'mapped server key', exchange: 'nova', key: 'compute.cmp1' },
  { comment: 'rendezvous server key', exchange: 'nova', key: 'compute.new.example.com' },
  { comment: 'parked server key', exchange: 'nova', key: 'compute.cmp3' },
  { comment: 'fanout', exchange: 'compute_fanout', key: '' },
  { comment: 'anycast', exchange: 'nova', key: 'conductor' },
  { comment: 'reply known', exchange: '', key: 'reply_ab' },
  { comment: 'reply unknown', exchange: '', key: 'reply_cd' },
  { comment: 'notification', exchange: 'nova', key: 'notifications.info' },
  { comment: 'amq exchange', exchange: 'amq.topic', key: 'x' },
  { comment: 'default exchange, server queue name', exchange: '', key: 'compute.cmp1' },
]

t.test('the table answers exactly like the plain functions, first and second time', async (t) => {
  const table = new RoutingTable(map)
  for (const c of keys) {
    const plain = placePublish(c.exchange, c.key, () => pub, { map, ...lookups })
    t.same(table.placePublish(c.exchange, c.key, () => pub, lookups), plain, `${c.comment}: first`)
    t.same(table.placePublish(c.exchange, c.key, () => pub, lookups), plain, `${c.comment}: memoised`)
  }
  t.same(table.workCells, ['cell1', 'cell2'], 'work cells computed once from the map')
  t.same(table.placeQueue({ queue: 'conductor', ownCell: undefined }), placeQueue({ queue: 'conductor', ownCell: undefined }, { map }), 'queue placement like the plain function')
})

t.test('server and fanout decisions are memoised; publisher-dependent ones are not', async (t) => {
  const table = new RoutingTable(map)
  const a = table.placePublish('nova', 'compute.cmp1', () => pub, lookups)
  t.equal(table.placePublish('nova', 'compute.cmp1', () => pub, lookups), a, 'same object for a server key')
  const other: PublisherCell = { kind: 'cell', cell: 'cell1', why: 'learned-host' }
  t.same(table.placePublish('nova', 'conductor', () => pub, lookups), { kind: 'cells', cells: ['cell2'], why: 'anycast', dest: { kind: 'anycast', topic: 'conductor' }, publisher: 'vhost' }, 'anycast from a cell2 publisher')
  t.same(table.placePublish('nova', 'conductor', () => other, lookups), { kind: 'cells', cells: ['cell1'], why: 'anycast', dest: { kind: 'anycast', topic: 'conductor' }, publisher: 'learned-host' }, 'anycast follows the publisher of each call')
  replies.set('reply_1a7e', 'cell2')
  t.same(table.placePublish('', 'reply_1a7e', () => pub, lookups), { kind: 'cells', cells: ['cell2'], why: 'reply-queue', dest: { kind: 'reply', queue: 'reply_1a7e' } }, 'a reply queue learned later is used at once')
})

t.test('learning a topic changes later classifications', async (t) => {
  const table = new RoutingTable(map, { knownTopics: ['octavia'] })
  t.same(table.classify('heat', 'heat-engine.cmp1'), { kind: 'anycast', topic: 'heat-engine.cmp1' }, 'unknown before')
  t.equal(table.learnTopic('heat-engine'), true, 'new topic')
  t.equal(table.learnTopic('heat-engine'), false, 'already known')
  t.equal(table.learnTopic(''), false, 'empty topic ignored')
  t.same(table.classify('heat', 'heat-engine.cmp1'), { kind: 'server', topic: 'heat-engine', server: 'cmp1', host: 'cmp1' }, 'server key after')
  t.same(table.classifyQueue('octavia.hm1'), { kind: 'server', topic: 'octavia', server: 'hm1', host: 'hm1' }, 'configured topics known from the start')
  const p = table.placePublish('heat', 'heat-engine.cmp1', () => pub, lookups)
  t.same(p.kind === 'cells' ? p.cells : [], ['cell1'], 'and placed on the host\'s cell')
})

t.test('publisher and own cell through the table', async (t) => {
  const table = new RoutingTable(map, { defaultCell: 'cell2' })
  t.same(table.publisherCell({ vhost: '/' }), { kind: 'cell', cell: 'cell2', why: 'default-cell' }, 'configured default')
  t.equal(table.ownCell({ vhost: 'cell2' }), 'cell2', 'own cell by vhost')
  t.equal(table.ownCell({ vhost: '/' }), undefined, 'no own cell')
  t.same(table.placeHost('cmp3'), { kind: 'park', cell: 'cell0', host: 'cmp3', reason: 'cell-disabled', mappedCell: 'cell3' }, 'host placement memoised and correct')
})

t.test('memos are bounded', async (t) => {
  const m = new BoundedMemo<string, number>(3)
  let computed = 0
  const f = (k: string) => (computed++, k.length)
  for (const k of ['a', 'bb', 'ccc', 'a', 'dddd']) m.get(k, f)
  t.equal(m.size, 3, 'never more than the bound')
  t.equal(computed, 4, 'a hit is not recomputed')
  m.get('a', f)
  t.equal(computed, 5, 'the oldest entry was evicted first')
  t.throws(() => new BoundedMemo(0), RangeError, 'a zero bound is a programming error')
  const undef = new BoundedMemo<string, undefined>(2)
  let n = 0
  undef.get('x', () => (n++, undefined))
  undef.get('x', () => (n++, undefined))
  t.equal(n, 1, 'undefined values are memoised too')

  const table = new RoutingTable(map, { maxEntries: 100 })
  for (let i = 0; i < 1000; i++) table.placePublish('nova', `compute.h${i}`, () => pub, lookups)
  t.same(table.placePublish('nova', 'compute.cmp1', () => pub, lookups).kind, 'cells', 'still answers after overflowing its memos')
})

t.test('100 000 publish placements over a realistic key mix', async (t) => {
  const table = new RoutingTable(map)
  const mix = Array.from({ length: 500 }, (_, i) => `compute.node${i}.example.com`).concat(['conductor', 'scheduler', 'notifications.info'])
  const counts = new Map<string, number>()
  for (let i = 0; i < 100_000; i++) {
    const key = mix[i % mix.length]!
    const p = i % 97 === 0 ? table.placePublish('scheduler_fanout', '', () => pub, lookups) : table.placePublish('nova', key, () => pub, lookups)
    const label = p.kind === 'cells' ? p.cells.join('+') : p.kind
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  t.equal([...counts.values()].reduce((a, b) => a + b, 0), 100_000, 'every lookup answered')
  t.ok((counts.get('cell1') ?? 0) > 0 && (counts.get('cell2') ?? 0) > 0, 'hosts spread over both work cells')
  t.ok((counts.get('cell1+cell2') ?? 0) > 1000, 'fanouts went to both work cells')
  t.notOk(counts.has('cell3') || counts.has('cell0'), 'nothing landed in the disabled or parking cell')
})
