import t from 'tap'
import { buildCellMap, type CellMap } from '../../router/cell-map.js'
import { placePublish, type PublishContext, type PublishPlacement, type PublishWhy } from '../../router/amqp/place-publish.js'
import type { PublisherCell } from '../../router/amqp/publisher-cell.js'
import { classifyPublish } from '../../router/amqp/oslo-destination.js'
import { rendezvousCell } from '../../router/rendezvous.js'

const cells = [
  { name: 'cell1', disabled: false },
  { name: 'cell2', disabled: false },
  { name: 'cell3', disabled: false },
  { name: 'cell4', disabled: true },
  { name: 'cell0', disabled: false },
]
const map: CellMap = {
  ...buildCellMap(cells, [], {
    hostCell: [['cmp1', 'cell1'], ['cmp2.example.com', 'cell2'], ['stor3', 'cell3'], ['cmp4', 'cell4'], ['cmp9', 'cell9']],
    parkingCell: 'cell0',
  }),
  hostSource: new Map([['cmp1', 'nova_api']]),
}
const noParking = buildCellMap(cells.slice(0, 4), [], { hostCell: [['cmp4', 'cell4']] })

const replies = new Map([['reply_aa11', 'cell3'], ['reply_dd44', 'cell4'], ['reply_ee55', 'cell7']])
const queues = new Map([['my-queue', 'cell2'], ['compute.cmp1', 'cell3'], ['lost-queue', 'cell8']])
const ctx: PublishContext = { map, replyQueueCell: (q) => replies.get(q), queueCell: (q) => queues.get(q) }
const aggregate: PublishContext = { ...ctx, notificationsCell: 'cell3' }

const inCell2: PublisherCell = { kind: 'cell', cell: 'cell2', why: 'vhost', evidence: 'cell2' }
const nowhere: PublisherCell = { kind: 'none', reason: 'no-enabled-cell' }
const WORK = ['cell1', 'cell2', 'cell3']

type Case = { comment: string; exchange: string; key: string; publisher?: PublisherCell; ctx?: PublishContext; plan: PublishPlacement }
const d = (exchange: string, key: string) => classifyPublish(exchange, key)
const cellsPlan = (exchange: string, key: string, c: string[], why: PublishWhy, extra: object = {}): PublishPlacement => ({ kind: 'cells', cells: c, why, dest: d(exchange, key), ...extra })

const cases: Case[] = [
  { comment: 'fanout goes to every work cell (not disabled, not parking)', exchange: 'scheduler_fanout', key: '', plan: cellsPlan('scheduler_fanout', '', WORK, 'fanout') },
  { comment: 'neutron fanout likewise', exchange: 'q-agent-notifier-port-update_fanout', key: '', plan: cellsPlan('q-agent-notifier-port-update_fanout', '', WORK, 'fanout') },
  { comment: 'server key of a mapped host, with the mapping source', exchange: 'nova', key: 'compute.cmp1', plan: cellsPlan('nova', 'compute.cmp1', ['cell1'], 'host-mapping', { source: 'nova_api' }) },
  { comment: 'server key with an FQDN host', exchange: 'nova', key: 'compute.cmp2.example.com', plan: cellsPlan('nova', 'compute.cmp2.example.com', ['cell2'], 'host-mapping') },
  { comment: 'cinder h@b.h key goes to h\'s cell', exchange: 'openstack', key: 'cinder-volume.stor3@lvm.stor3', plan: cellsPlan('openstack', 'cinder-volume.stor3@lvm.stor3', ['cell3'], 'host-mapping') },
  { comment: 'cinder h@b key goes to h\'s cell', exchange: 'openstack', key: 'cinder-volume.stor3@lvm', plan: cellsPlan('openstack', 'cinder-volume.stor3@lvm', ['cell3'], 'host-mapping') },
  { comment: 'unmapped host: rendezvous', exchange: 'neutron', key: 'dhcp_agent.net7', plan: cellsPlan('neutron', 'dhcp_agent.net7', [rendezvousCell('net7', WORK)!], 'rendezvous') },
  { comment: 'host of a disabled cell is parked', exchange: 'nova', key: 'compute.cmp4', plan: { kind: 'park', cell: 'cell0', host: 'cmp4', reason: 'cell-disabled', mappedCell: 'cell4', dest: d('nova', 'compute.cmp4') } },
  { comment: 'host of an unknown cell is parked', exchange: 'nova', key: 'compute.cmp9', plan: { kind: 'park', cell: 'cell0', host: 'cmp9', reason: 'cell-unknown', mappedCell: 'cell9', dest: d('nova', 'compute.cmp9') } },
  { comment: 'host of a disabled cell without parking cell is refused', exchange: 'nova', key: 'compute.cmp4', ctx: { ...ctx, map: noParking }, plan: { kind: 'refuse', reason: 'cell-disabled', host: 'cmp4', dest: d('nova', 'compute.cmp4') } },
  { comment: 'anycast goes to the publisher\'s cell', exchange: 'nova', key: 'conductor', plan: cellsPlan('nova', 'conductor', ['cell2'], 'anycast', { publisher: 'vhost' }) },
  { comment: 'anycast with no cell for the publisher is refused', exchange: 'nova', key: 'conductor', publisher: nowhere, plan: { kind: 'refuse', reason: 'no-enabled-cell', dest: d('nova', 'conductor') } },
  { comment: 'reply goes where its queue lives, across cells', exchange: '', key: 'reply_aa11', plan: cellsPlan('', 'reply_aa11', ['cell3'], 'reply-queue') },
  { comment: 'reply to a queue in a disabled cell still goes there (an answer is not new work)', exchange: '', key: 'reply_dd44', plan: cellsPlan('', 'reply_dd44', ['cell4'], 'reply-queue') },
  { comment: 'reply queue recorded on a cell that no longer exists: publisher\'s cell', exchange: '', key: 'reply_ee55', plan: cellsPlan('', 'reply_ee55', ['cell2'], 'reply-unknown', { publisher: 'vhost' }) },
  { comment: 'unknown reply queue: publisher\'s cell (mandatory → return → oslo retries)', exchange: '', key: 'reply_ff66', plan: cellsPlan('', 'reply_ff66', ['cell2'], 'reply-unknown', { publisher: 'vhost' }) },
  { comment: 'notification to the publisher\'s cell', exchange: 'nova', key: 'notifications.info', plan: cellsPlan('nova', 'notifications.info', ['cell2'], 'notification', { publisher: 'vhost' }) },
  { comment: 'notification to the aggregate cell when configured', exchange: 'nova', key: 'versioned_notifications.error', ctx: aggregate, plan: cellsPlan('nova', 'versioned_notifications.error', ['cell3'], 'notification-aggregate') },
  { comment: 'a disabled aggregate cell is ignored', exchange: 'nova', key: 'notifications.info', ctx: { ...ctx, notificationsCell: 'cell4' }, plan: cellsPlan('nova', 'notifications.info', ['cell2'], 'notification', { publisher: 'vhost' }) },
  { comment: 'an unknown aggregate cell is ignored', exchange: 'nova', key: 'notifications.info', ctx: { ...ctx, notificationsCell: 'nope' }, plan: cellsPlan('nova', 'notifications.info', ['cell2'], 'notification', { publisher: 'vhost' }) },
  { comment: 'default exchange to a known queue: where it lives', exchange: '', key: 'my-queue', plan: cellsPlan('', 'my-queue', ['cell2'], 'queue-location') },
  { comment: 'default exchange: a recorded location beats the name', exchange: '', key: 'compute.cmp1', plan: cellsPlan('', 'compute.cmp1', ['cell3'], 'queue-location') },
  { comment: 'default exchange: location on a vanished cell is ignored', exchange: '', key: 'lost-queue', plan: cellsPlan('', 'lost-queue', ['cell2'], 'anycast', { publisher: 'vhost' }) },
  { comment: 'default exchange to an unknown server queue: the host\'s cell', exchange: '', key: 'compute.cmp2.example.com', plan: cellsPlan('', 'compute.cmp2.example.com', ['cell2'], 'host-mapping') },
  { comment: 'default exchange to an unknown fanout queue name: publisher, not every cell', exchange: '', key: 'compute_fanout_ab', plan: cellsPlan('', 'compute_fanout_ab', ['cell2'], 'other', { publisher: 'vhost' }) },
  { comment: 'amq.topic: publisher\'s cell', exchange: 'amq.topic', key: 'compute.cmp1', plan: cellsPlan('amq.topic', 'compute.cmp1', ['cell2'], 'other', { publisher: 'vhost' }) },
  { comment: 'empty key on a topic exchange: publisher\'s cell', exchange: 'nova', key: '', plan: cellsPlan('nova', '', ['cell2'], 'other', { publisher: 'vhost' }) },
  { comment: 'malformed key: publisher\'s cell', exchange: 'nova', key: 'compute.', plan: cellsPlan('nova', 'compute.', ['cell2'], 'other', { publisher: 'vhost' }) },
  {
    comment: 'fanout with no work cell is refused',
    exchange: 'scheduler_fanout',
    key: '',
    ctx: { ...ctx, map: buildCellMap([{ name: 'x', disabled: true }]) },
    plan: { kind: 'refuse', reason: 'no-enabled-cell', dest: d('scheduler_fanout', '') },
  },
]

for (const c of cases) {
  let asked = 0
  const plan = placePublish(c.exchange, c.key, () => (asked++, c.publisher ?? inCell2), c.ctx ?? ctx)
  t.same(plan, c.plan, c.comment)
  const usesPublisher = plan.kind === 'refuse' ? plan.reason === 'no-enabled-cell' && plan.dest.kind !== 'fanout' : plan.kind === 'cells' && plan.publisher !== undefined
  t.equal(asked, usesPublisher ? 1 : 0, `${c.comment}: publisher asked only when it decides`)
}
