import { classifyPublish, type OsloDestination } from '../../router/amqp/oslo-destination.js'

/** How a message is labelled in metrics and span names: never a host, a uuid or a reply queue. */
export interface DestinationLabels {
  /** The oslo destination kind: server, anycast, fanout, reply, notification, other. */
  readonly kind: string
  /** The oslo topic without its host part ('reply' for replies, '-' for non-oslo keys). */
  readonly topic: string
}

export type Classify = (exchange: string, routingKey: string) => OsloDestination

const REPLY: DestinationLabels = Object.freeze({ kind: 'reply', topic: 'reply' })
const OTHER: DestinationLabels = Object.freeze({ kind: 'other', topic: '-' })
/** Topics past the cap: anycast keys are whatever a client invents, so the set must be bounded. */
export const TOPIC_OVERFLOW = '_other'

/**
 * Labels per (exchange, routing key). The router's classification is memoised per key in its
 * routing table and returns the same object for the same key, so a WeakMap on that object makes
 * a repeat lookup allocation-free and follows the table when it re-classifies (a learned topic).
 */
export class DestinationLabeler {
  private readonly byDest = new WeakMap<OsloDestination, DestinationLabels>()
  private readonly topics = new Set<string>()

  constructor(
    private readonly classify: Classify = classifyPublish,
    private readonly maxTopics = 256,
  ) {}

  of(exchange: string, routingKey: string): DestinationLabels {
    // Replies are the most frequent unique keys (reply_<uuid>): decided without the classifier.
    if (routingKey.startsWith('reply_')) return REPLY
    const dest = this.classify(exchange, routingKey)
    let labels = this.byDest.get(dest)
    if (labels === undefined) {
      labels = this.labelsOf(dest)
      this.byDest.set(dest, labels)
    }
    return labels
  }

  private labelsOf(dest: OsloDestination): DestinationLabels {
    switch (dest.kind) {
      case 'reply':
        return REPLY
      case 'other':
        return OTHER
      default:
        return { kind: dest.kind, topic: this.boundedTopic(dest.topic) }
    }
  }

  private boundedTopic(topic: string): string {
    if (this.topics.has(topic)) return topic
    if (this.topics.size >= this.maxTopics) return TOPIC_OVERFLOW
    this.topics.add(topic)
    return topic
  }
}
