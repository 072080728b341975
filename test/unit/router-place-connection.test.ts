import t from 'tap'
import { buildCellMap } from '../../router/cell-map.js'
import { placeConnection, type ConnectionPlacement } from '../../router/amqp/place-connection.js'

const cells = [
  { name: 'cell1', disabled: false },
  { name: 'cell2', disabled: false },
  { name: 'cell3', disabled: true },
]
const map = buildCellMap(cells, [['cell2', 'cell2'], ['cell3', 'cell3'], ['ghost', 'nowhere']])

const cases: Array<{ comment: string; vhost: string; plan: ConnectionPlacement; map?: ReturnType<typeof buildCellMap> }> = [
  { comment: 'unmapped vhost goes to the first enabled cell', vhost: '/', plan: { kind: 'cell', cell: 'cell1', why: 'default-cell' } },
  { comment: 'a vhost mapped to a cell goes there', vhost: 'cell2', plan: { kind: 'cell', cell: 'cell2', why: 'vhost' } },
  { comment: 'a vhost mapped to a disabled cell is refused, not silently moved', vhost: 'cell3', plan: { kind: 'refuse', reason: 'vhost-cell-disabled' } },
  { comment: 'a vhost mapped to an unknown cell is refused', vhost: 'ghost', plan: { kind: 'refuse', reason: 'vhost-cell-disabled' } },
  {
    comment: 'the default skips disabled cells',
    vhost: '/',
    map: buildCellMap([{ name: 'a', disabled: true }, { name: 'b', disabled: false }]),
    plan: { kind: 'cell', cell: 'b', why: 'default-cell' },
  },
  {
    comment: 'no enabled cell at all',
    vhost: '/',
    map: buildCellMap([{ name: 'a', disabled: true }]),
    plan: { kind: 'refuse', reason: 'no-enabled-cell' },
  },
]

for (const c of cases) t.same(placeConnection(c.vhost, c.map ?? map), c.plan, c.comment)
