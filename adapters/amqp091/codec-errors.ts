/**
 * The one error the AMQP 0-9-1 decoders throw for bytes that came off the network. Anything else
 * escaping a decoder is a cellgate bug. The connection maps `code` to a reply: UNKNOWN_METHOD →
 * 540 NOT_IMPLEMENTED / 503 COMMAND_INVALID, MALFORMED → 502 SYNTAX_ERROR / 501 FRAME_ERROR.
 */
export type AmqpCodecErrorCode = 'UNKNOWN_METHOD' | 'MALFORMED'

export class AmqpCodecError extends Error {
  override name = 'AmqpCodecError'
  readonly code: AmqpCodecErrorCode
  /** The class id of the method or content header being decoded, when it was read. */
  readonly classId?: number
  /** The method id of the method being decoded, when it was read. */
  readonly methodId?: number

  constructor(code: AmqpCodecErrorCode, message: string, classId?: number, methodId?: number) {
    super(message)
    this.code = code
    if (classId !== undefined) this.classId = classId
    if (methodId !== undefined) this.methodId = methodId
  }
}

/** Shorthand for the common case; kept out of line so decoders stay small. */
export function malformed(message: string, classId?: number, methodId?: number): AmqpCodecError {
  return new AmqpCodecError('MALFORMED', message, classId, methodId)
}
