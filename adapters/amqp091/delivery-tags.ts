/**
 * Maps the delivery tags a client sees to (broker channel, broker tag).
 *
 * A client channel keeps one tag sequence for its whole life, while behind it there may be one
 * broker channel per cell, each with its own tag sequence, and each replaced when its broker
 * connection is lost. Tags are kept per outstanding delivery (bounded by prefetch). An ack for a
 * delivery whose broker channel died is still known here (the client may ack it after a transparent
 * recovery, which must not be a 406) and is dropped by the caller: the broker redelivers it, and
 * sent on the new channel the ack would settle the wrong message.
 */
export interface BrokerSettle<L> {
  readonly leg: L
  readonly brokerTag: number
  readonly multiple: boolean
}

export type TagSettlement<L> = { kind: 'unknown' } | { kind: 'settle'; acts: BrokerSettle<L>[] }

interface Outstanding<L> {
  readonly leg: L
  readonly brokerTag: number
}

export class DeliveryTags<L> {
  private last = 0
  /** Insertion order is client-tag order: deliveries get increasing tags. */
  private readonly outstanding = new Map<number, Outstanding<L>>()

  /** The client tag for a delivery that `leg` sent with `brokerTag`. */
  issue(leg: L, brokerTag: number): number {
    const tag = ++this.last
    this.outstanding.set(tag, { leg, brokerTag })
    return tag
  }

  /** A tag for a delivery the client will not settle (no-ack): counted, not tracked. */
  issueSettled(): number {
    return ++this.last
  }

  /**
   * What to send to the broker(s) for a client ack/nack/reject. Tag 0 with multiple means
   * "everything outstanding" (AMQP); an unknown tag is the client's error (RabbitMQ: 406).
   */
  settle(clientTag: number, multiple: boolean): TagSettlement<L> {
    if (!multiple) {
      const o = this.outstanding.get(clientTag)
      if (o === undefined) return { kind: 'unknown' }
      this.outstanding.delete(clientTag)
      return { kind: 'settle', acts: [{ leg: o.leg, brokerTag: o.brokerTag, multiple: false }] }
    }
    if (clientTag !== 0 && !this.outstanding.has(clientTag)) return { kind: 'unknown' }
    const upTo = clientTag === 0 ? Infinity : clientTag
    const perLeg = new Map<L, number[]>()
    for (const [tag, o] of this.outstanding) {
      if (tag > upTo) break
      this.outstanding.delete(tag)
      const tags = perLeg.get(o.leg)
      if (tags === undefined) perLeg.set(o.leg, [o.brokerTag])
      else tags.push(o.brokerTag)
    }
    const acts: BrokerSettle<L>[] = []
    for (const [leg, tags] of perLeg) {
      const max = tags[tags.length - 1]!
      // One multiple-ack per broker channel, but only over a contiguous run: a gap is a delivery
      // the client has not settled (or a no-ack one cellgate settles itself) and must not be swept.
      if (tags.length > 1 && max - tags[0]! + 1 === tags.length) acts.push({ leg, brokerTag: max, multiple: true })
      else for (const brokerTag of tags) acts.push({ leg, brokerTag, multiple: false })
    }
    return { kind: 'settle', acts }
  }
}
