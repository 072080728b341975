import t from 'tap'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import { describeDestination, explainHost, explainPublish, explainPublisher, explainQueue } from '../../router/amqp/explain.js'
import { placeHost } from '../../router/amqp/host-cell.js'
import { classifyPublish } from '../../router/amqp/oslo-destination.js'
import { placePublish } from '../../router/amqp/place-publish.js'
import { placeQueue } from '../../router/amqp/place-queue.js'
import type { PublisherCell } from '../../router/amqp/publisher-cell.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const map: CellMap = {
  ...buildCellMap(
    [{ name: 'cell1', disabled: false }, { name: 'cell2', disabled: false }, { name: 'cell3', disabled: true }, { name: 'cell0', disabled: false }],
    [],
    { hostCell: [['node7', 'cell2'], ['old', 'cell3'], ['lost', 'cell9']], parkingCell: 'cell0' },
  ),
  hostSource: new Map([['node7', 'nova_api']]),
}
const noParking = buildCellMap([{ name: 'cell1', disabled: false }], [], { hostCell: [['old', 'cellX']] })
const pub: PublisherCell = { kind: 'cell', cell: 'cell1', why: 'learned-host', evidence: 'cmp1', via: 'rendezvous' }
const ctx = { map, replyQueueCell: () => undefined }
const rv = rendezvousCell('fresh', ['cell1', 'cell2'])

const cases: Array<{ comment: string; text: string; want: string }> = [
  { comment: 'the operator view line of the brief', text: explainPublish('nova', 'compute.node7', placePublish('nova', 'compute.node7', () => pub, ctx)), want: 'nova/compute.node7 → cell2 (host-mapping from nova_api)' },
  { comment: 'rendezvous', text: explainPublish('nova', 'compute.fresh', placePublish('nova', 'compute.fresh', () => pub, ctx)), want: `nova/compute.fresh → ${rv} (rendezvous)` },
  { comment: 'fanout lists every cell', text: explainPublish('scheduler_fanout', '', placePublish('scheduler_fanout', '', () => pub, ctx)), want: 'scheduler_fanout → cell1, cell2 (fanout)' },
  { comment: 'anycast names the publisher evidence', text: explainPublish('nova', 'conductor', placePublish('nova', 'conductor', () => pub, ctx)), want: 'nova/conductor → cell1 (anycast, publisher by learned-host)' },
  { comment: 'parked', text: explainPublish('nova', 'compute.old', placePublish('nova', 'compute.old', () => pub, ctx)), want: 'nova/compute.old → parked in cell0 (host old: mapped to disabled cell3)' },
  { comment: 'reply on the default exchange shows just the queue', text: explainPublish('', 'reply_ab', placePublish('', 'reply_ab', () => pub, ctx)), want: 'reply_ab → cell1 (reply-unknown, publisher by learned-host)' },
  { comment: 'refused', text: explainPublish('nova', 'compute.old', placePublish('nova', 'compute.old', () => pub, { map: noParking, replyQueueCell: () => undefined })), want: 'nova/compute.old → refused (cell-unknown for host old)' },
  { comment: 'queue', text: explainQueue('conductor', placeQueue({ queue: 'conductor', ownCell: undefined }, { map })), want: 'queue conductor → cell1, cell2 (every-cell)' },
  { comment: 'host mapped', text: explainHost('node7', placeHost('node7', map)), want: 'node7 → cell2 (host-mapping from nova_api)' },
  { comment: 'host parked for an unknown cell', text: explainHost('lost', placeHost('lost', map)), want: 'lost → parked in cell0 (mapped to unknown cell cell9)' },
  { comment: 'host refused', text: explainHost('old', placeHost('old', noParking)), want: 'old → refused (mapped to unknown cell cellX, no parking cell)' },
  { comment: 'host with no cell at all', text: explainHost('x', placeHost('x', buildCellMap([]))), want: 'x → refused (no enabled cell)' },
  { comment: 'publisher', text: explainPublisher(pub), want: 'publisher in cell1 (learned-host cmp1 via rendezvous)' },
  { comment: 'publisher nowhere', text: explainPublisher({ kind: 'none', reason: 'no-enabled-cell' }), want: 'publisher in no cell (no enabled cell)' },
  { comment: 'cinder destination names the placement host', text: describeDestination(classifyPublish('openstack', 'cinder-volume.s1@lvm')), want: 'server s1@lvm of cinder-volume (host s1)' },
  { comment: 'notification destination', text: describeDestination(classifyPublish('nova', 'notifications.error')), want: 'notification notifications (error)' },
]
for (const c of cases) t.equal(c.text, c.want, c.comment)
