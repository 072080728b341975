import t from 'tap'
import { extractArgsHints, type ArgsHints } from '../../router/amqp/args-hints.js'

const U1 = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const U2 = '11111111-2222-4333-8444-555555555555'
const U3 = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'

const novaInstance = (uuid: string, host: string | null) => ({
  'nova_object.name': 'Instance',
  'nova_object.namespace': 'nova',
  'nova_object.version': '2.7',
  'nova_object.data': { uuid, host, node: 'n1', vm_state: 'active' },
  'nova_object.changes': [],
})
const cinderObject = (name: string, data: Record<string, unknown>) => ({
  'versioned_object.name': name,
  'versioned_object.namespace': 'cinder',
  'versioned_object.version': '1.8',
  'versioned_object.data': data,
})

const hints = (instanceUuids: string[], hosts: string[]): ArgsHints => ({ instanceUuids, hosts })

const manyArgs: Record<string, unknown> = {}
for (let i = 0; i < 100; i++) manyArgs[`a${i}`] = i
manyArgs['host'] = 'too-late'

const deep: Record<string, unknown> = { x: 1 }
let cursor = deep
for (let i = 0; i < 10_000; i++) {
  const next: Record<string, unknown> = {}
  cursor['n'] = next
  cursor = next
}

const cases: Array<{ comment: string; inner: unknown; hints: ArgsHints }> = [
  { comment: 'nova Instance object gives uuid and host', inner: { method: 'build_and_run_instance', args: { instance: novaInstance(U1, 'cmp1') } }, hints: hints([U1], ['cmp1']) },
  { comment: 'instance with a null host (not yet scheduled)', inner: { method: 'm', args: { instance: novaInstance(U1, null) } }, hints: hints([U1], []) },
  { comment: 'conductor object_action objinst', inner: { method: 'object_action', args: { objinst: novaInstance(U2, 'cmp2.example.com'), objmethod: 'save' } }, hints: hints([U2], ['cmp2.example.com']) },
  { comment: 'instance_uuid argument, upper case normalised', inner: { method: 'm', args: { instance_uuid: U1.toUpperCase() } }, hints: hints([U1], []) },
  { comment: 'instance_uuids list', inner: { method: 'sync_instance_info', args: { instance_uuids: [U1, U2, 'junk', 7], host_name: 'cmp3' } }, hints: hints([U1, U2], ['cmp3']) },
  { comment: 'host argument', inner: { method: 'get_host_uptime', args: { host: 'cmp4' } }, hints: hints([], ['cmp4']) },
  { comment: 'explicit hosts and the instance host in argument order, deduplicated', inner: { method: 'm', args: { instance: novaInstance(U1, 'cmp1'), host: 'cmp9', host_name: 'cmp1' } }, hints: hints([U1], ['cmp1', 'cmp9']) },
  { comment: 'old-style primitive instance dict', inner: { method: 'm', args: { instance: { uuid: U3, host: 'legacy' } } }, hints: hints([U3], ['legacy']) },
  { comment: 'list of instances', inner: { method: 'm', args: { instances: [novaInstance(U1, 'a'), novaInstance(U2, 'b')] } }, hints: hints([U1, U2], ['a', 'b']) },
  { comment: 'RequestSpec instance_uuid comes after explicit ones', inner: { method: 'select_destinations', args: { spec_obj: { 'nova_object.data': { instance_uuid: U2 } }, instance_uuids: [U1] } }, hints: hints([U1, U2], []) },
  { comment: 'cinder Volume host h@b#pool places on h', inner: { method: 'create_volume', args: { volume: cinderObject('Volume', { id: 'v1', host: 'stor1@lvm#pool' }) } }, hints: hints([], ['stor1']) },
  { comment: 'cinder Backup host', inner: { method: 'create_backup', args: { backup: cinderObject('Backup', { host: 'bk1.example.com' }) } }, hints: hints([], ['bk1.example.com']) },
  { comment: 'neutron object host is taken as is', inner: { method: 'm', args: { port: { 'versioned_object.namespace': 'neutron', 'versioned_object.data': { host: 'net@odd' } } } }, hints: hints([], ['net@odd']) },
  { comment: 'neutron report_state agent host', inner: { method: 'report_state', args: { agent_state: { agent_state: { host: 'cmp5', binary: 'neutron-openvswitch-agent' } }, time: 'x' } }, hints: hints([], ['cmp5']) },
  { comment: 'a uuid that is not canonical is ignored', inner: { method: 'm', args: { instance_uuid: '6f1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d' } }, hints: hints([], []) },
  { comment: 'non-string host is ignored', inner: { method: 'm', args: { host: 42, host_name: ['a'] } }, hints: hints([], []) },
  { comment: 'empty host is ignored', inner: { method: 'm', args: { host: '' } }, hints: hints([], []) },
  { comment: 'a 256-character host is not a host', inner: { method: 'm', args: { host: 'h'.repeat(256) } }, hints: hints([], []) },
  { comment: 'no args', inner: { method: 'm' }, hints: hints([], []) },
  { comment: 'args is an array', inner: { method: 'm', args: [U1] }, hints: hints([], []) },
  { comment: 'not an object at all', inner: 'a string', hints: hints([], []) },
  { comment: 'null', inner: null, hints: hints([], []) },
  { comment: 'a reply (result, no args)', inner: { result: { host: 'x' }, failure: null, ending: true }, hints: hints([], []) },
  { comment: 'only the first 64 args are looked at', inner: { method: 'm', args: manyArgs }, hints: hints([], []) },
  { comment: 'a very deep payload is not walked', inner: { method: 'm', args: { deep, host: 'h' } }, hints: hints([], ['h']) },
  {
    comment: 'at most 16 list items and 8 hints',
    inner: { method: 'm', args: { instance_uuids: Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) } },
    hints: hints(Array.from({ length: 8 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`), []),
  },
  { comment: 'inherited properties are not args', inner: { method: 'm', args: Object.create({ host: 'proto' }) as object }, hints: hints([], []) },
]
for (const c of cases) t.same(extractArgsHints(c.inner), c.hints, c.comment)

t.same(extractArgsHints({ args: { instance_uuids: [U1, U2, U3] } }, { maxArgs: 64, maxListItems: 2, maxHints: 8 }), hints([U1, U2], []), 'list budget is a parameter')
t.same(extractArgsHints({ args: { host: 'a', x: 1 } }, { maxArgs: 1, maxListItems: 2, maxHints: 8 }), hints([], ['a']), 'arg budget counts entries in order')
