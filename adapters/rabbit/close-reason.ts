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
