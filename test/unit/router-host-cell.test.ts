import t from 'tap'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import { placeHost, type HostPlacement } from '../../router/amqp/host-cell.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const cells = [
  { name: 'cell1', disabled: false },
  { name: 'cell2', disabled: false },
  { name: 'cell3', disabled: true },
  { name: 'cell0', disabled: false },
]
const hostCell: Array<[string, string]> = [
  ['host-a', 'cell1'],
  ['host-b', 'cell2'],
  ['host-c', 'cell3'],
  ['host-x', 'cell9'],
  ['host-p', 'cell0'],
  ['node1.example.com', 'cell2'],
]
const withParking: CellMap = { ...buildCellMap(cells, [], { hostCell, parkingCell: 'cell0' }), hostSource: new Map([['host-a', 'nova_api']]) }
const noParking = buildCellMap(cells.filter((c) => c.name !== 'cell0'), [], { hostCell })
const ghostParking = buildCellMap(cells.filter((c) => c.name !== 'cell0'), [], { hostCell, parkingCell: 'cell0' })
const allDisabled = buildCellMap([{ name: 'a', disabled: true }], [], { hostCell: [['h', 'a']] })
const onlyParking = buildCellMap([{ name: 'cell0', disabled: false }], [], { parkingCell: 'cell0' })

const rv = rendezvousCell('new-host', ['cell1', 'cell2'])!

const cases: Array<{ comment: string; host: string; map: CellMap; plan: HostPlacement }> = [
  { comment: 'mapped host in an enabled cell, with its source', host: 'host-a', map: withParking, plan: { kind: 'cell', cell: 'cell1', why: 'host-mapping', source: 'nova_api' } },
  { comment: 'mapped host without a recorded source', host: 'host-b', map: withParking, plan: { kind: 'cell', cell: 'cell2', why: 'host-mapping' } },
  { comment: 'FQDN host mapped exactly', host: 'node1.example.com', map: withParking, plan: { kind: 'cell', cell: 'cell2', why: 'host-mapping' } },
  { comment: 'host names are case-sensitive like nova\'s host_mappings', host: 'HOST-A', map: withParking, plan: { kind: 'cell', cell: rendezvousCell('HOST-A', ['cell1', 'cell2'])!, why: 'rendezvous' } },
  { comment: 'mapped to a disabled cell: parked', host: 'host-c', map: withParking, plan: { kind: 'park', cell: 'cell0', host: 'host-c', reason: 'cell-disabled', mappedCell: 'cell3' } },
  { comment: 'mapped to a cell cellgate does not have: parked', host: 'host-x', map: withParking, plan: { kind: 'park', cell: 'cell0', host: 'host-x', reason: 'cell-unknown', mappedCell: 'cell9' } },
  { comment: 'mapped to the parking cell itself: parked', host: 'host-p', map: withParking, plan: { kind: 'park', cell: 'cell0', host: 'host-p', reason: 'mapped-to-parking', mappedCell: 'cell0' } },
  { comment: 'unmapped: rendezvous over enabled cells, never the parking cell', host: 'new-host', map: withParking, plan: { kind: 'cell', cell: rv, why: 'rendezvous' } },
  { comment: 'unmapped without parking configured: the same rendezvous answer', host: 'new-host', map: noParking, plan: { kind: 'cell', cell: rv, why: 'rendezvous' } },
  { comment: 'disabled cell and no parking cell: refused, not moved', host: 'host-c', map: noParking, plan: { kind: 'refuse', host: 'host-c', reason: 'cell-disabled', mappedCell: 'cell3' } },
  { comment: 'unknown cell and no parking cell: refused', host: 'host-x', map: noParking, plan: { kind: 'refuse', host: 'host-x', reason: 'cell-unknown', mappedCell: 'cell9' } },
  { comment: 'a parking cell that is not a configured cell counts as none', host: 'host-c', map: ghostParking, plan: { kind: 'refuse', host: 'host-c', reason: 'cell-disabled', mappedCell: 'cell3' } },
  { comment: 'no enabled cell at all, unmapped host', host: 'who', map: allDisabled, plan: { kind: 'refuse', host: 'who', reason: 'no-enabled-cell' } },
  { comment: 'no enabled cell at all, mapped host', host: 'h', map: allDisabled, plan: { kind: 'refuse', host: 'h', reason: 'cell-disabled', mappedCell: 'a' } },
  { comment: 'only the parking cell is enabled: unmapped hosts have no work cell', host: 'who', map: onlyParking, plan: { kind: 'refuse', host: 'who', reason: 'no-enabled-cell' } },
  { comment: 'empty host string is just an unmapped name', host: '', map: withParking, plan: { kind: 'cell', cell: rendezvousCell('', ['cell1', 'cell2'])!, why: 'rendezvous' } },
]
for (const c of cases) t.same(placeHost(c.host, c.map), c.plan, c.comment)

// The placement is a pure function of the map: rendezvous answers never depend on mapped hosts.
const remapped = buildCellMap(cells, [], { hostCell: [['new-host', 'cell1']], parkingCell: 'cell0' })
t.same(placeHost('new-host', remapped), { kind: 'cell', cell: 'cell1', why: 'host-mapping' }, 'a mapping overrides rendezvous')
