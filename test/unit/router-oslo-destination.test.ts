import t from 'tap'
import { classifyPublish, classifyQueue, learnableTopic, type OsloDestination } from '../../router/amqp/oslo-destination.js'

const learned = new Set(['heat-engine', 'octavia_provisioning_v2', 'magnum.conductor'])

const srv = (topic: string, server: string, host = server): OsloDestination => ({ kind: 'server', topic, server, host })

type Case = { comment: string; exchange: string; key: string; dest: OsloDestination; topics?: ReadonlySet<string> }

const publishes: Case[] = [
  // nova (oslo-wire §4.1)
  { comment: 'nova compute server key', exchange: 'nova', key: 'compute.node1', dest: srv('compute', 'node1') },
  { comment: 'nova compute FQDN host keeps all its dots', exchange: 'nova', key: 'compute.node1.example.com', dest: srv('compute', 'node1.example.com') },
  { comment: 'nova conductor server key', exchange: 'nova', key: 'conductor.ctl-1.dc2.example.org', dest: srv('conductor', 'ctl-1.dc2.example.org') },
  { comment: 'nova scheduler server key', exchange: 'nova', key: 'scheduler.sched1', dest: srv('scheduler', 'sched1') },
  { comment: 'nova anycast conductor', exchange: 'nova', key: 'conductor', dest: { kind: 'anycast', topic: 'conductor' } },
  { comment: 'nova anycast scheduler (select_destinations)', exchange: 'nova', key: 'scheduler', dest: { kind: 'anycast', topic: 'scheduler' } },
  { comment: 'nova scheduler fanout exchange, empty key', exchange: 'scheduler_fanout', key: '', dest: { kind: 'fanout', topic: 'scheduler' } },
  { comment: 'fanout exchange ignores whatever key is given', exchange: 'compute_fanout', key: 'compute.node1', dest: { kind: 'fanout', topic: 'compute' } },
  { comment: 'a host literally called "info" on a known topic is a host, not a priority', exchange: 'nova', key: 'compute.info', dest: srv('compute', 'info') },
  { comment: 'host that is an IP address', exchange: 'nova', key: 'compute.10.0.0.7', dest: srv('compute', '10.0.0.7') },
  { comment: 'unicode host name', exchange: 'nova', key: 'compute.nöde-ß.例え.jp', dest: srv('compute', 'nöde-ß.例え.jp') },
  { comment: 'host with dashes and underscores', exchange: 'nova', key: 'compute.rack_3-node-07', dest: srv('compute', 'rack_3-node-07') },
  // replies
  { comment: 'reply through the default exchange', exchange: '', key: 'reply_8f1c2a7b9e0d4c3ba1f2e3d4c5b6a798', dest: { kind: 'reply', queue: 'reply_8f1c2a7b9e0d4c3ba1f2e3d4c5b6a798' } },
  { comment: 'pre-9.2 reply through a direct exchange named like the queue', exchange: 'reply_abc123', key: 'reply_abc123', dest: { kind: 'reply', queue: 'reply_abc123' } },
  { comment: 'reply_ with non-hex tail is not a reply queue', exchange: '', key: 'reply_xyz', dest: { kind: 'anycast', topic: 'reply_xyz' } },
  { comment: 'bare reply_ is not a reply queue', exchange: '', key: 'reply_', dest: { kind: 'anycast', topic: 'reply_' } },
  // notifications (§2.6)
  { comment: 'unversioned nova notification', exchange: 'nova', key: 'notifications.info', dest: { kind: 'notification', topic: 'notifications', priority: 'info' } },
  { comment: 'versioned notification error', exchange: 'nova', key: 'versioned_notifications.error', dest: { kind: 'notification', topic: 'versioned_notifications', priority: 'error' } },
  { comment: 'notification priority audit', exchange: 'neutron', key: 'notifications.audit', dest: { kind: 'notification', topic: 'notifications', priority: 'audit' } },
  { comment: 'notification priority sample (ceilometer)', exchange: 'ceilometer', key: 'metering.sample', dest: { kind: 'notification', topic: 'metering', priority: 'sample' } },
  { comment: 'notification priority warn', exchange: 'nova', key: 'notifications.warn', dest: { kind: 'notification', topic: 'notifications', priority: 'warn' } },
  { comment: 'notification priority warning', exchange: 'nova', key: 'notifications.warning', dest: { kind: 'notification', topic: 'notifications', priority: 'warning' } },
  { comment: 'notification priority debug', exchange: 'nova', key: 'notifications.debug', dest: { kind: 'notification', topic: 'notifications', priority: 'debug' } },
  { comment: 'notification priority critical', exchange: 'nova', key: 'notifications.critical', dest: { kind: 'notification', topic: 'notifications', priority: 'critical' } },
  { comment: 'notification topic with a dot', exchange: 'openstack', key: 'notifications.designate.info', dest: { kind: 'notification', topic: 'notifications.designate', priority: 'info' } },
  { comment: 'upper-case priority is not what oslo sends: an unknown dotted anycast key', exchange: 'nova', key: 'notifications.INFO', dest: { kind: 'anycast', topic: 'notifications.INFO' } },
  { comment: 'a learned topic does not turn a notification key into a server key', exchange: 'nova', key: 'notifications.info', topics: new Set(['notifications']), dest: { kind: 'notification', topic: 'notifications', priority: 'info' } },
  // cinder (§4.3)
  { comment: 'cinder-volume RPC ≥ 3.6 key h@b.h', exchange: 'openstack', key: 'cinder-volume.stor1@lvm.stor1', dest: srv('cinder-volume.stor1@lvm', 'stor1') },
  { comment: 'cinder-volume pre-3.6 key h@b', exchange: 'openstack', key: 'cinder-volume.stor1@lvm', dest: srv('cinder-volume', 'stor1@lvm', 'stor1') },
  { comment: 'cinder-volume FQDN host h@b.h', exchange: 'openstack', key: 'cinder-volume.st1.example.com@ceph.st1.example.com', dest: srv('cinder-volume.st1.example.com@ceph', 'st1.example.com') },
  { comment: 'cinder-volume FQDN host h@b', exchange: 'openstack', key: 'cinder-volume.st1.example.com@ceph', dest: srv('cinder-volume', 'st1.example.com@ceph', 'st1.example.com') },
  { comment: 'cinder-volume clustered C@b.C', exchange: 'openstack', key: 'cinder-volume.clusterA@rbd.clusterA', dest: srv('cinder-volume.clusterA@rbd', 'clusterA') },
  { comment: 'cinder-volume backend name with a dot that is not the host', exchange: 'openstack', key: 'cinder-volume.stor1@lvm.fast', dest: srv('cinder-volume', 'stor1@lvm.fast', 'stor1') },
  { comment: 'cinder-volume with a pool suffix', exchange: 'openstack', key: 'cinder-volume.stor1@lvm#pool-a', dest: srv('cinder-volume', 'stor1@lvm#pool-a', 'stor1') },
  { comment: 'cinder-volume without backend', exchange: 'openstack', key: 'cinder-volume.stor1', dest: srv('cinder-volume', 'stor1') },
  { comment: 'cinder-volume whose "host" suffix only repeats part of the host', exchange: 'openstack', key: 'cinder-volume.a.b@lvm.b', dest: srv('cinder-volume', 'a.b@lvm.b', 'a.b') },
  { comment: 'cinder-volume with an empty host before @', exchange: 'openstack', key: 'cinder-volume.@lvm', dest: { kind: 'other', reason: 'bad-host' } },
  { comment: 'cinder-volume anycast', exchange: 'openstack', key: 'cinder-volume', dest: { kind: 'anycast', topic: 'cinder-volume' } },
  { comment: 'cinder-volume fanout', exchange: 'cinder-volume_fanout', key: '', dest: { kind: 'fanout', topic: 'cinder-volume' } },
  { comment: 'cinder-volume backend fanout (failover_completed)', exchange: 'cinder-volume.stor1@lvm_fanout', key: '', dest: { kind: 'fanout', topic: 'cinder-volume.stor1@lvm' } },
  { comment: 'cinder-scheduler anycast', exchange: 'openstack', key: 'cinder-scheduler', dest: { kind: 'anycast', topic: 'cinder-scheduler' } },
  { comment: 'cinder-scheduler server key (set_log_levels)', exchange: 'openstack', key: 'cinder-scheduler.ctl1.example.com', dest: srv('cinder-scheduler', 'ctl1.example.com') },
  { comment: 'cinder-backup server key', exchange: 'openstack', key: 'cinder-backup.bk1', dest: srv('cinder-backup', 'bk1') },
  { comment: 'cinder-backup host@backend style still places on h', exchange: 'openstack', key: 'cinder-backup.bk1@swift', dest: srv('cinder-backup', 'bk1@swift', 'bk1') },
  // neutron (§4.2)
  { comment: 'neutron dhcp agent host', exchange: 'neutron', key: 'dhcp_agent.net1', dest: srv('dhcp_agent', 'net1') },
  { comment: 'neutron l3 agent FQDN', exchange: 'neutron', key: 'l3_agent.net1.example.com', dest: srv('l3_agent', 'net1.example.com') },
  { comment: 'neutron metering agent', exchange: 'neutron', key: 'metering_agent.net2', dest: srv('metering_agent', 'net2') },
  { comment: 'neutron q-plugin anycast', exchange: 'neutron', key: 'q-plugin', dest: { kind: 'anycast', topic: 'q-plugin' } },
  { comment: 'neutron q-reports-plugin anycast', exchange: 'neutron', key: 'q-reports-plugin', dest: { kind: 'anycast', topic: 'q-reports-plugin' } },
  { comment: 'neutron q-plugin server key', exchange: 'neutron', key: 'q-plugin.ctl1', dest: srv('q-plugin', 'ctl1') },
  { comment: 'neutron q-reports-plugin server key', exchange: 'neutron', key: 'q-reports-plugin.ctl1', dest: srv('q-reports-plugin', 'ctl1') },
  { comment: 'neutron agent notifier topic as anycast', exchange: 'neutron', key: 'q-agent-notifier-port-update', dest: { kind: 'anycast', topic: 'q-agent-notifier-port-update' } },
  { comment: 'neutron agent notifier with host', exchange: 'neutron', key: 'q-agent-notifier-port-update.cmp1.example.com', dest: srv('q-agent-notifier-port-update', 'cmp1.example.com') },
  { comment: 'neutron agent notifier fanout', exchange: 'q-agent-notifier-security_group-update_fanout', key: '', dest: { kind: 'fanout', topic: 'q-agent-notifier-security_group-update' } },
  { comment: 'neutron versioned-object topic has a dot in the version: anycast, not host "1"', exchange: 'neutron', key: 'neutron-vo-Port-1.1', dest: { kind: 'anycast', topic: 'neutron-vo-Port-1.1' } },
  { comment: 'neutron versioned-object topic with host', exchange: 'neutron', key: 'neutron-vo-SecurityGroupRule-1.0.cmp7.example.com', dest: srv('neutron-vo-SecurityGroupRule-1.0', 'cmp7.example.com') },
  { comment: 'neutron versioned-object fanout', exchange: 'neutron-vo-Network-1.1_fanout', key: '', dest: { kind: 'fanout', topic: 'neutron-vo-Network-1.1' } },
  { comment: 'neutron dhcp agent fanout', exchange: 'dhcp_agent_fanout', key: '', dest: { kind: 'fanout', topic: 'dhcp_agent' } },
  // learned topics (generic <T>.<H>)
  { comment: 'unknown dotted key without learned topic is an opaque anycast key', exchange: 'heat', key: 'heat-engine.eng1', dest: { kind: 'anycast', topic: 'heat-engine.eng1' } },
  { comment: 'learned topic makes <T>.<H> a server key', exchange: 'heat', key: 'heat-engine.eng1', topics: learned, dest: srv('heat-engine', 'eng1') },
  { comment: 'learned topic with FQDN host', exchange: 'heat', key: 'heat-engine.eng1.example.com', topics: learned, dest: srv('heat-engine', 'eng1.example.com') },
  { comment: 'learned dotted topic matched longest first', exchange: 'magnum', key: 'magnum.conductor.m1', topics: learned, dest: srv('magnum.conductor', 'm1') },
  { comment: 'the learned topic itself is anycast', exchange: 'heat', key: 'heat-engine', topics: learned, dest: { kind: 'anycast', topic: 'heat-engine' } },
  // odd input
  { comment: 'empty routing key on a topic exchange', exchange: 'nova', key: '', dest: { kind: 'other', reason: 'empty' } },
  { comment: 'known topic with empty host', exchange: 'nova', key: 'compute.', dest: { kind: 'other', reason: 'bad-host' } },
  { comment: 'known topic with host starting with a dot', exchange: 'nova', key: 'compute..node1', dest: { kind: 'other', reason: 'bad-host' } },
  { comment: 'known topic with host ending with a dot', exchange: 'nova', key: 'compute.node1.', dest: { kind: 'other', reason: 'bad-host' } },
  { comment: 'leading dot', exchange: 'nova', key: '.compute', dest: { kind: 'other', reason: 'malformed' } },
  { comment: 'empty segment in an unknown key', exchange: 'nova', key: 'foo..bar', dest: { kind: 'other', reason: 'malformed' } },
  { comment: 'a lone dot', exchange: 'nova', key: '.', dest: { kind: 'other', reason: 'malformed' } },
  { comment: 'topic with no dot is anycast', exchange: 'nova', key: 'something', dest: { kind: 'anycast', topic: 'something' } },
  { comment: 'topic name with unicode', exchange: 'x', key: 'тема', dest: { kind: 'anycast', topic: 'тема' } },
  { comment: 'amq.topic is RabbitMQ\'s, not oslo\'s', exchange: 'amq.topic', key: 'compute.node1', dest: { kind: 'other', reason: 'amq-exchange' } },
  { comment: 'amq.direct', exchange: 'amq.direct', key: 'q', dest: { kind: 'other', reason: 'amq-exchange' } },
  { comment: 'an exchange named just _fanout has no topic', exchange: '_fanout', key: '', dest: { kind: 'other', reason: 'empty' } },
  { comment: 'default exchange with a server queue name', exchange: '', key: 'compute.node9', dest: srv('compute', 'node9') },
  { comment: 'default exchange with an arbitrary queue name', exchange: '', key: 'my-queue', dest: { kind: 'anycast', topic: 'my-queue' } },
  { comment: 'default exchange with empty key', exchange: '', key: '', dest: { kind: 'other', reason: 'empty' } },
  { comment: 'prefix that only looks like a known topic', exchange: 'nova', key: 'computex.node1', dest: { kind: 'anycast', topic: 'computex.node1' } },
  { comment: 'cinder-volume-like topic that is not cinder-volume', exchange: 'openstack', key: 'cinder-volumes.h@b', dest: { kind: 'anycast', topic: 'cinder-volumes.h@b' } },
]

for (const c of publishes) t.same(classifyPublish(c.exchange, c.key, c.topics), c.dest, `publish: ${c.comment}`)

const queues: Array<{ comment: string; name: string; dest: OsloDestination; topics?: ReadonlySet<string> }> = [
  { comment: 'anycast topic queue', name: 'compute', dest: { kind: 'anycast', topic: 'compute' } },
  { comment: 'server queue', name: 'compute.node1.example.com', dest: srv('compute', 'node1.example.com') },
  { comment: 'fanout queue with uuid4 hex', name: 'compute_fanout_0f1e2d3c4b5a69788796a5b4c3d2e1f0', dest: { kind: 'fanout', topic: 'compute' } },
  { comment: 'cinder backend fanout queue', name: 'cinder-volume.stor1@lvm_fanout_ab12', dest: { kind: 'fanout', topic: 'cinder-volume.stor1@lvm' } },
  { comment: 'neutron-vo fanout queue', name: 'neutron-vo-Port-1.1_fanout_abc', dest: { kind: 'fanout', topic: 'neutron-vo-Port-1.1' } },
  { comment: 'fanout queue without hex is not one', name: 'compute_fanout_', dest: { kind: 'anycast', topic: 'compute_fanout_' } },
  { comment: 'bare _fanout_<hex> has no topic', name: '_fanout_abc', dest: { kind: 'anycast', topic: '_fanout_abc' } },
  { comment: 'reply queue', name: 'reply_0123456789abcdef0123456789abcdef', dest: { kind: 'reply', queue: 'reply_0123456789abcdef0123456789abcdef' } },
  { comment: 'upper-case hex reply queue', name: 'reply_ABCDEF', dest: { kind: 'reply', queue: 'reply_ABCDEF' } },
  { comment: 'notification queue declared by the notifier', name: 'notifications.info', dest: { kind: 'notification', topic: 'notifications', priority: 'info' } },
  { comment: 'notification pool queue: its name says nothing', name: 'ceilometer-pool', dest: { kind: 'anycast', topic: 'ceilometer-pool' } },
  { comment: 'server-named queue (empty name)', name: '', dest: { kind: 'other', reason: 'empty' } },
  { comment: 'cinder backend-level queue', name: 'cinder-volume.stor1@lvm', dest: srv('cinder-volume', 'stor1@lvm', 'stor1') },
  { comment: 'cinder backend-host queue', name: 'cinder-volume.stor1@lvm.stor1', dest: srv('cinder-volume.stor1@lvm', 'stor1') },
  { comment: 'learned-topic server queue', name: 'octavia_provisioning_v2.hm1', topics: learned, dest: srv('octavia_provisioning_v2', 'hm1') },
]

for (const c of queues) t.same(classifyQueue(c.name, c.topics), c.dest, `queue: ${c.comment}`)

t.equal(learnableTopic(classifyQueue('heat-engine')), 'heat-engine', 'an anycast queue teaches its topic')
t.equal(learnableTopic(classifyQueue('compute.node1')), undefined, 'a server queue teaches nothing')
t.equal(learnableTopic(classifyQueue('reply_ab')), undefined, 'a reply queue teaches nothing')
