import t from 'tap'
import { mergeSnapshots, NOVA_CELL0_UUID, type MergeWarning } from '../../router/merge-snapshots.js'
import type { CellRef, MappingSnapshot } from '../../router/mapping-snapshot.js'

const UA = 'aaaaaaaa-0000-4000-8000-000000000001'
const UB = 'bbbbbbbb-0000-4000-8000-000000000002'
const UX = 'eeeeeeee-0000-4000-8000-000000000009'
const I1 = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const I2 = '11111111-2222-4333-8444-555555555555'

const configCells = [
  { name: 'cell1', uuid: UA, disabled: false },
  { name: 'cell2', disabled: false },
  { name: 'cell0', disabled: false },
]
const snap = (source: string, hosts: Array<[string, CellRef]>, instances: Array<[string, CellRef]> = [], cells: MappingSnapshot['cells'] = []): MappingSnapshot => ({
  source,
  cells,
  hosts: new Map(hosts),
  instances: new Map(instances),
})

const nova = snap(
  'nova_api',
  [
    ['cmp1', { uuid: UA }],
    ['cmp2', { uuid: UB }],
    ['cmp3', { uuid: UX }],
    ['shared', { uuid: UB }],
  ],
  [
    [I1.toUpperCase(), { uuid: UA.toUpperCase() }],
    [I2, { uuid: NOVA_CELL0_UUID }],
  ],
  [
    { uuid: NOVA_CELL0_UUID, name: 'cell0' },
    { uuid: UA, name: 'one' },
    { uuid: UB, name: 'cell2', disabled: true },
    { uuid: UX, name: 'cell5' },
  ],
)
const file = snap('file:/etc/cellgate/map.yaml', [['shared', { name: 'cell1' }], ['net1', { name: 'cell2' }], ['ghost', { name: 'cell7' }]])
const own = snap('cellgate-db', [['cmp2', { name: 'cell2' }], ['shared', { name: 'cell2' }]])

t.test('priority order: own tables, then file, then nova_api; first wins', async (t) => {
  const r = mergeSnapshots({ cells: configCells, parkingCell: 'cell0', snapshots: [own, file, nova], vhostCell: [['cell2', 'cell2']] })
  const hosts = Object.fromEntries(r.map.hostCell)
  t.same(
    hosts,
    { cmp2: 'cell2', shared: 'cell2', net1: 'cell2', ghost: 'cell7', cmp1: 'cell1', cmp3: 'cell5' },
    'hosts resolved by configured uuid, by nova name = cellgate name, and by cellgate name',
  )
  t.same(Object.fromEntries(r.map.hostSource ?? []), { cmp2: 'cellgate-db', shared: 'cellgate-db', net1: 'file:/etc/cellgate/map.yaml', ghost: 'file:/etc/cellgate/map.yaml', cmp1: 'nova_api', cmp3: 'nova_api' }, 'each host remembers its source')
  t.same(Object.fromEntries(r.map.instanceCell), { [I1]: 'cell1', [I2]: 'cell0' }, 'instance uuids lower-cased; cell0 maps to the parking cell')
  t.equal(r.map.parkingCell, 'cell0', 'parking cell carried over')
  t.same(Object.fromEntries(r.map.vhostCell), { cell2: 'cell2' }, 'vhosts carried over')
  t.same(r.map.cells.map((c) => [c.name, c.disabled]), [['cell1', false], ['cell2', false], ['cell0', false]], 'nova\'s disabled flag does not disable a cellgate cell')
  const expected: MergeWarning[] = [
    { kind: 'conflict', entry: 'host', key: 'shared', kept: { source: 'cellgate-db', cell: 'cell2' }, ignored: { source: 'file:/etc/cellgate/map.yaml', cell: 'cell1' } },
    { kind: 'unresolved-ref', source: 'file:/etc/cellgate/map.yaml', entry: 'host', key: 'ghost', ref: 'name cell7' },
    { kind: 'unresolved-ref', source: 'nova_api', entry: 'host', key: 'cmp3', ref: `uuid ${UX}` },
    { kind: 'unconfigured-cell', source: 'nova_api', cell: `cell5 (${UX})` },
  ]
  t.same(r.warnings, expected, 'conflicts and unresolvable refs reported as data, same-cell repeats are silent')
})

t.test('reverse priority changes who wins', async (t) => {
  const r = mergeSnapshots({ cells: configCells, parkingCell: 'cell0', snapshots: [nova, file, own] })
  t.equal(r.map.hostCell.get('shared'), 'cell2', 'nova_api first: its cell2 (by uuid UB → nova name cell2) wins')
  t.equal(r.map.hostSource?.get('shared'), 'nova_api', 'and its source is nova_api')
  t.ok(r.warnings.some((w) => w.kind === 'conflict' && w.key === 'shared' && w.ignored.source === 'file:/etc/cellgate/map.yaml'), 'the file\'s cell1 is reported as ignored')
})

t.test('cell0 without a parking cell', async (t) => {
  const r = mergeSnapshots({ cells: configCells.slice(0, 2), snapshots: [nova] })
  t.equal(r.map.instanceCell.has(I2), false, 'cell0 instances are dropped')
  t.equal(r.map.parkingCell, undefined, 'no parking cell invented')
  t.ok(r.warnings.some((w) => w.kind === 'cell0-without-parking' && w.entries === 1), 'and the drop is reported with a count')
  t.ok(r.warnings.some((w) => w.kind === 'unconfigured-cell' && w.cell === `cell0 (${NOVA_CELL0_UUID})`), 'cell0 itself is an unconfigured cell then')
})

t.test('unnamed nova cell with an unknown uuid', async (t) => {
  const r = mergeSnapshots({ cells: configCells, snapshots: [snap('nova_api', [['h', { uuid: UX }]])] })
  t.equal(r.map.hostCell.get('h'), `uuid:${UX}`, 'kept under a name no cell has, so the host is parked rather than hashed elsewhere')
})

t.test('odd inputs never throw', async (t) => {
  const r = mergeSnapshots({ cells: [], parkingCell: 'nowhere', snapshots: [] })
  t.same(r.warnings, [{ kind: 'parking-cell-unknown', cell: 'nowhere' }], 'a parking cell that is not configured is reported')
  t.equal(r.map.hostCell.size, 0, 'empty map')
  const again = mergeSnapshots({ cells: configCells, snapshots: [own, own] })
  t.equal(again.warnings.length, 0, 'the same source twice agrees with itself')
})
