import { isHardError } from './methods.generated.js'

/**
 * An AMQP error as RabbitMQ would report it: a reply code, text prefixed with the code's name
 * ("NOT_FOUND - no queue 'x' in vhost '/'"), and the method that failed. Hard codes close the
 * connection, soft ones the channel; the spec decides which.
 */
export class AmqpError extends Error {
  override readonly name = 'AmqpError'
  constructor(
    readonly code: number,
    readonly text: string,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(text)
  }

  get closesConnection(): boolean {
    return isHardError(this.code)
  }
}

const NAMES: Record<number, string> = {
  311: 'CONTENT_TOO_LARGE',
  312: 'NO_ROUTE',
  313: 'NO_CONSUMERS',
  320: 'CONNECTION_FORCED',
  402: 'INVALID_PATH',
  403: 'ACCESS_REFUSED',
  404: 'NOT_FOUND',
  405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED',
  501: 'FRAME_ERROR',
  502: 'SYNTAX_ERROR',
  503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR',
  505: 'UNEXPECTED_FRAME',
  506: 'RESOURCE_ERROR',
  530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED',
  541: 'INTERNAL_ERROR',
}

/** Builds an error whose text follows RabbitMQ's "CODE_NAME - detail" convention. */
export function amqpError(code: number, detail: string, classId = 0, methodId = 0): AmqpError {
  return new AmqpError(code, `${NAMES[code] ?? 'ERROR'} - ${detail}`, classId, methodId)
}
