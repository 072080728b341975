// GENERATED FILE: do not edit by hand.
// Source: ../shared/spec/amqp-rabbitmq-0.9.1.json (AMQP 0-9-1 with RabbitMQ extensions)
// Regenerate: npm run gen:amqp  (node scripts/gen-amqp-methods.mjs [--check] [spec.json])
// test/unit/amqp-codec-generated.test.ts fails when this file and the generator disagree.
//
// Straight-line encoders and decoders for every method of AMQP 0-9-1, the content header
// properties, and the spec's constants. Decoders validate every length and throw only
// AmqpCodecError; decoded Buffers and tables' Buffers are views into the payload. Encoders size
// the frame first, allocate it once, and throw TypeError/RangeError for values that cannot be
// encoded (a caller bug, not bad input).
import { AmqpCodecError, malformed } from './codec-errors.js'
import {
  type FieldTable,
  decodeFieldTable,
  fieldTableSize,
  longstrLength,
  readLongstr,
  readShortstr,
  readUint64,
  shortstrLength,
  writeFieldTable,
  writeLongstr,
  writeShortstr,
  writeUint64,
} from './field-table.js'

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

export const FRAME_METHOD = 1
export const FRAME_HEADER = 2
export const FRAME_BODY = 3
export const FRAME_HEARTBEAT = 8
export const FRAME_MIN_SIZE = 4096
export const FRAME_END = 0xce

/** Reply codes for connection.close / channel.close, by their spec names. */
export const ReplyCode = {
  REPLY_SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const

export type ReplyCodeName = keyof typeof ReplyCode

/** True for the spec's hard errors, which close the connection; soft errors close only the channel. */
export function isHardError(code: number): boolean {
  switch (code) {
    case 320: // CONNECTION_FORCED
    case 402: // INVALID_PATH
    case 501: // FRAME_ERROR
    case 502: // SYNTAX_ERROR
    case 503: // COMMAND_INVALID
    case 504: // CHANNEL_ERROR
    case 505: // UNEXPECTED_FRAME
    case 506: // RESOURCE_ERROR
    case 530: // NOT_ALLOWED
    case 540: // NOT_IMPLEMENTED
    case 541: // INTERNAL_ERROR
      return true
    default:
      return false
  }
}

export const ClassId = {
  connection: 10,
  channel: 20,
  access: 30,
  exchange: 40,
  queue: 50,
  basic: 60,
  tx: 90,
  confirm: 85,
} as const

// ---------------------------------------------------------------------------------------------
// Method arguments
// ---------------------------------------------------------------------------------------------

/** connection.start (10/10): synchronous */
export interface ConnectionStartArgs {
  versionMajor: number
  versionMinor: number
  serverProperties: FieldTable
  mechanisms: Buffer
  locales: Buffer
}

/** connection.start-ok (10/11) */
export interface ConnectionStartOkArgs {
  clientProperties: FieldTable
  mechanism: string
  response: Buffer
  locale: string
}

/** connection.secure (10/20): synchronous */
export interface ConnectionSecureArgs {
  challenge: Buffer
}

/** connection.secure-ok (10/21) */
export interface ConnectionSecureOkArgs {
  response: Buffer
}

/** connection.tune (10/30): synchronous */
export interface ConnectionTuneArgs {
  channelMax: number
  frameMax: number
  heartbeat: number
}

/** connection.tune-ok (10/31) */
export interface ConnectionTuneOkArgs {
  channelMax: number
  frameMax: number
  heartbeat: number
}

/** connection.open (10/40): synchronous */
export interface ConnectionOpenArgs {
  virtualHost: string
  capabilities: string
  insist: boolean
}

/** connection.open-ok (10/41) */
export interface ConnectionOpenOkArgs {
  knownHosts: string
}

/** connection.close (10/50): synchronous */
export interface ConnectionCloseArgs {
  replyCode: number
  replyText: string
  classId: number
  methodId: number
}

/** connection.close-ok (10/51) */
export type ConnectionCloseOkArgs = Record<string, never>

/** connection.blocked (10/60) */
export interface ConnectionBlockedArgs {
  reason: string
}

/** connection.unblocked (10/61) */
export type ConnectionUnblockedArgs = Record<string, never>

/** connection.update-secret (10/70): synchronous */
export interface ConnectionUpdateSecretArgs {
  newSecret: Buffer
  reason: string
}

/** connection.update-secret-ok (10/71) */
export type ConnectionUpdateSecretOkArgs = Record<string, never>

/** channel.open (20/10): synchronous */
export interface ChannelOpenArgs {
  outOfBand: string
}

/** channel.open-ok (20/11) */
export interface ChannelOpenOkArgs {
  channelId: Buffer
}

/** channel.flow (20/20): synchronous */
export interface ChannelFlowArgs {
  active: boolean
}

/** channel.flow-ok (20/21) */
export interface ChannelFlowOkArgs {
  active: boolean
}

/** channel.close (20/40): synchronous */
export interface ChannelCloseArgs {
  replyCode: number
  replyText: string
  classId: number
  methodId: number
}

/** channel.close-ok (20/41) */
export type ChannelCloseOkArgs = Record<string, never>

/** access.request (30/10): synchronous */
export interface AccessRequestArgs {
  realm: string
  exclusive: boolean
  passive: boolean
  active: boolean
  write: boolean
  read: boolean
}

/** access.request-ok (30/11) */
export interface AccessRequestOkArgs {
  ticket: number
}

/** exchange.declare (40/10): synchronous */
export interface ExchangeDeclareArgs {
  ticket: number
  exchange: string
  type: string
  passive: boolean
  durable: boolean
  autoDelete: boolean
  internal: boolean
  nowait: boolean
  arguments: FieldTable
}

/** exchange.declare-ok (40/11) */
export type ExchangeDeclareOkArgs = Record<string, never>

/** exchange.delete (40/20): synchronous */
export interface ExchangeDeleteArgs {
  ticket: number
  exchange: string
  ifUnused: boolean
  nowait: boolean
}

/** exchange.delete-ok (40/21) */
export type ExchangeDeleteOkArgs = Record<string, never>

/** exchange.bind (40/30): synchronous */
export interface ExchangeBindArgs {
  ticket: number
  destination: string
  source: string
  routingKey: string
  nowait: boolean
  arguments: FieldTable
}

/** exchange.bind-ok (40/31) */
export type ExchangeBindOkArgs = Record<string, never>

/** exchange.unbind (40/40): synchronous */
export interface ExchangeUnbindArgs {
  ticket: number
  destination: string
  source: string
  routingKey: string
  nowait: boolean
  arguments: FieldTable
}

/** exchange.unbind-ok (40/51) */
export type ExchangeUnbindOkArgs = Record<string, never>

/** queue.declare (50/10): synchronous */
export interface QueueDeclareArgs {
  ticket: number
  queue: string
  passive: boolean
  durable: boolean
  exclusive: boolean
  autoDelete: boolean
  nowait: boolean
  arguments: FieldTable
}

/** queue.declare-ok (50/11) */
export interface QueueDeclareOkArgs {
  queue: string
  messageCount: number
  consumerCount: number
}

/** queue.bind (50/20): synchronous */
export interface QueueBindArgs {
  ticket: number
  queue: string
  exchange: string
  routingKey: string
  nowait: boolean
  arguments: FieldTable
}

/** queue.bind-ok (50/21) */
export type QueueBindOkArgs = Record<string, never>

/** queue.purge (50/30): synchronous */
export interface QueuePurgeArgs {
  ticket: number
  queue: string
  nowait: boolean
}

/** queue.purge-ok (50/31) */
export interface QueuePurgeOkArgs {
  messageCount: number
}

/** queue.delete (50/40): synchronous */
export interface QueueDeleteArgs {
  ticket: number
  queue: string
  ifUnused: boolean
  ifEmpty: boolean
  nowait: boolean
}

/** queue.delete-ok (50/41) */
export interface QueueDeleteOkArgs {
  messageCount: number
}

/** queue.unbind (50/50): synchronous */
export interface QueueUnbindArgs {
  ticket: number
  queue: string
  exchange: string
  routingKey: string
  arguments: FieldTable
}

/** queue.unbind-ok (50/51) */
export type QueueUnbindOkArgs = Record<string, never>

/** basic.qos (60/10): synchronous */
export interface BasicQosArgs {
  prefetchSize: number
  prefetchCount: number
  global: boolean
}

/** basic.qos-ok (60/11) */
export type BasicQosOkArgs = Record<string, never>

/** basic.consume (60/20): synchronous */
export interface BasicConsumeArgs {
  ticket: number
  queue: string
  consumerTag: string
  noLocal: boolean
  noAck: boolean
  exclusive: boolean
  nowait: boolean
  arguments: FieldTable
}

/** basic.consume-ok (60/21) */
export interface BasicConsumeOkArgs {
  consumerTag: string
}

/** basic.cancel (60/30): synchronous */
export interface BasicCancelArgs {
  consumerTag: string
  nowait: boolean
}

/** basic.cancel-ok (60/31) */
export interface BasicCancelOkArgs {
  consumerTag: string
}

/** basic.publish (60/40): carries content */
export interface BasicPublishArgs {
  ticket: number
  exchange: string
  routingKey: string
  mandatory: boolean
  immediate: boolean
}

/** basic.return (60/50): carries content */
export interface BasicReturnArgs {
  replyCode: number
  replyText: string
  exchange: string
  routingKey: string
}

/** basic.deliver (60/60): carries content */
export interface BasicDeliverArgs {
  consumerTag: string
  deliveryTag: number
  redelivered: boolean
  exchange: string
  routingKey: string
}

/** basic.get (60/70): synchronous */
export interface BasicGetArgs {
  ticket: number
  queue: string
  noAck: boolean
}

/** basic.get-ok (60/71): carries content */
export interface BasicGetOkArgs {
  deliveryTag: number
  redelivered: boolean
  exchange: string
  routingKey: string
  messageCount: number
}

/** basic.get-empty (60/72) */
export interface BasicGetEmptyArgs {
  clusterId: string
}

/** basic.ack (60/80) */
export interface BasicAckArgs {
  deliveryTag: number
  multiple: boolean
}

/** basic.reject (60/90) */
export interface BasicRejectArgs {
  deliveryTag: number
  requeue: boolean
}

/** basic.recover-async (60/100) */
export interface BasicRecoverAsyncArgs {
  requeue: boolean
}

/** basic.recover (60/110): synchronous */
export interface BasicRecoverArgs {
  requeue: boolean
}

/** basic.recover-ok (60/111) */
export type BasicRecoverOkArgs = Record<string, never>

/** basic.nack (60/120) */
export interface BasicNackArgs {
  deliveryTag: number
  multiple: boolean
  requeue: boolean
}

/** tx.select (90/10): synchronous */
export type TxSelectArgs = Record<string, never>

/** tx.select-ok (90/11) */
export type TxSelectOkArgs = Record<string, never>

/** tx.commit (90/20): synchronous */
export type TxCommitArgs = Record<string, never>

/** tx.commit-ok (90/21) */
export type TxCommitOkArgs = Record<string, never>

/** tx.rollback (90/30): synchronous */
export type TxRollbackArgs = Record<string, never>

/** tx.rollback-ok (90/31) */
export type TxRollbackOkArgs = Record<string, never>

/** confirm.select (85/10): synchronous */
export interface ConfirmSelectArgs {
  nowait: boolean
}

/** confirm.select-ok (85/11) */
export type ConfirmSelectOkArgs = Record<string, never>

export type AmqpMethod =
  | { name: 'connection.start'; args: ConnectionStartArgs }
  | { name: 'connection.start-ok'; args: ConnectionStartOkArgs }
  | { name: 'connection.secure'; args: ConnectionSecureArgs }
  | { name: 'connection.secure-ok'; args: ConnectionSecureOkArgs }
  | { name: 'connection.tune'; args: ConnectionTuneArgs }
  | { name: 'connection.tune-ok'; args: ConnectionTuneOkArgs }
  | { name: 'connection.open'; args: ConnectionOpenArgs }
  | { name: 'connection.open-ok'; args: ConnectionOpenOkArgs }
  | { name: 'connection.close'; args: ConnectionCloseArgs }
  | { name: 'connection.close-ok'; args: ConnectionCloseOkArgs }
  | { name: 'connection.blocked'; args: ConnectionBlockedArgs }
  | { name: 'connection.unblocked'; args: ConnectionUnblockedArgs }
  | { name: 'connection.update-secret'; args: ConnectionUpdateSecretArgs }
  | { name: 'connection.update-secret-ok'; args: ConnectionUpdateSecretOkArgs }
  | { name: 'channel.open'; args: ChannelOpenArgs }
  | { name: 'channel.open-ok'; args: ChannelOpenOkArgs }
  | { name: 'channel.flow'; args: ChannelFlowArgs }
  | { name: 'channel.flow-ok'; args: ChannelFlowOkArgs }
  | { name: 'channel.close'; args: ChannelCloseArgs }
  | { name: 'channel.close-ok'; args: ChannelCloseOkArgs }
  | { name: 'access.request'; args: AccessRequestArgs }
  | { name: 'access.request-ok'; args: AccessRequestOkArgs }
  | { name: 'exchange.declare'; args: ExchangeDeclareArgs }
  | { name: 'exchange.declare-ok'; args: ExchangeDeclareOkArgs }
  | { name: 'exchange.delete'; args: ExchangeDeleteArgs }
  | { name: 'exchange.delete-ok'; args: ExchangeDeleteOkArgs }
  | { name: 'exchange.bind'; args: ExchangeBindArgs }
  | { name: 'exchange.bind-ok'; args: ExchangeBindOkArgs }
  | { name: 'exchange.unbind'; args: ExchangeUnbindArgs }
  | { name: 'exchange.unbind-ok'; args: ExchangeUnbindOkArgs }
  | { name: 'queue.declare'; args: QueueDeclareArgs }
  | { name: 'queue.declare-ok'; args: QueueDeclareOkArgs }
  | { name: 'queue.bind'; args: QueueBindArgs }
  | { name: 'queue.bind-ok'; args: QueueBindOkArgs }
  | { name: 'queue.purge'; args: QueuePurgeArgs }
  | { name: 'queue.purge-ok'; args: QueuePurgeOkArgs }
  | { name: 'queue.delete'; args: QueueDeleteArgs }
  | { name: 'queue.delete-ok'; args: QueueDeleteOkArgs }
  | { name: 'queue.unbind'; args: QueueUnbindArgs }
  | { name: 'queue.unbind-ok'; args: QueueUnbindOkArgs }
  | { name: 'basic.qos'; args: BasicQosArgs }
  | { name: 'basic.qos-ok'; args: BasicQosOkArgs }
  | { name: 'basic.consume'; args: BasicConsumeArgs }
  | { name: 'basic.consume-ok'; args: BasicConsumeOkArgs }
  | { name: 'basic.cancel'; args: BasicCancelArgs }
  | { name: 'basic.cancel-ok'; args: BasicCancelOkArgs }
  | { name: 'basic.publish'; args: BasicPublishArgs }
  | { name: 'basic.return'; args: BasicReturnArgs }
  | { name: 'basic.deliver'; args: BasicDeliverArgs }
  | { name: 'basic.get'; args: BasicGetArgs }
  | { name: 'basic.get-ok'; args: BasicGetOkArgs }
  | { name: 'basic.get-empty'; args: BasicGetEmptyArgs }
  | { name: 'basic.ack'; args: BasicAckArgs }
  | { name: 'basic.reject'; args: BasicRejectArgs }
  | { name: 'basic.recover-async'; args: BasicRecoverAsyncArgs }
  | { name: 'basic.recover'; args: BasicRecoverArgs }
  | { name: 'basic.recover-ok'; args: BasicRecoverOkArgs }
  | { name: 'basic.nack'; args: BasicNackArgs }
  | { name: 'tx.select'; args: TxSelectArgs }
  | { name: 'tx.select-ok'; args: TxSelectOkArgs }
  | { name: 'tx.commit'; args: TxCommitArgs }
  | { name: 'tx.commit-ok'; args: TxCommitOkArgs }
  | { name: 'tx.rollback'; args: TxRollbackArgs }
  | { name: 'tx.rollback-ok'; args: TxRollbackOkArgs }
  | { name: 'confirm.select'; args: ConfirmSelectArgs }
  | { name: 'confirm.select-ok'; args: ConfirmSelectOkArgs }

export type MethodName = AmqpMethod['name']

export type ArgsOf<N extends MethodName> = Extract<AmqpMethod, { name: N }>['args']

export interface MethodInfo {
  classId: number
  methodId: number
  /** The spec marks it synchronous: the peer answers with the matching -ok method. */
  synchronous: boolean
  /** A content header and body frames follow it. */
  hasContent: boolean
}

export const methodInfo: Record<MethodName, MethodInfo> = {
  'connection.start': { classId: 10, methodId: 10, synchronous: true, hasContent: false },
  'connection.start-ok': { classId: 10, methodId: 11, synchronous: false, hasContent: false },
  'connection.secure': { classId: 10, methodId: 20, synchronous: true, hasContent: false },
  'connection.secure-ok': { classId: 10, methodId: 21, synchronous: false, hasContent: false },
  'connection.tune': { classId: 10, methodId: 30, synchronous: true, hasContent: false },
  'connection.tune-ok': { classId: 10, methodId: 31, synchronous: false, hasContent: false },
  'connection.open': { classId: 10, methodId: 40, synchronous: true, hasContent: false },
  'connection.open-ok': { classId: 10, methodId: 41, synchronous: false, hasContent: false },
  'connection.close': { classId: 10, methodId: 50, synchronous: true, hasContent: false },
  'connection.close-ok': { classId: 10, methodId: 51, synchronous: false, hasContent: false },
  'connection.blocked': { classId: 10, methodId: 60, synchronous: false, hasContent: false },
  'connection.unblocked': { classId: 10, methodId: 61, synchronous: false, hasContent: false },
  'connection.update-secret': { classId: 10, methodId: 70, synchronous: true, hasContent: false },
  'connection.update-secret-ok': { classId: 10, methodId: 71, synchronous: false, hasContent: false },
  'channel.open': { classId: 20, methodId: 10, synchronous: true, hasContent: false },
  'channel.open-ok': { classId: 20, methodId: 11, synchronous: false, hasContent: false },
  'channel.flow': { classId: 20, methodId: 20, synchronous: true, hasContent: false },
  'channel.flow-ok': { classId: 20, methodId: 21, synchronous: false, hasContent: false },
  'channel.close': { classId: 20, methodId: 40, synchronous: true, hasContent: false },
  'channel.close-ok': { classId: 20, methodId: 41, synchronous: false, hasContent: false },
  'access.request': { classId: 30, methodId: 10, synchronous: true, hasContent: false },
  'access.request-ok': { classId: 30, methodId: 11, synchronous: false, hasContent: false },
  'exchange.declare': { classId: 40, methodId: 10, synchronous: true, hasContent: false },
  'exchange.declare-ok': { classId: 40, methodId: 11, synchronous: false, hasContent: false },
  'exchange.delete': { classId: 40, methodId: 20, synchronous: true, hasContent: false },
  'exchange.delete-ok': { classId: 40, methodId: 21, synchronous: false, hasContent: false },
  'exchange.bind': { classId: 40, methodId: 30, synchronous: true, hasContent: false },
  'exchange.bind-ok': { classId: 40, methodId: 31, synchronous: false, hasContent: false },
  'exchange.unbind': { classId: 40, methodId: 40, synchronous: true, hasContent: false },
  'exchange.unbind-ok': { classId: 40, methodId: 51, synchronous: false, hasContent: false },
  'queue.declare': { classId: 50, methodId: 10, synchronous: true, hasContent: false },
  'queue.declare-ok': { classId: 50, methodId: 11, synchronous: false, hasContent: false },
  'queue.bind': { classId: 50, methodId: 20, synchronous: true, hasContent: false },
  'queue.bind-ok': { classId: 50, methodId: 21, synchronous: false, hasContent: false },
  'queue.purge': { classId: 50, methodId: 30, synchronous: true, hasContent: false },
  'queue.purge-ok': { classId: 50, methodId: 31, synchronous: false, hasContent: false },
  'queue.delete': { classId: 50, methodId: 40, synchronous: true, hasContent: false },
  'queue.delete-ok': { classId: 50, methodId: 41, synchronous: false, hasContent: false },
  'queue.unbind': { classId: 50, methodId: 50, synchronous: true, hasContent: false },
  'queue.unbind-ok': { classId: 50, methodId: 51, synchronous: false, hasContent: false },
  'basic.qos': { classId: 60, methodId: 10, synchronous: true, hasContent: false },
  'basic.qos-ok': { classId: 60, methodId: 11, synchronous: false, hasContent: false },
  'basic.consume': { classId: 60, methodId: 20, synchronous: true, hasContent: false },
  'basic.consume-ok': { classId: 60, methodId: 21, synchronous: false, hasContent: false },
  'basic.cancel': { classId: 60, methodId: 30, synchronous: true, hasContent: false },
  'basic.cancel-ok': { classId: 60, methodId: 31, synchronous: false, hasContent: false },
  'basic.publish': { classId: 60, methodId: 40, synchronous: false, hasContent: true },
  'basic.return': { classId: 60, methodId: 50, synchronous: false, hasContent: true },
  'basic.deliver': { classId: 60, methodId: 60, synchronous: false, hasContent: true },
  'basic.get': { classId: 60, methodId: 70, synchronous: true, hasContent: false },
  'basic.get-ok': { classId: 60, methodId: 71, synchronous: false, hasContent: true },
  'basic.get-empty': { classId: 60, methodId: 72, synchronous: false, hasContent: false },
  'basic.ack': { classId: 60, methodId: 80, synchronous: false, hasContent: false },
  'basic.reject': { classId: 60, methodId: 90, synchronous: false, hasContent: false },
  'basic.recover-async': { classId: 60, methodId: 100, synchronous: false, hasContent: false },
  'basic.recover': { classId: 60, methodId: 110, synchronous: true, hasContent: false },
  'basic.recover-ok': { classId: 60, methodId: 111, synchronous: false, hasContent: false },
  'basic.nack': { classId: 60, methodId: 120, synchronous: false, hasContent: false },
  'tx.select': { classId: 90, methodId: 10, synchronous: true, hasContent: false },
  'tx.select-ok': { classId: 90, methodId: 11, synchronous: false, hasContent: false },
  'tx.commit': { classId: 90, methodId: 20, synchronous: true, hasContent: false },
  'tx.commit-ok': { classId: 90, methodId: 21, synchronous: false, hasContent: false },
  'tx.rollback': { classId: 90, methodId: 30, synchronous: true, hasContent: false },
  'tx.rollback-ok': { classId: 90, methodId: 31, synchronous: false, hasContent: false },
  'confirm.select': { classId: 85, methodId: 10, synchronous: true, hasContent: false },
  'confirm.select-ok': { classId: 85, methodId: 11, synchronous: false, hasContent: false },
}

/** The key used by methodNameById: both ids in one unsigned 32-bit number, as on the wire. */
export function methodKey(classId: number, methodId: number): number {
  return ((classId << 16) | methodId) >>> 0
}

export const methodNameById: ReadonlyMap<number, MethodName> = new Map(
  (Object.keys(methodInfo) as MethodName[]).map((name) => [methodKey(methodInfo[name].classId, methodInfo[name].methodId), name]),
)

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Decodes a method frame's payload (class-id, method-id, arguments). Throws AmqpCodecError:
 * UNKNOWN_METHOD for ids the spec does not define, MALFORMED for truncated, overlong or invalid
 * arguments; both carry classId and methodId.
 */
export function decodeMethod(payload: Buffer): AmqpMethod {
  if (payload.length < 4) throw malformed(`method payload of ${payload.length} bytes has no class and method ids`)
  const id = payload.readUInt32BE(0)
  try {
    switch (id) {
      case 0x003c_000a:
        return { name: 'basic.qos', args: decodeBasicQos(payload) }
      case 0x003c_000b:
        return { name: 'basic.qos-ok', args: decodeBasicQosOk(payload) }
      case 0x003c_0014:
        return { name: 'basic.consume', args: decodeBasicConsume(payload) }
      case 0x003c_0015:
        return { name: 'basic.consume-ok', args: decodeBasicConsumeOk(payload) }
      case 0x003c_001e:
        return { name: 'basic.cancel', args: decodeBasicCancel(payload) }
      case 0x003c_001f:
        return { name: 'basic.cancel-ok', args: decodeBasicCancelOk(payload) }
      case 0x003c_0028:
        return { name: 'basic.publish', args: decodeBasicPublish(payload) }
      case 0x003c_0032:
        return { name: 'basic.return', args: decodeBasicReturn(payload) }
      case 0x003c_003c:
        return { name: 'basic.deliver', args: decodeBasicDeliver(payload) }
      case 0x003c_0046:
        return { name: 'basic.get', args: decodeBasicGet(payload) }
      case 0x003c_0047:
        return { name: 'basic.get-ok', args: decodeBasicGetOk(payload) }
      case 0x003c_0048:
        return { name: 'basic.get-empty', args: decodeBasicGetEmpty(payload) }
      case 0x003c_0050:
        return { name: 'basic.ack', args: decodeBasicAck(payload) }
      case 0x003c_005a:
        return { name: 'basic.reject', args: decodeBasicReject(payload) }
      case 0x003c_0064:
        return { name: 'basic.recover-async', args: decodeBasicRecoverAsync(payload) }
      case 0x003c_006e:
        return { name: 'basic.recover', args: decodeBasicRecover(payload) }
      case 0x003c_006f:
        return { name: 'basic.recover-ok', args: decodeBasicRecoverOk(payload) }
      case 0x003c_0078:
        return { name: 'basic.nack', args: decodeBasicNack(payload) }
      case 0x000a_000a:
        return { name: 'connection.start', args: decodeConnectionStart(payload) }
      case 0x000a_000b:
        return { name: 'connection.start-ok', args: decodeConnectionStartOk(payload) }
      case 0x000a_0014:
        return { name: 'connection.secure', args: decodeConnectionSecure(payload) }
      case 0x000a_0015:
        return { name: 'connection.secure-ok', args: decodeConnectionSecureOk(payload) }
      case 0x000a_001e:
        return { name: 'connection.tune', args: decodeConnectionTune(payload) }
      case 0x000a_001f:
        return { name: 'connection.tune-ok', args: decodeConnectionTuneOk(payload) }
      case 0x000a_0028:
        return { name: 'connection.open', args: decodeConnectionOpen(payload) }
      case 0x000a_0029:
        return { name: 'connection.open-ok', args: decodeConnectionOpenOk(payload) }
      case 0x000a_0032:
        return { name: 'connection.close', args: decodeConnectionClose(payload) }
      case 0x000a_0033:
        return { name: 'connection.close-ok', args: decodeConnectionCloseOk(payload) }
      case 0x000a_003c:
        return { name: 'connection.blocked', args: decodeConnectionBlocked(payload) }
      case 0x000a_003d:
        return { name: 'connection.unblocked', args: decodeConnectionUnblocked(payload) }
      case 0x000a_0046:
        return { name: 'connection.update-secret', args: decodeConnectionUpdateSecret(payload) }
      case 0x000a_0047:
        return { name: 'connection.update-secret-ok', args: decodeConnectionUpdateSecretOk(payload) }
      case 0x0014_000a:
        return { name: 'channel.open', args: decodeChannelOpen(payload) }
      case 0x0014_000b:
        return { name: 'channel.open-ok', args: decodeChannelOpenOk(payload) }
      case 0x0014_0014:
        return { name: 'channel.flow', args: decodeChannelFlow(payload) }
      case 0x0014_0015:
        return { name: 'channel.flow-ok', args: decodeChannelFlowOk(payload) }
      case 0x0014_0028:
        return { name: 'channel.close', args: decodeChannelClose(payload) }
      case 0x0014_0029:
        return { name: 'channel.close-ok', args: decodeChannelCloseOk(payload) }
      case 0x001e_000a:
        return { name: 'access.request', args: decodeAccessRequest(payload) }
      case 0x001e_000b:
        return { name: 'access.request-ok', args: decodeAccessRequestOk(payload) }
      case 0x0028_000a:
        return { name: 'exchange.declare', args: decodeExchangeDeclare(payload) }
      case 0x0028_000b:
        return { name: 'exchange.declare-ok', args: decodeExchangeDeclareOk(payload) }
      case 0x0028_0014:
        return { name: 'exchange.delete', args: decodeExchangeDelete(payload) }
      case 0x0028_0015:
        return { name: 'exchange.delete-ok', args: decodeExchangeDeleteOk(payload) }
      case 0x0028_001e:
        return { name: 'exchange.bind', args: decodeExchangeBind(payload) }
      case 0x0028_001f:
        return { name: 'exchange.bind-ok', args: decodeExchangeBindOk(payload) }
      case 0x0028_0028:
        return { name: 'exchange.unbind', args: decodeExchangeUnbind(payload) }
      case 0x0028_0033:
        return { name: 'exchange.unbind-ok', args: decodeExchangeUnbindOk(payload) }
      case 0x0032_000a:
        return { name: 'queue.declare', args: decodeQueueDeclare(payload) }
      case 0x0032_000b:
        return { name: 'queue.declare-ok', args: decodeQueueDeclareOk(payload) }
      case 0x0032_0014:
        return { name: 'queue.bind', args: decodeQueueBind(payload) }
      case 0x0032_0015:
        return { name: 'queue.bind-ok', args: decodeQueueBindOk(payload) }
      case 0x0032_001e:
        return { name: 'queue.purge', args: decodeQueuePurge(payload) }
      case 0x0032_001f:
        return { name: 'queue.purge-ok', args: decodeQueuePurgeOk(payload) }
      case 0x0032_0028:
        return { name: 'queue.delete', args: decodeQueueDelete(payload) }
      case 0x0032_0029:
        return { name: 'queue.delete-ok', args: decodeQueueDeleteOk(payload) }
      case 0x0032_0032:
        return { name: 'queue.unbind', args: decodeQueueUnbind(payload) }
      case 0x0032_0033:
        return { name: 'queue.unbind-ok', args: decodeQueueUnbindOk(payload) }
      case 0x005a_000a:
        return { name: 'tx.select', args: decodeTxSelect(payload) }
      case 0x005a_000b:
        return { name: 'tx.select-ok', args: decodeTxSelectOk(payload) }
      case 0x005a_0014:
        return { name: 'tx.commit', args: decodeTxCommit(payload) }
      case 0x005a_0015:
        return { name: 'tx.commit-ok', args: decodeTxCommitOk(payload) }
      case 0x005a_001e:
        return { name: 'tx.rollback', args: decodeTxRollback(payload) }
      case 0x005a_001f:
        return { name: 'tx.rollback-ok', args: decodeTxRollbackOk(payload) }
      case 0x0055_000a:
        return { name: 'confirm.select', args: decodeConfirmSelect(payload) }
      case 0x0055_000b:
        return { name: 'confirm.select-ok', args: decodeConfirmSelectOk(payload) }
    }
  } catch (err) {
    throw withMethodIds(err, id)
  }
  throw new AmqpCodecError('UNKNOWN_METHOD', `unknown method ${id >>> 16}/${id & 0xffff}`, id >>> 16, id & 0xffff)
}

function withMethodIds(err: unknown, id: number): unknown {
  if (!(err instanceof AmqpCodecError)) return err
  return new AmqpCodecError(err.code, `${methodNameById.get(id)}: ${err.message}`, id >>> 16, id & 0xffff)
}

function need(p: Buffer, o: number, n: number): void {
  if (o + n > p.length) throw malformed(`arguments truncated at offset ${o}`)
}

function expectEnd(p: Buffer, o: number): void {
  if (o !== p.length) throw malformed(`${p.length - o} unexpected bytes after the arguments`)
}

function decodeConnectionStart(p: Buffer): ConnectionStartArgs {
  let o = 4
  need(p, o, 2)
  const versionMajor = p[o]!
  const versionMinor = p[o + 1]!
  o += 2
  const serverProperties = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  const mechanisms = readLongstr(p, o)
  o += 4 + mechanisms.length
  const locales = readLongstr(p, o)
  o += 4 + locales.length
  expectEnd(p, o)
  return { versionMajor, versionMinor, serverProperties, mechanisms, locales }
}

function decodeConnectionStartOk(p: Buffer): ConnectionStartOkArgs {
  let o = 4
  const clientProperties = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  const mechanism = readShortstr(p, o)
  o += 1 + p[o]!
  const response = readLongstr(p, o)
  o += 4 + response.length
  const locale = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { clientProperties, mechanism, response, locale }
}

function decodeConnectionSecure(p: Buffer): ConnectionSecureArgs {
  let o = 4
  const challenge = readLongstr(p, o)
  o += 4 + challenge.length
  expectEnd(p, o)
  return { challenge }
}

function decodeConnectionSecureOk(p: Buffer): ConnectionSecureOkArgs {
  let o = 4
  const response = readLongstr(p, o)
  o += 4 + response.length
  expectEnd(p, o)
  return { response }
}

function decodeConnectionTune(p: Buffer): ConnectionTuneArgs {
  let o = 4
  need(p, o, 8)
  const channelMax = p.readUInt16BE(o)
  const frameMax = p.readUInt32BE(o + 2)
  const heartbeat = p.readUInt16BE(o + 6)
  o += 8
  expectEnd(p, o)
  return { channelMax, frameMax, heartbeat }
}

function decodeConnectionTuneOk(p: Buffer): ConnectionTuneOkArgs {
  let o = 4
  need(p, o, 8)
  const channelMax = p.readUInt16BE(o)
  const frameMax = p.readUInt32BE(o + 2)
  const heartbeat = p.readUInt16BE(o + 6)
  o += 8
  expectEnd(p, o)
  return { channelMax, frameMax, heartbeat }
}

function decodeConnectionOpen(p: Buffer): ConnectionOpenArgs {
  let o = 4
  const virtualHost = readShortstr(p, o)
  o += 1 + p[o]!
  const capabilities = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const insist = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { virtualHost, capabilities, insist }
}

function decodeConnectionOpenOk(p: Buffer): ConnectionOpenOkArgs {
  let o = 4
  const knownHosts = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { knownHosts }
}

function decodeConnectionClose(p: Buffer): ConnectionCloseArgs {
  let o = 4
  need(p, o, 2)
  const replyCode = p.readUInt16BE(o)
  o += 2
  const replyText = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 4)
  const classId = p.readUInt16BE(o)
  const methodId = p.readUInt16BE(o + 2)
  o += 4
  expectEnd(p, o)
  return { replyCode, replyText, classId, methodId }
}

function decodeConnectionCloseOk(p: Buffer): ConnectionCloseOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeConnectionBlocked(p: Buffer): ConnectionBlockedArgs {
  let o = 4
  const reason = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { reason }
}

function decodeConnectionUnblocked(p: Buffer): ConnectionUnblockedArgs {
  expectEnd(p, 4)
  return {}
}

function decodeConnectionUpdateSecret(p: Buffer): ConnectionUpdateSecretArgs {
  let o = 4
  const newSecret = readLongstr(p, o)
  o += 4 + newSecret.length
  const reason = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { newSecret, reason }
}

function decodeConnectionUpdateSecretOk(p: Buffer): ConnectionUpdateSecretOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeChannelOpen(p: Buffer): ChannelOpenArgs {
  let o = 4
  const outOfBand = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { outOfBand }
}

function decodeChannelOpenOk(p: Buffer): ChannelOpenOkArgs {
  let o = 4
  const channelId = readLongstr(p, o)
  o += 4 + channelId.length
  expectEnd(p, o)
  return { channelId }
}

function decodeChannelFlow(p: Buffer): ChannelFlowArgs {
  let o = 4
  need(p, o, 1)
  const active = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { active }
}

function decodeChannelFlowOk(p: Buffer): ChannelFlowOkArgs {
  let o = 4
  need(p, o, 1)
  const active = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { active }
}

function decodeChannelClose(p: Buffer): ChannelCloseArgs {
  let o = 4
  need(p, o, 2)
  const replyCode = p.readUInt16BE(o)
  o += 2
  const replyText = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 4)
  const classId = p.readUInt16BE(o)
  const methodId = p.readUInt16BE(o + 2)
  o += 4
  expectEnd(p, o)
  return { replyCode, replyText, classId, methodId }
}

function decodeChannelCloseOk(p: Buffer): ChannelCloseOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeAccessRequest(p: Buffer): AccessRequestArgs {
  let o = 4
  const realm = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const exclusive = (p[o]! & 1) !== 0
  const passive = (p[o]! & 2) !== 0
  const active = (p[o]! & 4) !== 0
  const write = (p[o]! & 8) !== 0
  const read = (p[o]! & 16) !== 0
  o += 1
  expectEnd(p, o)
  return { realm, exclusive, passive, active, write, read }
}

function decodeAccessRequestOk(p: Buffer): AccessRequestOkArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  expectEnd(p, o)
  return { ticket }
}

function decodeExchangeDeclare(p: Buffer): ExchangeDeclareArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const type = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const passive = (p[o]! & 1) !== 0
  const durable = (p[o]! & 2) !== 0
  const autoDelete = (p[o]! & 4) !== 0
  const internal = (p[o]! & 8) !== 0
  const nowait = (p[o]! & 16) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, exchange, type, passive, durable, autoDelete, internal, nowait, arguments: argumentsValue }
}

function decodeExchangeDeclareOk(p: Buffer): ExchangeDeclareOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeExchangeDelete(p: Buffer): ExchangeDeleteArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const ifUnused = (p[o]! & 1) !== 0
  const nowait = (p[o]! & 2) !== 0
  o += 1
  expectEnd(p, o)
  return { ticket, exchange, ifUnused, nowait }
}

function decodeExchangeDeleteOk(p: Buffer): ExchangeDeleteOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeExchangeBind(p: Buffer): ExchangeBindArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const destination = readShortstr(p, o)
  o += 1 + p[o]!
  const source = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, destination, source, routingKey, nowait, arguments: argumentsValue }
}

function decodeExchangeBindOk(p: Buffer): ExchangeBindOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeExchangeUnbind(p: Buffer): ExchangeUnbindArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const destination = readShortstr(p, o)
  o += 1 + p[o]!
  const source = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, destination, source, routingKey, nowait, arguments: argumentsValue }
}

function decodeExchangeUnbindOk(p: Buffer): ExchangeUnbindOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeQueueDeclare(p: Buffer): QueueDeclareArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const passive = (p[o]! & 1) !== 0
  const durable = (p[o]! & 2) !== 0
  const exclusive = (p[o]! & 4) !== 0
  const autoDelete = (p[o]! & 8) !== 0
  const nowait = (p[o]! & 16) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, queue, passive, durable, exclusive, autoDelete, nowait, arguments: argumentsValue }
}

function decodeQueueDeclareOk(p: Buffer): QueueDeclareOkArgs {
  let o = 4
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 8)
  const messageCount = p.readUInt32BE(o)
  const consumerCount = p.readUInt32BE(o + 4)
  o += 8
  expectEnd(p, o)
  return { queue, messageCount, consumerCount }
}

function decodeQueueBind(p: Buffer): QueueBindArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, queue, exchange, routingKey, nowait, arguments: argumentsValue }
}

function decodeQueueBindOk(p: Buffer): QueueBindOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeQueuePurge(p: Buffer): QueuePurgeArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { ticket, queue, nowait }
}

function decodeQueuePurgeOk(p: Buffer): QueuePurgeOkArgs {
  let o = 4
  need(p, o, 4)
  const messageCount = p.readUInt32BE(o)
  o += 4
  expectEnd(p, o)
  return { messageCount }
}

function decodeQueueDelete(p: Buffer): QueueDeleteArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const ifUnused = (p[o]! & 1) !== 0
  const ifEmpty = (p[o]! & 2) !== 0
  const nowait = (p[o]! & 4) !== 0
  o += 1
  expectEnd(p, o)
  return { ticket, queue, ifUnused, ifEmpty, nowait }
}

function decodeQueueDeleteOk(p: Buffer): QueueDeleteOkArgs {
  let o = 4
  need(p, o, 4)
  const messageCount = p.readUInt32BE(o)
  o += 4
  expectEnd(p, o)
  return { messageCount }
}

function decodeQueueUnbind(p: Buffer): QueueUnbindArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, queue, exchange, routingKey, arguments: argumentsValue }
}

function decodeQueueUnbindOk(p: Buffer): QueueUnbindOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeBasicQos(p: Buffer): BasicQosArgs {
  let o = 4
  need(p, o, 7)
  const prefetchSize = p.readUInt32BE(o)
  const prefetchCount = p.readUInt16BE(o + 4)
  const global = (p[o + 6]! & 1) !== 0
  o += 7
  expectEnd(p, o)
  return { prefetchSize, prefetchCount, global }
}

function decodeBasicQosOk(p: Buffer): BasicQosOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeBasicConsume(p: Buffer): BasicConsumeArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  const consumerTag = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const noLocal = (p[o]! & 1) !== 0
  const noAck = (p[o]! & 2) !== 0
  const exclusive = (p[o]! & 4) !== 0
  const nowait = (p[o]! & 8) !== 0
  o += 1
  const argumentsValue = decodeFieldTable(p, o)
  o += 4 + p.readUInt32BE(o)
  expectEnd(p, o)
  return { ticket, queue, consumerTag, noLocal, noAck, exclusive, nowait, arguments: argumentsValue }
}

function decodeBasicConsumeOk(p: Buffer): BasicConsumeOkArgs {
  let o = 4
  const consumerTag = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { consumerTag }
}

function decodeBasicCancel(p: Buffer): BasicCancelArgs {
  let o = 4
  const consumerTag = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { consumerTag, nowait }
}

function decodeBasicCancelOk(p: Buffer): BasicCancelOkArgs {
  let o = 4
  const consumerTag = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { consumerTag }
}

function decodeBasicPublish(p: Buffer): BasicPublishArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const mandatory = (p[o]! & 1) !== 0
  const immediate = (p[o]! & 2) !== 0
  o += 1
  expectEnd(p, o)
  return { ticket, exchange, routingKey, mandatory, immediate }
}

function decodeBasicReturn(p: Buffer): BasicReturnArgs {
  let o = 4
  need(p, o, 2)
  const replyCode = p.readUInt16BE(o)
  o += 2
  const replyText = readShortstr(p, o)
  o += 1 + p[o]!
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { replyCode, replyText, exchange, routingKey }
}

function decodeBasicDeliver(p: Buffer): BasicDeliverArgs {
  let o = 4
  const consumerTag = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 9)
  const deliveryTag = readUint64(p, o)
  const redelivered = (p[o + 8]! & 1) !== 0
  o += 9
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { consumerTag, deliveryTag, redelivered, exchange, routingKey }
}

function decodeBasicGet(p: Buffer): BasicGetArgs {
  let o = 4
  need(p, o, 2)
  const ticket = p.readUInt16BE(o)
  o += 2
  const queue = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 1)
  const noAck = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { ticket, queue, noAck }
}

function decodeBasicGetOk(p: Buffer): BasicGetOkArgs {
  let o = 4
  need(p, o, 9)
  const deliveryTag = readUint64(p, o)
  const redelivered = (p[o + 8]! & 1) !== 0
  o += 9
  const exchange = readShortstr(p, o)
  o += 1 + p[o]!
  const routingKey = readShortstr(p, o)
  o += 1 + p[o]!
  need(p, o, 4)
  const messageCount = p.readUInt32BE(o)
  o += 4
  expectEnd(p, o)
  return { deliveryTag, redelivered, exchange, routingKey, messageCount }
}

function decodeBasicGetEmpty(p: Buffer): BasicGetEmptyArgs {
  let o = 4
  const clusterId = readShortstr(p, o)
  o += 1 + p[o]!
  expectEnd(p, o)
  return { clusterId }
}

function decodeBasicAck(p: Buffer): BasicAckArgs {
  let o = 4
  need(p, o, 9)
  const deliveryTag = readUint64(p, o)
  const multiple = (p[o + 8]! & 1) !== 0
  o += 9
  expectEnd(p, o)
  return { deliveryTag, multiple }
}

function decodeBasicReject(p: Buffer): BasicRejectArgs {
  let o = 4
  need(p, o, 9)
  const deliveryTag = readUint64(p, o)
  const requeue = (p[o + 8]! & 1) !== 0
  o += 9
  expectEnd(p, o)
  return { deliveryTag, requeue }
}

function decodeBasicRecoverAsync(p: Buffer): BasicRecoverAsyncArgs {
  let o = 4
  need(p, o, 1)
  const requeue = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { requeue }
}

function decodeBasicRecover(p: Buffer): BasicRecoverArgs {
  let o = 4
  need(p, o, 1)
  const requeue = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { requeue }
}

function decodeBasicRecoverOk(p: Buffer): BasicRecoverOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeBasicNack(p: Buffer): BasicNackArgs {
  let o = 4
  need(p, o, 9)
  const deliveryTag = readUint64(p, o)
  const multiple = (p[o + 8]! & 1) !== 0
  const requeue = (p[o + 8]! & 2) !== 0
  o += 9
  expectEnd(p, o)
  return { deliveryTag, multiple, requeue }
}

function decodeTxSelect(p: Buffer): TxSelectArgs {
  expectEnd(p, 4)
  return {}
}

function decodeTxSelectOk(p: Buffer): TxSelectOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeTxCommit(p: Buffer): TxCommitArgs {
  expectEnd(p, 4)
  return {}
}

function decodeTxCommitOk(p: Buffer): TxCommitOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeTxRollback(p: Buffer): TxRollbackArgs {
  expectEnd(p, 4)
  return {}
}

function decodeTxRollbackOk(p: Buffer): TxRollbackOkArgs {
  expectEnd(p, 4)
  return {}
}

function decodeConfirmSelect(p: Buffer): ConfirmSelectArgs {
  let o = 4
  need(p, o, 1)
  const nowait = (p[o]! & 1) !== 0
  o += 1
  expectEnd(p, o)
  return { nowait }
}

function decodeConfirmSelectOk(p: Buffer): ConfirmSelectOkArgs {
  expectEnd(p, 4)
  return {}
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Encodes a complete method frame: type, channel, size, class-id, method-id, arguments, frame-end. */
export function encodeMethodFrame(channel: number, m: AmqpMethod): Buffer {
  switch (m.name) {
    case 'basic.qos':
      return encodeBasicQos(channel, m.args)
    case 'basic.qos-ok':
      return encodeBasicQosOk(channel, m.args)
    case 'basic.consume':
      return encodeBasicConsume(channel, m.args)
    case 'basic.consume-ok':
      return encodeBasicConsumeOk(channel, m.args)
    case 'basic.cancel':
      return encodeBasicCancel(channel, m.args)
    case 'basic.cancel-ok':
      return encodeBasicCancelOk(channel, m.args)
    case 'basic.publish':
      return encodeBasicPublish(channel, m.args)
    case 'basic.return':
      return encodeBasicReturn(channel, m.args)
    case 'basic.deliver':
      return encodeBasicDeliver(channel, m.args)
    case 'basic.get':
      return encodeBasicGet(channel, m.args)
    case 'basic.get-ok':
      return encodeBasicGetOk(channel, m.args)
    case 'basic.get-empty':
      return encodeBasicGetEmpty(channel, m.args)
    case 'basic.ack':
      return encodeBasicAck(channel, m.args)
    case 'basic.reject':
      return encodeBasicReject(channel, m.args)
    case 'basic.recover-async':
      return encodeBasicRecoverAsync(channel, m.args)
    case 'basic.recover':
      return encodeBasicRecover(channel, m.args)
    case 'basic.recover-ok':
      return encodeBasicRecoverOk(channel, m.args)
    case 'basic.nack':
      return encodeBasicNack(channel, m.args)
    case 'connection.start':
      return encodeConnectionStart(channel, m.args)
    case 'connection.start-ok':
      return encodeConnectionStartOk(channel, m.args)
    case 'connection.secure':
      return encodeConnectionSecure(channel, m.args)
    case 'connection.secure-ok':
      return encodeConnectionSecureOk(channel, m.args)
    case 'connection.tune':
      return encodeConnectionTune(channel, m.args)
    case 'connection.tune-ok':
      return encodeConnectionTuneOk(channel, m.args)
    case 'connection.open':
      return encodeConnectionOpen(channel, m.args)
    case 'connection.open-ok':
      return encodeConnectionOpenOk(channel, m.args)
    case 'connection.close':
      return encodeConnectionClose(channel, m.args)
    case 'connection.close-ok':
      return encodeConnectionCloseOk(channel, m.args)
    case 'connection.blocked':
      return encodeConnectionBlocked(channel, m.args)
    case 'connection.unblocked':
      return encodeConnectionUnblocked(channel, m.args)
    case 'connection.update-secret':
      return encodeConnectionUpdateSecret(channel, m.args)
    case 'connection.update-secret-ok':
      return encodeConnectionUpdateSecretOk(channel, m.args)
    case 'channel.open':
      return encodeChannelOpen(channel, m.args)
    case 'channel.open-ok':
      return encodeChannelOpenOk(channel, m.args)
    case 'channel.flow':
      return encodeChannelFlow(channel, m.args)
    case 'channel.flow-ok':
      return encodeChannelFlowOk(channel, m.args)
    case 'channel.close':
      return encodeChannelClose(channel, m.args)
    case 'channel.close-ok':
      return encodeChannelCloseOk(channel, m.args)
    case 'access.request':
      return encodeAccessRequest(channel, m.args)
    case 'access.request-ok':
      return encodeAccessRequestOk(channel, m.args)
    case 'exchange.declare':
      return encodeExchangeDeclare(channel, m.args)
    case 'exchange.declare-ok':
      return encodeExchangeDeclareOk(channel, m.args)
    case 'exchange.delete':
      return encodeExchangeDelete(channel, m.args)
    case 'exchange.delete-ok':
      return encodeExchangeDeleteOk(channel, m.args)
    case 'exchange.bind':
      return encodeExchangeBind(channel, m.args)
    case 'exchange.bind-ok':
      return encodeExchangeBindOk(channel, m.args)
    case 'exchange.unbind':
      return encodeExchangeUnbind(channel, m.args)
    case 'exchange.unbind-ok':
      return encodeExchangeUnbindOk(channel, m.args)
    case 'queue.declare':
      return encodeQueueDeclare(channel, m.args)
    case 'queue.declare-ok':
      return encodeQueueDeclareOk(channel, m.args)
    case 'queue.bind':
      return encodeQueueBind(channel, m.args)
    case 'queue.bind-ok':
      return encodeQueueBindOk(channel, m.args)
    case 'queue.purge':
      return encodeQueuePurge(channel, m.args)
    case 'queue.purge-ok':
      return encodeQueuePurgeOk(channel, m.args)
    case 'queue.delete':
      return encodeQueueDelete(channel, m.args)
    case 'queue.delete-ok':
      return encodeQueueDeleteOk(channel, m.args)
    case 'queue.unbind':
      return encodeQueueUnbind(channel, m.args)
    case 'queue.unbind-ok':
      return encodeQueueUnbindOk(channel, m.args)
    case 'tx.select':
      return encodeTxSelect(channel, m.args)
    case 'tx.select-ok':
      return encodeTxSelectOk(channel, m.args)
    case 'tx.commit':
      return encodeTxCommit(channel, m.args)
    case 'tx.commit-ok':
      return encodeTxCommitOk(channel, m.args)
    case 'tx.rollback':
      return encodeTxRollback(channel, m.args)
    case 'tx.rollback-ok':
      return encodeTxRollbackOk(channel, m.args)
    case 'confirm.select':
      return encodeConfirmSelect(channel, m.args)
    case 'confirm.select-ok':
      return encodeConfirmSelectOk(channel, m.args)
  }
  throw new TypeError(`Unknown AMQP method '${(m as { name: unknown }).name}'`)
}

/** Allocates a method frame of `size` payload bytes with everything but the arguments written. */
function methodFrame(channel: number, id: number, size: number): Buffer {
  const f = Buffer.allocUnsafe(size + 8)
  f[0] = FRAME_METHOD
  f.writeUInt16BE(channel, 1)
  f.writeUInt32BE(size, 3)
  f.writeUInt32BE(id, 7)
  f[size + 7] = FRAME_END
  return f
}

function encodeConnectionStart(channel: number, a: ConnectionStartArgs): Buffer {
  const serverPropertiesSize = fieldTableSize(a.serverProperties)
  const mechanismsLength = longstrLength(a.mechanisms, 'mechanisms')
  const localesLength = longstrLength(a.locales, 'locales')
  const f = methodFrame(channel, 0x000a_000a, 14 + serverPropertiesSize + mechanismsLength + localesLength)
  let o = 11
  f.writeUInt8(a.versionMajor, o)
  f.writeUInt8(a.versionMinor, o + 1)
  o += 2
  o = writeFieldTable(f, o, a.serverProperties)
  o = writeLongstr(f, o, a.mechanisms)
  writeLongstr(f, o, a.locales)
  return f
}

function encodeConnectionStartOk(channel: number, a: ConnectionStartOkArgs): Buffer {
  const clientPropertiesSize = fieldTableSize(a.clientProperties)
  const mechanismLength = shortstrLength(a.mechanism, 'mechanism')
  const responseLength = longstrLength(a.response, 'response')
  const localeLength = shortstrLength(a.locale, 'locale')
  const f = methodFrame(channel, 0x000a_000b, 10 + clientPropertiesSize + mechanismLength + responseLength + localeLength)
  let o = 11
  o = writeFieldTable(f, o, a.clientProperties)
  o = writeShortstr(f, o, a.mechanism)
  o = writeLongstr(f, o, a.response)
  writeShortstr(f, o, a.locale)
  return f
}

function encodeConnectionSecure(channel: number, a: ConnectionSecureArgs): Buffer {
  const challengeLength = longstrLength(a.challenge, 'challenge')
  const f = methodFrame(channel, 0x000a_0014, 8 + challengeLength)
  const o = 11
  writeLongstr(f, o, a.challenge)
  return f
}

function encodeConnectionSecureOk(channel: number, a: ConnectionSecureOkArgs): Buffer {
  const responseLength = longstrLength(a.response, 'response')
  const f = methodFrame(channel, 0x000a_0015, 8 + responseLength)
  const o = 11
  writeLongstr(f, o, a.response)
  return f
}

function encodeConnectionTune(channel: number, a: ConnectionTuneArgs): Buffer {
  const f = methodFrame(channel, 0x000a_001e, 12)
  const o = 11
  f.writeUInt16BE(a.channelMax, o)
  f.writeUInt32BE(a.frameMax, o + 2)
  f.writeUInt16BE(a.heartbeat, o + 6)
  return f
}

function encodeConnectionTuneOk(channel: number, a: ConnectionTuneOkArgs): Buffer {
  const f = methodFrame(channel, 0x000a_001f, 12)
  const o = 11
  f.writeUInt16BE(a.channelMax, o)
  f.writeUInt32BE(a.frameMax, o + 2)
  f.writeUInt16BE(a.heartbeat, o + 6)
  return f
}

function encodeConnectionOpen(channel: number, a: ConnectionOpenArgs): Buffer {
  const virtualHostLength = shortstrLength(a.virtualHost, 'virtualHost')
  const capabilitiesLength = shortstrLength(a.capabilities, 'capabilities')
  const f = methodFrame(channel, 0x000a_0028, 7 + virtualHostLength + capabilitiesLength)
  let o = 11
  o = writeShortstr(f, o, a.virtualHost)
  o = writeShortstr(f, o, a.capabilities)
  f[o] = a.insist ? 1 : 0
  return f
}

function encodeConnectionOpenOk(channel: number, a: ConnectionOpenOkArgs): Buffer {
  const knownHostsLength = shortstrLength(a.knownHosts, 'knownHosts')
  const f = methodFrame(channel, 0x000a_0029, 5 + knownHostsLength)
  const o = 11
  writeShortstr(f, o, a.knownHosts)
  return f
}

function encodeConnectionClose(channel: number, a: ConnectionCloseArgs): Buffer {
  const replyTextLength = shortstrLength(a.replyText, 'replyText')
  const f = methodFrame(channel, 0x000a_0032, 11 + replyTextLength)
  let o = 11
  f.writeUInt16BE(a.replyCode, o)
  o += 2
  o = writeShortstr(f, o, a.replyText)
  f.writeUInt16BE(a.classId, o)
  f.writeUInt16BE(a.methodId, o + 2)
  return f
}

function encodeConnectionCloseOk(channel: number, _a: ConnectionCloseOkArgs): Buffer {
  return methodFrame(channel, 0x000a_0033, 4)
}

function encodeConnectionBlocked(channel: number, a: ConnectionBlockedArgs): Buffer {
  const reasonLength = shortstrLength(a.reason, 'reason')
  const f = methodFrame(channel, 0x000a_003c, 5 + reasonLength)
  const o = 11
  writeShortstr(f, o, a.reason)
  return f
}

function encodeConnectionUnblocked(channel: number, _a: ConnectionUnblockedArgs): Buffer {
  return methodFrame(channel, 0x000a_003d, 4)
}

function encodeConnectionUpdateSecret(channel: number, a: ConnectionUpdateSecretArgs): Buffer {
  const newSecretLength = longstrLength(a.newSecret, 'newSecret')
  const reasonLength = shortstrLength(a.reason, 'reason')
  const f = methodFrame(channel, 0x000a_0046, 9 + newSecretLength + reasonLength)
  let o = 11
  o = writeLongstr(f, o, a.newSecret)
  writeShortstr(f, o, a.reason)
  return f
}

function encodeConnectionUpdateSecretOk(channel: number, _a: ConnectionUpdateSecretOkArgs): Buffer {
  return methodFrame(channel, 0x000a_0047, 4)
}

function encodeChannelOpen(channel: number, a: ChannelOpenArgs): Buffer {
  const outOfBandLength = shortstrLength(a.outOfBand, 'outOfBand')
  const f = methodFrame(channel, 0x0014_000a, 5 + outOfBandLength)
  const o = 11
  writeShortstr(f, o, a.outOfBand)
  return f
}

function encodeChannelOpenOk(channel: number, a: ChannelOpenOkArgs): Buffer {
  const channelIdLength = longstrLength(a.channelId, 'channelId')
  const f = methodFrame(channel, 0x0014_000b, 8 + channelIdLength)
  const o = 11
  writeLongstr(f, o, a.channelId)
  return f
}

function encodeChannelFlow(channel: number, a: ChannelFlowArgs): Buffer {
  const f = methodFrame(channel, 0x0014_0014, 5)
  const o = 11
  f[o] = a.active ? 1 : 0
  return f
}

function encodeChannelFlowOk(channel: number, a: ChannelFlowOkArgs): Buffer {
  const f = methodFrame(channel, 0x0014_0015, 5)
  const o = 11
  f[o] = a.active ? 1 : 0
  return f
}

function encodeChannelClose(channel: number, a: ChannelCloseArgs): Buffer {
  const replyTextLength = shortstrLength(a.replyText, 'replyText')
  const f = methodFrame(channel, 0x0014_0028, 11 + replyTextLength)
  let o = 11
  f.writeUInt16BE(a.replyCode, o)
  o += 2
  o = writeShortstr(f, o, a.replyText)
  f.writeUInt16BE(a.classId, o)
  f.writeUInt16BE(a.methodId, o + 2)
  return f
}

function encodeChannelCloseOk(channel: number, _a: ChannelCloseOkArgs): Buffer {
  return methodFrame(channel, 0x0014_0029, 4)
}

function encodeAccessRequest(channel: number, a: AccessRequestArgs): Buffer {
  const realmLength = shortstrLength(a.realm, 'realm')
  const f = methodFrame(channel, 0x001e_000a, 6 + realmLength)
  let o = 11
  o = writeShortstr(f, o, a.realm)
  f[o] = (a.exclusive ? 1 : 0) | (a.passive ? 2 : 0) | (a.active ? 4 : 0) | (a.write ? 8 : 0) | (a.read ? 16 : 0)
  return f
}

function encodeAccessRequestOk(channel: number, a: AccessRequestOkArgs): Buffer {
  const f = methodFrame(channel, 0x001e_000b, 6)
  const o = 11
  f.writeUInt16BE(a.ticket, o)
  return f
}

function encodeExchangeDeclare(channel: number, a: ExchangeDeclareArgs): Buffer {
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const typeLength = shortstrLength(a.type, 'type')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0028_000a, 9 + exchangeLength + typeLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.exchange)
  o = writeShortstr(f, o, a.type)
  f[o] = (a.passive ? 1 : 0) | (a.durable ? 2 : 0) | (a.autoDelete ? 4 : 0) | (a.internal ? 8 : 0) | (a.nowait ? 16 : 0)
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeExchangeDeclareOk(channel: number, _a: ExchangeDeclareOkArgs): Buffer {
  return methodFrame(channel, 0x0028_000b, 4)
}

function encodeExchangeDelete(channel: number, a: ExchangeDeleteArgs): Buffer {
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const f = methodFrame(channel, 0x0028_0014, 8 + exchangeLength)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.exchange)
  f[o] = (a.ifUnused ? 1 : 0) | (a.nowait ? 2 : 0)
  return f
}

function encodeExchangeDeleteOk(channel: number, _a: ExchangeDeleteOkArgs): Buffer {
  return methodFrame(channel, 0x0028_0015, 4)
}

function encodeExchangeBind(channel: number, a: ExchangeBindArgs): Buffer {
  const destinationLength = shortstrLength(a.destination, 'destination')
  const sourceLength = shortstrLength(a.source, 'source')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0028_001e, 10 + destinationLength + sourceLength + routingKeyLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.destination)
  o = writeShortstr(f, o, a.source)
  o = writeShortstr(f, o, a.routingKey)
  f[o] = a.nowait ? 1 : 0
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeExchangeBindOk(channel: number, _a: ExchangeBindOkArgs): Buffer {
  return methodFrame(channel, 0x0028_001f, 4)
}

function encodeExchangeUnbind(channel: number, a: ExchangeUnbindArgs): Buffer {
  const destinationLength = shortstrLength(a.destination, 'destination')
  const sourceLength = shortstrLength(a.source, 'source')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0028_0028, 10 + destinationLength + sourceLength + routingKeyLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.destination)
  o = writeShortstr(f, o, a.source)
  o = writeShortstr(f, o, a.routingKey)
  f[o] = a.nowait ? 1 : 0
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeExchangeUnbindOk(channel: number, _a: ExchangeUnbindOkArgs): Buffer {
  return methodFrame(channel, 0x0028_0033, 4)
}

function encodeQueueDeclare(channel: number, a: QueueDeclareArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0032_000a, 8 + queueLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  f[o] = (a.passive ? 1 : 0) | (a.durable ? 2 : 0) | (a.exclusive ? 4 : 0) | (a.autoDelete ? 8 : 0) | (a.nowait ? 16 : 0)
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeQueueDeclareOk(channel: number, a: QueueDeclareOkArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const f = methodFrame(channel, 0x0032_000b, 13 + queueLength)
  let o = 11
  o = writeShortstr(f, o, a.queue)
  f.writeUInt32BE(a.messageCount, o)
  f.writeUInt32BE(a.consumerCount, o + 4)
  return f
}

function encodeQueueBind(channel: number, a: QueueBindArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0032_0014, 10 + queueLength + exchangeLength + routingKeyLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  o = writeShortstr(f, o, a.exchange)
  o = writeShortstr(f, o, a.routingKey)
  f[o] = a.nowait ? 1 : 0
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeQueueBindOk(channel: number, _a: QueueBindOkArgs): Buffer {
  return methodFrame(channel, 0x0032_0015, 4)
}

function encodeQueuePurge(channel: number, a: QueuePurgeArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const f = methodFrame(channel, 0x0032_001e, 8 + queueLength)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  f[o] = a.nowait ? 1 : 0
  return f
}

function encodeQueuePurgeOk(channel: number, a: QueuePurgeOkArgs): Buffer {
  const f = methodFrame(channel, 0x0032_001f, 8)
  const o = 11
  f.writeUInt32BE(a.messageCount, o)
  return f
}

function encodeQueueDelete(channel: number, a: QueueDeleteArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const f = methodFrame(channel, 0x0032_0028, 8 + queueLength)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  f[o] = (a.ifUnused ? 1 : 0) | (a.ifEmpty ? 2 : 0) | (a.nowait ? 4 : 0)
  return f
}

function encodeQueueDeleteOk(channel: number, a: QueueDeleteOkArgs): Buffer {
  const f = methodFrame(channel, 0x0032_0029, 8)
  const o = 11
  f.writeUInt32BE(a.messageCount, o)
  return f
}

function encodeQueueUnbind(channel: number, a: QueueUnbindArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x0032_0032, 9 + queueLength + exchangeLength + routingKeyLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  o = writeShortstr(f, o, a.exchange)
  o = writeShortstr(f, o, a.routingKey)
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeQueueUnbindOk(channel: number, _a: QueueUnbindOkArgs): Buffer {
  return methodFrame(channel, 0x0032_0033, 4)
}

function encodeBasicQos(channel: number, a: BasicQosArgs): Buffer {
  const f = methodFrame(channel, 0x003c_000a, 11)
  const o = 11
  f.writeUInt32BE(a.prefetchSize, o)
  f.writeUInt16BE(a.prefetchCount, o + 4)
  f[o + 6] = a.global ? 1 : 0
  return f
}

function encodeBasicQosOk(channel: number, _a: BasicQosOkArgs): Buffer {
  return methodFrame(channel, 0x003c_000b, 4)
}

function encodeBasicConsume(channel: number, a: BasicConsumeArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const consumerTagLength = shortstrLength(a.consumerTag, 'consumerTag')
  const argumentsSize = fieldTableSize(a.arguments)
  const f = methodFrame(channel, 0x003c_0014, 9 + queueLength + consumerTagLength + argumentsSize)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  o = writeShortstr(f, o, a.consumerTag)
  f[o] = (a.noLocal ? 1 : 0) | (a.noAck ? 2 : 0) | (a.exclusive ? 4 : 0) | (a.nowait ? 8 : 0)
  o += 1
  writeFieldTable(f, o, a.arguments)
  return f
}

function encodeBasicConsumeOk(channel: number, a: BasicConsumeOkArgs): Buffer {
  const consumerTagLength = shortstrLength(a.consumerTag, 'consumerTag')
  const f = methodFrame(channel, 0x003c_0015, 5 + consumerTagLength)
  const o = 11
  writeShortstr(f, o, a.consumerTag)
  return f
}

function encodeBasicCancel(channel: number, a: BasicCancelArgs): Buffer {
  const consumerTagLength = shortstrLength(a.consumerTag, 'consumerTag')
  const f = methodFrame(channel, 0x003c_001e, 6 + consumerTagLength)
  let o = 11
  o = writeShortstr(f, o, a.consumerTag)
  f[o] = a.nowait ? 1 : 0
  return f
}

function encodeBasicCancelOk(channel: number, a: BasicCancelOkArgs): Buffer {
  const consumerTagLength = shortstrLength(a.consumerTag, 'consumerTag')
  const f = methodFrame(channel, 0x003c_001f, 5 + consumerTagLength)
  const o = 11
  writeShortstr(f, o, a.consumerTag)
  return f
}

function encodeBasicPublish(channel: number, a: BasicPublishArgs): Buffer {
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const f = methodFrame(channel, 0x003c_0028, 9 + exchangeLength + routingKeyLength)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.exchange)
  o = writeShortstr(f, o, a.routingKey)
  f[o] = (a.mandatory ? 1 : 0) | (a.immediate ? 2 : 0)
  return f
}

function encodeBasicReturn(channel: number, a: BasicReturnArgs): Buffer {
  const replyTextLength = shortstrLength(a.replyText, 'replyText')
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const f = methodFrame(channel, 0x003c_0032, 9 + replyTextLength + exchangeLength + routingKeyLength)
  let o = 11
  f.writeUInt16BE(a.replyCode, o)
  o += 2
  o = writeShortstr(f, o, a.replyText)
  o = writeShortstr(f, o, a.exchange)
  writeShortstr(f, o, a.routingKey)
  return f
}

function encodeBasicDeliver(channel: number, a: BasicDeliverArgs): Buffer {
  const consumerTagLength = shortstrLength(a.consumerTag, 'consumerTag')
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const f = methodFrame(channel, 0x003c_003c, 16 + consumerTagLength + exchangeLength + routingKeyLength)
  let o = 11
  o = writeShortstr(f, o, a.consumerTag)
  writeUint64(f, o, a.deliveryTag)
  f[o + 8] = a.redelivered ? 1 : 0
  o += 9
  o = writeShortstr(f, o, a.exchange)
  writeShortstr(f, o, a.routingKey)
  return f
}

function encodeBasicGet(channel: number, a: BasicGetArgs): Buffer {
  const queueLength = shortstrLength(a.queue, 'queue')
  const f = methodFrame(channel, 0x003c_0046, 8 + queueLength)
  let o = 11
  f.writeUInt16BE(a.ticket, o)
  o += 2
  o = writeShortstr(f, o, a.queue)
  f[o] = a.noAck ? 1 : 0
  return f
}

function encodeBasicGetOk(channel: number, a: BasicGetOkArgs): Buffer {
  const exchangeLength = shortstrLength(a.exchange, 'exchange')
  const routingKeyLength = shortstrLength(a.routingKey, 'routingKey')
  const f = methodFrame(channel, 0x003c_0047, 19 + exchangeLength + routingKeyLength)
  let o = 11
  writeUint64(f, o, a.deliveryTag)
  f[o + 8] = a.redelivered ? 1 : 0
  o += 9
  o = writeShortstr(f, o, a.exchange)
  o = writeShortstr(f, o, a.routingKey)
  f.writeUInt32BE(a.messageCount, o)
  return f
}

function encodeBasicGetEmpty(channel: number, a: BasicGetEmptyArgs): Buffer {
  const clusterIdLength = shortstrLength(a.clusterId, 'clusterId')
  const f = methodFrame(channel, 0x003c_0048, 5 + clusterIdLength)
  const o = 11
  writeShortstr(f, o, a.clusterId)
  return f
}

function encodeBasicAck(channel: number, a: BasicAckArgs): Buffer {
  const f = methodFrame(channel, 0x003c_0050, 13)
  const o = 11
  writeUint64(f, o, a.deliveryTag)
  f[o + 8] = a.multiple ? 1 : 0
  return f
}

function encodeBasicReject(channel: number, a: BasicRejectArgs): Buffer {
  const f = methodFrame(channel, 0x003c_005a, 13)
  const o = 11
  writeUint64(f, o, a.deliveryTag)
  f[o + 8] = a.requeue ? 1 : 0
  return f
}

function encodeBasicRecoverAsync(channel: number, a: BasicRecoverAsyncArgs): Buffer {
  const f = methodFrame(channel, 0x003c_0064, 5)
  const o = 11
  f[o] = a.requeue ? 1 : 0
  return f
}

function encodeBasicRecover(channel: number, a: BasicRecoverArgs): Buffer {
  const f = methodFrame(channel, 0x003c_006e, 5)
  const o = 11
  f[o] = a.requeue ? 1 : 0
  return f
}

function encodeBasicRecoverOk(channel: number, _a: BasicRecoverOkArgs): Buffer {
  return methodFrame(channel, 0x003c_006f, 4)
}

function encodeBasicNack(channel: number, a: BasicNackArgs): Buffer {
  const f = methodFrame(channel, 0x003c_0078, 13)
  const o = 11
  writeUint64(f, o, a.deliveryTag)
  f[o + 8] = (a.multiple ? 1 : 0) | (a.requeue ? 2 : 0)
  return f
}

function encodeTxSelect(channel: number, _a: TxSelectArgs): Buffer {
  return methodFrame(channel, 0x005a_000a, 4)
}

function encodeTxSelectOk(channel: number, _a: TxSelectOkArgs): Buffer {
  return methodFrame(channel, 0x005a_000b, 4)
}

function encodeTxCommit(channel: number, _a: TxCommitArgs): Buffer {
  return methodFrame(channel, 0x005a_0014, 4)
}

function encodeTxCommitOk(channel: number, _a: TxCommitOkArgs): Buffer {
  return methodFrame(channel, 0x005a_0015, 4)
}

function encodeTxRollback(channel: number, _a: TxRollbackArgs): Buffer {
  return methodFrame(channel, 0x005a_001e, 4)
}

function encodeTxRollbackOk(channel: number, _a: TxRollbackOkArgs): Buffer {
  return methodFrame(channel, 0x005a_001f, 4)
}

function encodeConfirmSelect(channel: number, a: ConfirmSelectArgs): Buffer {
  const f = methodFrame(channel, 0x0055_000a, 5)
  const o = 11
  f[o] = a.nowait ? 1 : 0
  return f
}

function encodeConfirmSelectOk(channel: number, _a: ConfirmSelectOkArgs): Buffer {
  return methodFrame(channel, 0x0055_000b, 4)
}

// ---------------------------------------------------------------------------------------------
// Content header
// ---------------------------------------------------------------------------------------------

/** Content properties of class basic; names and types as amqplib's. */
export interface BasicProperties {
  contentType?: string
  contentEncoding?: string
  headers?: FieldTable
  deliveryMode?: number
  priority?: number
  correlationId?: string
  replyTo?: string
  expiration?: string
  messageId?: string
  timestamp?: number
  type?: string
  userId?: string
  appId?: string
  clusterId?: string
}

export interface ContentHeader {
  classId: number
  /** Total body size announced; the body frames that follow must add up to it. */
  bodySize: number
  /** Every property key is present, undefined when absent on the wire (one object shape). */
  properties: BasicProperties
}

/**
 * Decodes a content header frame's payload: class-id, weight (unused), body-size, property flags
 * and the properties they announce. Throws AmqpCodecError MALFORMED on truncation, trailing
 * bytes, a set continuation or reserved flag bit, a class without properties, or a body size
 * beyond 2^53.
 */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  if (payload.length < 14) throw malformed(`content header of ${payload.length} bytes is shorter than 14`)
  const classId = payload.readUInt16BE(0)
  const bodySize = readUint64(payload, 4)
  if (bodySize > Number.MAX_SAFE_INTEGER) throw malformed(`body size ${bodySize} is beyond 2^53`, classId)
  if (classId !== 60) throw malformed(`content header for class ${classId}, which has no content`, classId)
  const flags = payload.readUInt16BE(12)
  // Bit 0 would announce another flag word, which basic never needs; the bits between the
  // last property and it are reserved. Either set means a broken or hostile peer.
  if (flags & 0x0003) {
    throw malformed(`property flags 0x${flags.toString(16)} set a continuation or reserved bit`, classId)
  }
  try {
    return { classId, bodySize, properties: decodeBasicProperties(payload, flags) }
  } catch (err) {
    if (err instanceof AmqpCodecError) throw malformed(`content header: ${err.message}`, classId)
    throw err
  }
}

function decodeBasicProperties(p: Buffer, flags: number): BasicProperties {
  let o = 14
  let contentType: string | undefined
  if (flags & 0x8000) {
    contentType = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let contentEncoding: string | undefined
  if (flags & 0x4000) {
    contentEncoding = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let headers: FieldTable | undefined
  if (flags & 0x2000) {
    headers = decodeFieldTable(p, o)
    o += 4 + p.readUInt32BE(o)
  }
  let deliveryMode: number | undefined
  if (flags & 0x1000) {
    need(p, o, 1)
    deliveryMode = p[o]!
    o += 1
  }
  let priority: number | undefined
  if (flags & 0x0800) {
    need(p, o, 1)
    priority = p[o]!
    o += 1
  }
  let correlationId: string | undefined
  if (flags & 0x0400) {
    correlationId = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let replyTo: string | undefined
  if (flags & 0x0200) {
    replyTo = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let expiration: string | undefined
  if (flags & 0x0100) {
    expiration = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let messageId: string | undefined
  if (flags & 0x0080) {
    messageId = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let timestamp: number | undefined
  if (flags & 0x0040) {
    need(p, o, 8)
    timestamp = readUint64(p, o)
    o += 8
  }
  let type: string | undefined
  if (flags & 0x0020) {
    type = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let userId: string | undefined
  if (flags & 0x0010) {
    userId = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let appId: string | undefined
  if (flags & 0x0008) {
    appId = readShortstr(p, o)
    o += 1 + p[o]!
  }
  let clusterId: string | undefined
  if (flags & 0x0004) {
    clusterId = readShortstr(p, o)
    o += 1 + p[o]!
  }
  expectEnd(p, o)
  return {
    contentType,
    contentEncoding,
    headers,
    deliveryMode,
    priority,
    correlationId,
    replyTo,
    expiration,
    messageId,
    timestamp,
    type,
    userId,
    appId,
    clusterId,
  }
}

/**
 * Encodes a complete content header frame. Properties that are undefined or null are absent.
 * `tailroom` extra bytes are allocated after the frame end and left unwritten, so a caller can
 * append the first body frame without a second allocation.
 */
export function encodeHeaderFrame(
  channel: number,
  classId: number,
  bodySize: number,
  props: BasicProperties,
  tailroom = 0,
): Buffer {
  if (classId !== 60) throw new TypeError(`Class ${classId} has no content properties`)
  let flags = 0
  let size = 14
  const contentType = props.contentType
  if (contentType != null) {
    flags |= 0x8000
    size += 1 + shortstrLength(contentType, 'contentType')
  }
  const contentEncoding = props.contentEncoding
  if (contentEncoding != null) {
    flags |= 0x4000
    size += 1 + shortstrLength(contentEncoding, 'contentEncoding')
  }
  const headers = props.headers
  if (headers != null) {
    flags |= 0x2000
    size += fieldTableSize(headers)
  }
  const deliveryMode = props.deliveryMode
  if (deliveryMode != null) {
    flags |= 0x1000
    size += 1
  }
  const priority = props.priority
  if (priority != null) {
    flags |= 0x0800
    size += 1
  }
  const correlationId = props.correlationId
  if (correlationId != null) {
    flags |= 0x0400
    size += 1 + shortstrLength(correlationId, 'correlationId')
  }
  const replyTo = props.replyTo
  if (replyTo != null) {
    flags |= 0x0200
    size += 1 + shortstrLength(replyTo, 'replyTo')
  }
  const expiration = props.expiration
  if (expiration != null) {
    flags |= 0x0100
    size += 1 + shortstrLength(expiration, 'expiration')
  }
  const messageId = props.messageId
  if (messageId != null) {
    flags |= 0x0080
    size += 1 + shortstrLength(messageId, 'messageId')
  }
  const timestamp = props.timestamp
  if (timestamp != null) {
    flags |= 0x0040
    size += 8
  }
  const type = props.type
  if (type != null) {
    flags |= 0x0020
    size += 1 + shortstrLength(type, 'type')
  }
  const userId = props.userId
  if (userId != null) {
    flags |= 0x0010
    size += 1 + shortstrLength(userId, 'userId')
  }
  const appId = props.appId
  if (appId != null) {
    flags |= 0x0008
    size += 1 + shortstrLength(appId, 'appId')
  }
  const clusterId = props.clusterId
  if (clusterId != null) {
    flags |= 0x0004
    size += 1 + shortstrLength(clusterId, 'clusterId')
  }
  const f = Buffer.allocUnsafe(size + 8 + tailroom)
  f[0] = FRAME_HEADER
  f.writeUInt16BE(channel, 1)
  f.writeUInt32BE(size, 3)
  f.writeUInt16BE(classId, 7)
  f.writeUInt16BE(0, 9) // weight, unused
  writeUint64(f, 11, bodySize)
  f.writeUInt16BE(flags, 19)
  let o = 21
  if (contentType != null) {
    o = writeShortstr(f, o, contentType)
  }
  if (contentEncoding != null) {
    o = writeShortstr(f, o, contentEncoding)
  }
  if (headers != null) {
    o = writeFieldTable(f, o, headers)
  }
  if (deliveryMode != null) {
    o = f.writeUInt8(deliveryMode, o)
  }
  if (priority != null) {
    o = f.writeUInt8(priority, o)
  }
  if (correlationId != null) {
    o = writeShortstr(f, o, correlationId)
  }
  if (replyTo != null) {
    o = writeShortstr(f, o, replyTo)
  }
  if (expiration != null) {
    o = writeShortstr(f, o, expiration)
  }
  if (messageId != null) {
    o = writeShortstr(f, o, messageId)
  }
  if (timestamp != null) {
    writeUint64(f, o, timestamp)
    o += 8
  }
  if (type != null) {
    o = writeShortstr(f, o, type)
  }
  if (userId != null) {
    o = writeShortstr(f, o, userId)
  }
  if (appId != null) {
    o = writeShortstr(f, o, appId)
  }
  if (clusterId != null) {
    o = writeShortstr(f, o, clusterId)
  }
  f[o] = FRAME_END
  return f
}
