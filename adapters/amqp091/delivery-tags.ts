/**
 * Maps the delivery tags a client sees to the tags of the broker channel behind it.
 *
 * A client channel keeps one tag sequence for its whole life, while the broker channel behind it
 * may be replaced (recovery after a lost broker connection restarts broker tags at 1). Tags of a
 * broker channel are contiguous, so each generation is just an offset: client = base + broker.
 * Tags from a dead generation are stale: their messages are redelivered by the broker, so an ack
 * for them is dropped rather than sent to the new channel, where it would ack the wrong message.
 */
export type TagLookup =
  | { kind: 'current'; brokerTag: number }
  | { kind: 'stale' }
  | { kind: 'unknown' }

export class DeliveryTagMap {
  private base = 0
  private last = 0

  /** The client tag for a delivery with the current broker channel's tag. */
  toClient(brokerTag: number): number {
    const tag = this.base + brokerTag
    if (tag > this.last) this.last = tag
    return tag
  }

  /** A new broker channel: its tags start again at 1, after every tag already handed out. */
  newGeneration(): void {
    this.base = this.last
  }

  /** Tag 0 with multiple means "everything outstanding" in AMQP; it maps to 0 on the broker. */
  toBroker(clientTag: number, multiple: boolean): TagLookup {
    if (clientTag === 0 && multiple) return { kind: 'current', brokerTag: 0 }
    if (clientTag > this.last || clientTag <= 0) return { kind: 'unknown' }
    if (clientTag <= this.base) return { kind: 'stale' }
    return { kind: 'current', brokerTag: clientTag - this.base }
  }
}
