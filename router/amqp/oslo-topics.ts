/**
 * The RPC topics OpenStack services use (oslo-wire.md §4), as the router needs them: to tell a
 * server routing key `T.<host>` from an anycast key, a notification key or an unknown dotted key
 * without ever splitting a host name on its dots.
 */

/** Topics whose server keys are simply `<topic>.<host>`; none of them contains a dot. */
export const PLAIN_SERVER_TOPICS: ReadonlySet<string> = new Set([
  // nova (§4.1)
  'compute',
  'conductor',
  'scheduler',
  // cinder (§4.3); cinder-volume has its own grammar, see CINDER_VOLUME_TOPIC
  'cinder-scheduler',
  'cinder-backup',
  // neutron (§4.2), neutron-lib agent/topics.py
  'dhcp_agent',
  'l3_agent',
  'metering_agent',
  'q-agent-notifier',
  'q-plugin',
  'q-reports-plugin',
  'q-l3-plugin',
  'q-metering-plugin',
  'q-server-resource-versions',
  'q-dhcp-notifer',
])

/**
 * cinder-volume keys: `cinder-volume.<h>` (no backend), `cinder-volume.<h>@<b>` (topic
 * cinder-volume, server h@b), `cinder-volume.<h>@<b>.<h>` (topic cinder-volume.h@b, server h,
 * RPC ≥ 3.6) and the clustered `cinder-volume.<C>@<b>.<C>`.
 */
export const CINDER_VOLUME_TOPIC = 'cinder-volume'

/** Topics of the cinder services, whose server names may carry `@backend` and `#pool`. */
export const CINDER_TOPICS: ReadonlySet<string> = new Set([CINDER_VOLUME_TOPIC, 'cinder-scheduler', 'cinder-backup'])

/**
 * Neutron's generated topic families. `q-agent-notifier-<resource>-<op>` has no dot;
 * `neutron-vo-<Type>-<major>.<minor>` has one inside the topic itself, so a blind split would
 * take "1" for a host.
 */
export const AGENT_NOTIFIER_KEY = /^(q-agent-notifier-[^.]+)(?:\.(.*))?$/su
export const VERSIONED_OBJECT_KEY = /^(neutron-vo-[^.]+-\d+\.\d+)(?:\.(.*))?$/su

/** oslo.messaging notification priorities as they appear (lower case) in routing keys (§2.6). */
export const NOTIFICATION_PRIORITIES = ['audit', 'debug', 'info', 'warn', 'warning', 'error', 'critical', 'sample'] as const
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number]
const PRIORITY_SET: ReadonlySet<string> = new Set(NOTIFICATION_PRIORITIES)

export function isNotificationPriority(s: string): s is NotificationPriority {
  return PRIORITY_SET.has(s)
}

/**
 * The host a cell mapping knows for a server name. cinder servers are `h@backend` or
 * `h@backend#pool`; the host mapping names `h`. Other services' servers are the host itself.
 */
export function placementHost(topic: string, server: string): string {
  const base = topic.startsWith(`${CINDER_VOLUME_TOPIC}.`) ? CINDER_VOLUME_TOPIC : topic
  return CINDER_TOPICS.has(base) ? cinderHost(server) : server
}

/** `h@b#pool` → `h`; `h@b` → `h`; `h#pool` → `h`; `h` → `h`. */
export function cinderHost(server: string): string {
  const at = server.indexOf('@')
  const hash = server.indexOf('#')
  const cut = at < 0 ? hash : hash < 0 ? at : Math.min(at, hash)
  return cut < 0 ? server : server.slice(0, cut)
}
