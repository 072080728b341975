import type { DeliveryFacts, MessageObserver, PublishFacts, PublishObservation } from '../amqp091/observer-port.js'

/**
 * Two observers as one: `first` (telemetry) keeps its observation and the headers it adds;
 * `second` (the recorder) is told everything too. Used only while recording, so the front end's
 * path is unchanged otherwise.
 */
export function teeObserver(first: MessageObserver, second: MessageObserver): MessageObserver {
  return {
    publishReceived(p: PublishFacts): PublishObservation | undefined {
      const b = second.publishReceived(p)
      const a = first.publishReceived(p)
      if (a === undefined || b === undefined) return a ?? b
      return {
        ...(a.headers !== undefined ? { headers: a.headers } : {}),
        routed: (cells, outcome, why) => (a.routed(cells, outcome, why), b.routed(cells, outcome, why)),
        sentUpstream: (cell) => (a.sentUpstream(cell), b.sentUpstream(cell)),
        returned: (code) => (a.returned(code), b.returned(code)),
        settled: (nacked) => (a.settled(nacked), b.settled(nacked)),
      }
    },
    deliverySent(d: DeliveryFacts): void {
      first.deliverySent(d)
      second.deliverySent(d)
    },
    clientConnections(delta) {
      first.clientConnections(delta)
      second.clientConnections(delta)
    },
    clientChannels(delta) {
      first.clientChannels(delta)
      second.clientChannels(delta)
    },
  }
}
