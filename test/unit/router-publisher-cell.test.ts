import t from 'tap'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import type { ArgsHints } from '../../router/amqp/args-hints.js'
import { defaultCell, inferPublisherCell, ownCell, type PublisherCell, type PublisherFacts, type PublisherCellOptions } from '../../router/amqp/publisher-cell.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const U1 = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const U2 = '11111111-2222-4333-8444-555555555555'
const U3 = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'

const map = buildCellMap(
  [
    { name: 'cell1', disabled: false },
    { name: 'cell2', disabled: false },
    { name: 'cell3', disabled: false },
    { name: 'cell4', disabled: true },
    { name: 'cell0', disabled: false },
  ],
  [['cell2', 'cell2'], ['cell4', 'cell4'], ['ghost', 'cell9']],
  {
    hostCell: [['cmp3', 'cell3'], ['cmp4', 'cell4'], ['cmp1', 'cell1'], ['cmp9', 'cell9']],
    instanceCell: [[U1, 'cell3'], [U2, 'cell4'], [U3, 'cell0']],
    parkingCell: 'cell0',
  },
)

const h = (instanceUuids: string[], hosts: string[]): (() => ArgsHints) => () => ({ instanceUuids, hosts })
const rv = (host: string) => rendezvousCell(host, ['cell1', 'cell2', 'cell3'])!

const cases: Array<{ comment: string; facts: PublisherFacts; opts?: PublisherCellOptions; map?: CellMap; cell: PublisherCell }> = [
  { comment: 'vhost mapped to a cell wins over everything', facts: { vhost: 'cell2', sidecarHost: 'cmp3', learnedHost: 'cmp1', argsHints: h([U1], []) }, cell: { kind: 'cell', cell: 'cell2', why: 'vhost', evidence: 'cell2' } },
  { comment: 'vhost mapped to a disabled cell is skipped', facts: { vhost: 'cell4', sidecarHost: 'cmp3' }, cell: { kind: 'cell', cell: 'cell3', why: 'sidecar-host', evidence: 'cmp3', via: 'host-mapping' } },
  { comment: 'vhost mapped to an unknown cell is skipped', facts: { vhost: 'ghost', learnedHost: 'cmp1' }, cell: { kind: 'cell', cell: 'cell1', why: 'learned-host', evidence: 'cmp1', via: 'host-mapping' } },
  { comment: 'sidecar host before the learned host', facts: { vhost: '/', sidecarHost: 'cmp3', learnedHost: 'cmp1' }, cell: { kind: 'cell', cell: 'cell3', why: 'sidecar-host', evidence: 'cmp3', via: 'host-mapping' } },
  { comment: 'unmapped sidecar host is placed by rendezvous, like its own queue', facts: { vhost: '/', sidecarHost: 'fresh-node' }, cell: { kind: 'cell', cell: rv('fresh-node'), why: 'sidecar-host', evidence: 'fresh-node', via: 'rendezvous' } },
  { comment: 'learned host of a disabled cell is skipped, args decide', facts: { vhost: '/', learnedHost: 'cmp4', argsHints: h([U1], []) }, cell: { kind: 'cell', cell: 'cell3', why: 'args-instance', evidence: U1 } },
  { comment: 'learned host mapped to an unknown cell is skipped', facts: { vhost: '/', learnedHost: 'cmp9', argsHints: h([], ['cmp1']) }, cell: { kind: 'cell', cell: 'cell1', why: 'args-host', evidence: 'cmp1', via: 'host-mapping' } },
  { comment: 'empty learned host is no evidence', facts: { vhost: '/', learnedHost: '' }, cell: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  { comment: 'instance uuid in args', facts: { vhost: '/', argsHints: h([U1], ['cmp1']) }, cell: { kind: 'cell', cell: 'cell3', why: 'args-instance', evidence: U1 } },
  { comment: 'instance of a disabled cell skipped, next instance unknown, then host', facts: { vhost: '/', argsHints: h([U2, U3, '99999999-2222-4333-8444-555555555555'], ['cmp1']) }, cell: { kind: 'cell', cell: 'cell1', why: 'args-host', evidence: 'cmp1', via: 'host-mapping' } },
  { comment: 'unmapped host in args is not hashed: default cell', facts: { vhost: '/', argsHints: h([], ['nobody-knows']) }, cell: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  { comment: 'no evidence at all: first work cell', facts: { vhost: '/' }, cell: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  { comment: 'configured default cell', facts: { vhost: '/' }, opts: { defaultCell: 'cell2' }, cell: { kind: 'cell', cell: 'cell2', why: 'default-cell' } },
  { comment: 'configured default that is disabled falls back to the first work cell', facts: { vhost: '/' }, opts: { defaultCell: 'cell4' }, cell: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  { comment: 'the parking cell is never a default', facts: { vhost: '/' }, opts: { defaultCell: 'cell0' }, cell: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  {
    comment: 'the first work cell skips disabled and parking cells',
    facts: { vhost: '/' },
    map: buildCellMap([{ name: 'p', disabled: false }, { name: 'd', disabled: true }, { name: 'w', disabled: false }], [], { parkingCell: 'p' }),
    cell: { kind: 'cell', cell: 'w', why: 'default-cell' },
  },
  { comment: 'no enabled cell', facts: { vhost: '/' }, map: buildCellMap([{ name: 'd', disabled: true }]), cell: { kind: 'none', reason: 'no-enabled-cell' } },
]
for (const c of cases) t.same(inferPublisherCell(c.facts, c.map ?? map, c.opts), c.cell, c.comment)

t.test('args are only decoded when nothing cheaper decided', async (t) => {
  let calls = 0
  const facts: PublisherFacts = { vhost: 'cell2', argsHints: () => (calls++, { instanceUuids: [U1], hosts: [] }) }
  inferPublisherCell(facts, map)
  t.equal(calls, 0, 'vhost decided, args untouched')
  inferPublisherCell({ ...facts, vhost: '/' }, map)
  t.equal(calls, 1, 'no identity evidence: args decoded once')
})

const own: Array<{ comment: string; facts: PublisherFacts; cell: string | undefined }> = [
  { comment: 'own cell by vhost', facts: { vhost: 'cell2' }, cell: 'cell2' },
  { comment: 'own cell by sidecar host', facts: { vhost: '/', sidecarHost: 'cmp3' }, cell: 'cell3' },
  { comment: 'a connection with only args evidence belongs to no cell (super-conductor)', facts: { vhost: '/', argsHints: h([U1], []) }, cell: undefined },
  { comment: 'a connection with nothing belongs to no cell', facts: { vhost: '/' }, cell: undefined },
]
for (const c of own) t.equal(ownCell(c.facts, map)?.cell, c.cell, c.comment)

t.equal(defaultCell(buildCellMap([])), undefined, 'an empty map has no default cell')
