import type { CloseReason } from '../close-reason.js'

/**
 * The broker ended a channel or the connection with channel.close / connection.close: its reply
 * code, text and the method it refused, exactly as it sent them, so the front end can pass the
 * same close on to its client.
 */
export class BrokerError extends Error {
  override readonly name = 'BrokerError'
  constructor(readonly reason: CloseReason) {
    super(`broker closed with ${reason.code}: ${reason.text}`)
  }

  get code(): number {
    return this.reason.code
  }
}

/** A request on a channel that ended before its answer came (closed by us, or the connection went). */
export class ChannelEndedError extends Error {
  override readonly name = 'ChannelEndedError'
}
