/**
 * Why an upstream channel or connection ended, in AMQP terms, so the front end can close the
 * client's channel with the broker's own reply code and text (transparency: a 406 from RabbitMQ
 * reaches the client as the same 406).
 */
export interface CloseReason {
  code: number
  text: string
  classId: number
  methodId: number
}

interface AmqplibError extends Error {
  code?: unknown
  classId?: unknown
  methodId?: unknown
}

const QUOTED_REPLY_TEXT = /with message "([\s\S]*)"$/

/** Recover the broker's reply from amqplib's error; amqplib keeps code/class/method but folds the text into its message. */
export function closeReasonFromError(err: unknown, fallbackCode = 541): CloseReason {
  const e = err as AmqplibError
  const code = typeof e?.code === 'number' ? e.code : fallbackCode
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const quoted = QUOTED_REPLY_TEXT.exec(message)
  return {
    code,
    text: quoted?.[1] ?? `INTERNAL_ERROR - upstream: ${message}`,
    classId: typeof e?.classId === 'number' ? e.classId : 0,
    methodId: typeof e?.methodId === 'number' ? e.methodId : 0,
  }
}

/** The reason given to clients when the broker connection itself went away. */
export const UPSTREAM_LOST: CloseReason = {
  code: 320,
  text: 'CONNECTION_FORCED - cellgate lost its broker connection',
  classId: 0,
  methodId: 0,
}
