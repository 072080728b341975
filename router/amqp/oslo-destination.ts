import {
  AGENT_NOTIFIER_KEY,
  CINDER_VOLUME_TOPIC,
  PLAIN_SERVER_TOPICS,
  VERSIONED_OBJECT_KEY,
  isNotificationPriority,
  placementHost,
  type NotificationPriority,
} from './oslo-topics.js'

/**
 * What an AMQP destination means to oslo.messaging (oslo-wire.md §3.7), as plain data. `host` is
 * the name a cell mapping knows (cinder `h@b` → `h`); `topic`/`server` are the oslo Target's.
 */
export type OsloDestination =
  | { readonly kind: 'server'; readonly topic: string; readonly server: string; readonly host: string }
  | { readonly kind: 'anycast'; readonly topic: string }
  | { readonly kind: 'fanout'; readonly topic: string }
  | { readonly kind: 'reply'; readonly queue: string }
  | { readonly kind: 'notification'; readonly topic: string; readonly priority: NotificationPriority }
  | { readonly kind: 'other'; readonly reason: OtherReason }

export type OtherReason =
  /** Empty routing key or queue name (a server-named queue, or a key nobody binds). */
  | 'empty'
  /** Leading or trailing dot, or an empty segment: no oslo topic looks like that. */
  | 'malformed'
  /** A known topic followed by a dot and nothing usable as a host. */
  | 'bad-host'
  /** amq.* exchanges are RabbitMQ's own; oslo never publishes to them. */
  | 'amq-exchange'

export const NO_TOPICS: ReadonlySet<string> = new Set()

const REPLY_QUEUE = /^reply_[0-9a-f]+$/iu
const FANOUT_QUEUE = /^(.+)_fanout_[0-9a-f]+$/isu
const FANOUT_SUFFIX = '_fanout'

/**
 * Classify a basic.publish. `knownTopics` are anycast topics seen declared (or configured) that
 * the built-in tables do not know, so `<T>.<H>` of other services (heat-engine, octavia…) is
 * still recognised as a server key instead of an opaque anycast key.
 */
export function classifyPublish(exchange: string, routingKey: string, knownTopics: ReadonlySet<string> = NO_TOPICS): OsloDestination {
  if (exchange.startsWith('amq.')) return { kind: 'other', reason: 'amq-exchange' }
  // A fanout exchange ignores the routing key (oslo sends ""), so the exchange alone decides.
  if (exchange.endsWith(FANOUT_SUFFIX) && exchange.length > FANOUT_SUFFIX.length) {
    return { kind: 'fanout', topic: exchange.slice(0, -FANOUT_SUFFIX.length) }
  }
  // Default exchange: the key is a queue name. Pre-9.2 oslo replied through a direct exchange
  // named like the reply queue, so a reply key is a reply on any exchange.
  if (exchange === '' || REPLY_QUEUE.test(routingKey)) return classifyQueue(routingKey, knownTopics)
  return classifyKey(routingKey, knownTopics)
}

/** Classify a queue by its name (queue.declare, queue.bind, basic.consume). */
export function classifyQueue(name: string, knownTopics: ReadonlySet<string> = NO_TOPICS): OsloDestination {
  if (REPLY_QUEUE.test(name)) return { kind: 'reply', queue: name }
  const fanout = FANOUT_QUEUE.exec(name)
  if (fanout?.[1] !== undefined) return { kind: 'fanout', topic: fanout[1] }
  return classifyKey(name, knownTopics)
}

/**
 * A topic-exchange key or a topic queue name: `T`, `T.<server>` or `<topic>.<priority>`.
 * Order: built-in topic grammars (longest first by construction: dotted topic families are
 * matched as whole patterns before the first segment is looked up), then notification keys,
 * then learned topics longest first, then an anycast topic.
 */
function classifyKey(key: string, knownTopics: ReadonlySet<string>): OsloDestination {
  if (key === '') return { kind: 'other', reason: 'empty' }
  const vo = VERSIONED_OBJECT_KEY.exec(key) ?? AGENT_NOTIFIER_KEY.exec(key)
  if (vo?.[1] !== undefined) return vo[2] === undefined ? { kind: 'anycast', topic: vo[1] } : server(vo[1], vo[2])
  const dot = key.indexOf('.')
  if (dot < 0) return { kind: 'anycast', topic: key }
  const first = key.slice(0, dot)
  const rest = key.slice(dot + 1)
  if (first === CINDER_VOLUME_TOPIC) return cinderVolume(rest)
  if (PLAIN_SERVER_TOPICS.has(first)) return server(first, rest)
  if (!wellFormed(key)) return { kind: 'other', reason: 'malformed' }
  const last = key.lastIndexOf('.')
  const priority = key.slice(last + 1)
  if (isNotificationPriority(priority)) return { kind: 'notification', topic: key.slice(0, last), priority }
  for (let i = last; i > 0; i = key.lastIndexOf('.', i - 1)) {
    if (knownTopics.has(key.slice(0, i))) return server(key.slice(0, i), key.slice(i + 1))
  }
  return { kind: 'anycast', topic: key }
}

/** The part after `cinder-volume.`; see CINDER_VOLUME_TOPIC for the four shapes. */
function cinderVolume(rest: string): OsloDestination {
  const at = rest.indexOf('@')
  if (at <= 0) return server(CINDER_VOLUME_TOPIC, rest)
  const h = rest.slice(0, at)
  const backendPart = rest.slice(at + 1)
  // `h@b.h`: the backend-level topic `cinder-volume.h@b` with server h. The suffix must repeat
  // the host exactly; otherwise the dot belongs to the backend name.
  const suffix = `.${h}`
  if (backendPart.length > suffix.length && backendPart.endsWith(suffix)) {
    return server(`${CINDER_VOLUME_TOPIC}.${h}@${backendPart.slice(0, -suffix.length)}`, h)
  }
  return server(CINDER_VOLUME_TOPIC, rest)
}

function server(topic: string, name: string): OsloDestination {
  if (!validHost(name)) return { kind: 'other', reason: 'bad-host' }
  const host = placementHost(topic, name)
  if (!validHost(host)) return { kind: 'other', reason: 'bad-host' }
  return { kind: 'server', topic, server: name, host }
}

function validHost(h: string): boolean {
  return h !== '' && wellFormed(h)
}

function wellFormed(s: string): boolean {
  return !s.startsWith('.') && !s.endsWith('.') && !s.includes('..')
}

/** A queue name that, once declared, tells that `topic` exists as an anycast topic. */
export function learnableTopic(dest: OsloDestination): string | undefined {
  return dest.kind === 'anycast' ? dest.topic : undefined
}
