// Every method and the content header, encoded and decoded by our generated codec, and
// cross-checked byte for byte against amqplib's independently generated codec (lib/defs.js).
import t from 'tap'
import path from 'node:path'
import { createRequire } from 'node:module'
import { AmqpCodecError } from '../../adapters/amqp091/codec-errors.js'
import { encodeFieldTable, type FieldTable, type FieldValue } from '../../adapters/amqp091/field-table.js'
import {
  decodeContentHeader,
  decodeMethod,
  encodeHeaderFrame,
  encodeMethodFrame,
  isHardError,
  methodInfo,
  methodKey,
  methodNameById,
  ReplyCode,
  type AmqpMethod,
  type BasicProperties,
  type MethodName,
} from '../../adapters/amqp091/methods.generated.js'

const require = createRequire(import.meta.url)
// amqplib's package exports block deep imports, so load its internals by absolute path.
const amqplibLib = path.join(path.dirname(require.resolve('amqplib')), 'lib')
const defs = require(path.join(amqplibLib, 'defs.js')) as AmqplibDefs
const frame = require(path.join(amqplibLib, 'frame.js')) as AmqplibFrame

interface AmqplibArgInfo {
  name: string
  type: string
}
interface AmqplibDefs {
  info(id: number): { name: string; args: AmqplibArgInfo[] }
  encodeMethod(id: number, channel: number, fields: object): Buffer
  encodeProperties(classId: number, channel: number, size: number, fields: object): Buffer
}
interface AmqplibFrame {
  parseFrame(buf: Buffer, max: number): { type: number; channel: number; payload: Buffer } | false
  decodeFrame(f: object): { id?: number; channel: number; size?: number; fields?: Record<string, unknown> }
}

/** A table exercising every tag, nesting and the typed trapdoor, in amqplib's representation. */
const RICH_TABLE: FieldTable = {
  str: 'héllo ✓',
  empty: '',
  int8: -5,
  int16: 1000,
  int32: -100000,
  int64: 2 ** 40 + 7,
  dbl: 1.5,
  yes: true,
  no: false,
  nothing: null,
  bytes: Buffer.from([0, 1, 0xce, 255]),
  arr: [1, 'two', [3, { four: 4 }], { '!': 'unsignedint', value: 7 }, null, []],
  nested: { deeper: { deepest: 'x', list: [] }, empty: {} },
  ubyte: { '!': 'unsignedbyte', value: 200 },
  short: { '!': 'short', value: 5 },
  ushort: { '!': 'unsignedshort', value: 60000 },
  int: { '!': 'int', value: 7 },
  long: { '!': 'long', value: 9 },
  bigLong: { '!': 'long', value: 2n ** 62n + 1n },
  float: { '!': 'float', value: 0.5 },
  double: { '!': 'double', value: 2 },
  decimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
  timestamp: { '!': 'timestamp', value: 1700000000 },
  bigTimestamp: { '!': 'timestamp', value: 2n ** 63n + 5n },
  bangTable: { '!': 'object', value: { '!': 'not a trapdoor', a: 1 } },
}

/** Non-default sample values for one argument, by wire type; `seed` varies them per field. */
function sample(type: string, field: string, seed: number): unknown {
  switch (type) {
    case 'octet':
      return 200 + seed
    case 'short':
      return 0x1234 + seed
    case 'long':
      return 0x89abcdef + seed
    case 'longlong':
    case 'timestamp':
      return 2 ** 40 + seed
    case 'bit':
      return seed % 2 === 0
    case 'shortstr':
      return `${field}-é✓-${seed}`
    case 'longstr':
      return Buffer.from(`${field}\u0000\u00ff-${seed}`)
    case 'table':
      return { ...RICH_TABLE, seed }
  }
  throw new Error(`no sample for ${type}`)
}

function argInfo(name: MethodName): AmqplibArgInfo[] {
  const { classId, methodId } = methodInfo[name]
  return defs.info(methodKey(classId, methodId)).args
}

/** Sample arguments; `bits` picks the bit pattern so packing is tested both ways. */
function sampleArgs(name: MethodName, bits: 'alternate' | 'all'): Record<string, unknown> {
  const args: Record<string, unknown> = {}
  argInfo(name).forEach((a, i) => {
    args[a.name] = a.type === 'bit' && bits === 'all' ? true : sample(a.type, a.name, i)
  })
  return args
}

/** What amqplib's (lossy) table decoder yields for a value in our exact representation. */
function amqplibView(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(amqplibView)
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v
  if (Object.hasOwn(v, '!')) {
    const typed = v as { '!': string; value: unknown }
    switch (typed['!']) {
      case 'long':
        return Number(typed.value)
      case 'timestamp':
        return { '!': 'timestamp', value: Number(typed.value) }
      case 'decimal':
        return typed
      case 'object':
        return tableView(typed.value as object)
      default:
        return typed.value
    }
  }
  return tableView(v)
}

function tableView(table: object): object {
  return Object.fromEntries(Object.entries(table).map(([k, x]) => [k, amqplibView(x)]))
}

function amqplibDecode(bytes: Buffer): { id?: number; channel: number; size?: number; fields?: Record<string, unknown> } {
  const parsed = frame.parseFrame(bytes, 0)
  if (parsed === false) throw new Error('amqplib could not frame our bytes')
  return frame.decodeFrame(parsed)
}

const payloadOf = (frameBytes: Buffer): Buffer => frameBytes.subarray(7, frameBytes.length - 1)
const allNames = Object.keys(methodInfo) as MethodName[]

t.test('the generated tables cover every method of every class', async (t) => {
  t.equal(allNames.length, 66)
  for (const cls of ['connection', 'channel', 'access', 'exchange', 'queue', 'basic', 'tx', 'confirm']) {
    t.ok(allNames.some((n) => n.startsWith(`${cls}.`)), cls)
  }
  for (const name of allNames) {
    const { classId, methodId } = methodInfo[name]
    t.equal(methodNameById.get(methodKey(classId, methodId)), name)
    t.equal(defs.info(methodKey(classId, methodId)).name.toLowerCase(), name.replace(/[.-]/g, ''), 'same ids as amqplib')
  }
  t.equal(ReplyCode.FRAME_ERROR, 501)
  t.ok(isHardError(ReplyCode.FRAME_ERROR))
  t.notOk(isHardError(ReplyCode.NOT_FOUND))
  t.notOk(isHardError(ReplyCode.REPLY_SUCCESS))
})

for (const name of allNames) {
  t.test(name, async (t) => {
    const id = methodKey(methodInfo[name].classId, methodInfo[name].methodId)
    for (const bits of ['alternate', 'all'] as const) {
      const args = sampleArgs(name, bits)
      const m = { name, args } as AmqpMethod
      const ours = encodeMethodFrame(7, m)

      t.strictSame(decodeMethod(payloadOf(ours)), m, `${bits}: ours → ours`)

      const theirs = defs.encodeMethod(id, 7, args)
      t.equal(ours.toString('hex'), theirs.toString('hex'), `${bits}: same bytes as amqplib`)

      const decoded = amqplibDecode(ours)
      t.equal(decoded.id, id)
      t.equal(decoded.channel, 7)
      t.strictSame(decoded.fields, amqplibView(args), `${bits}: ours → amqplib`)

      t.strictSame(decodeMethod(payloadOf(theirs)), m, `${bits}: amqplib → ours`)
    }
  })
}

t.test('content header', async (t) => {
  const full: Required<BasicProperties> = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: RICH_TABLE,
    deliveryMode: 2,
    priority: 9,
    correlationId: 'corr-é',
    replyTo: 'reply_4f2a',
    expiration: '60000',
    messageId: 'msg-1',
    timestamp: 1700000000,
    type: 'rpc',
    userId: 'nova',
    appId: 'nova-compute',
    clusterId: 'cell1',
  }
  const absent = Object.fromEntries(Object.keys(full).map((k) => [k, undefined])) as BasicProperties
  const cases: BasicProperties[] = [
    full,
    {},
    { deliveryMode: 1 },
    { headers: {}, replyTo: 'r' },
    { timestamp: 2 ** 52, clusterId: '' },
  ]
  for (const props of cases) {
    const label = JSON.stringify(Object.keys(props))
    const ours = encodeHeaderFrame(3, 60, 123456789, props)
    const theirs = defs.encodeProperties(60, 3, 123456789, props)
    t.equal(ours.toString('hex'), theirs.toString('hex'), `${label}: same bytes as amqplib`)

    const expected = { classId: 60, bodySize: 123456789, properties: { ...absent, ...props } }
    t.strictSame(decodeContentHeader(payloadOf(ours)), expected, `${label}: ours → ours`)
    t.strictSame(decodeContentHeader(payloadOf(theirs)), expected, `${label}: amqplib → ours`)

    const decoded = amqplibDecode(ours)
    t.equal(decoded.size, 123456789)
    const definedProps = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, amqplibView(v)]))
    t.strictSame(decoded.fields, Object.keys(props).length === 0 ? {} : { ...absent, ...definedProps }, `${label}: ours → amqplib`)
  }
})

t.test('content header rejects what it cannot represent', async (t) => {
  const good = payloadOf(encodeHeaderFrame(1, 60, 10, { deliveryMode: 2 }))
  const withFlags = (flags: number) => {
    const p = Buffer.from(good)
    p.writeUInt16BE(flags, 12)
    return p
  }
  t.throws(() => decodeContentHeader(withFlags(0x1001)), { code: 'MALFORMED', classId: 60 }, 'continuation bit')
  t.throws(() => decodeContentHeader(withFlags(0x1002)), { code: 'MALFORMED' }, 'reserved bit')
  t.throws(() => decodeContentHeader(withFlags(0x1800)), { code: 'MALFORMED' }, 'flag without its value')
  t.throws(() => decodeContentHeader(withFlags(0)), { code: 'MALFORMED' }, 'value without its flag')
  const otherClass = Buffer.from(good)
  otherClass.writeUInt16BE(50, 0)
  t.throws(() => decodeContentHeader(otherClass), { code: 'MALFORMED', classId: 50 })
  const huge = Buffer.from(good)
  huge.writeUInt32BE(0xffffffff, 4)
  t.throws(() => decodeContentHeader(huge), { code: 'MALFORMED' }, 'body size beyond 2^53')
  t.throws(() => decodeContentHeader(good.subarray(0, 13)), { code: 'MALFORMED' })
  t.throws(() => encodeHeaderFrame(1, 50, 0, {}), TypeError)
})

t.test('decodeMethod rejects unknown, truncated and overlong methods', async (t) => {
  t.throws(() => decodeMethod(Buffer.from([0, 60, 0])), { code: 'MALFORMED' })
  t.throws(() => decodeMethod(Buffer.from([0, 60, 0, 41])), { code: 'UNKNOWN_METHOD', classId: 60, methodId: 41 })
  t.throws(() => decodeMethod(Buffer.from([0x12, 0x34, 0, 10])), { code: 'UNKNOWN_METHOD', classId: 0x1234, methodId: 10 })

  const deliver = payloadOf(
    encodeMethodFrame(1, {
      name: 'basic.deliver',
      args: { consumerTag: 'ctag', deliveryTag: 42, redelivered: true, exchange: 'nova', routingKey: 'compute' },
    }),
  )
  for (let n = 4; n < deliver.length; n++) {
    t.throws(() => decodeMethod(deliver.subarray(0, n)), { code: 'MALFORMED', classId: 60, methodId: 60 }, `truncated to ${n}`)
  }
  t.throws(() => decodeMethod(Buffer.concat([deliver, Buffer.from([0])])), { code: 'MALFORMED' }, 'trailing byte')

  const err = t.throws(() => decodeMethod(Buffer.from([0, 10, 0, 51, 1]))) as AmqpCodecError
  t.match(err.message, /^connection\.close-ok: /, 'message names the method')
})

t.test('encoders refuse values that cannot be encoded', async (t) => {
  const long = 'x'.repeat(256)
  t.throws(
    () => encodeMethodFrame(1, { name: 'basic.consume-ok', args: { consumerTag: long } }),
    TypeError,
    'shortstr over 255 bytes',
  )
  t.throws(
    () => encodeMethodFrame(1, { name: 'basic.ack', args: { deliveryTag: -1, multiple: false } }),
    RangeError,
    'negative longlong',
  )
  t.throws(() => encodeMethodFrame(1, { name: 'nope' } as unknown as AmqpMethod), TypeError)
})

// Golden bytes, made once by amqplib 2.3.1's encoder (and so independent of ours).
const GOLDEN_CONNECTION_START =
  '010000000000ab000a000a0009000000860770726f6475637453000000085261626269744d510776657273696f6e5300000006332e31332e370c6361706162696c6974696573460000002e127075626c69736865725f636f6e6669726d73740116636f6e73756d65725f63616e63656c5f6e6f7469667974010c636c75737465725f6e616d65530000000c7261626269744063656c6c310000000e504c41494e20414d51504c41494e00000005656e5f5553ce'
const GOLDEN_BASIC_PUBLISH = '0100010000001f003c00280000046e6f766112636f6d707574652e63656c6c312d686f737401ce'
const GOLDEN_CONTENT_HEADER =
  '02000100000044003c000000000000000004d2b640106170706c69636174696f6e2f6a736f6e0000000a07782d726574727962030203632d31097265706c795f616263000000006553f100ce'

t.test('golden bytes', async (t) => {
  const start: AmqpMethod = {
    name: 'connection.start',
    args: {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: {
        product: 'RabbitMQ',
        version: '3.13.7',
        capabilities: { publisher_confirms: true, consumer_cancel_notify: true },
        cluster_name: 'rabbit@cell1',
      },
      mechanisms: Buffer.from('PLAIN AMQPLAIN'),
      locales: Buffer.from('en_US'),
    },
  }
  t.equal(encodeMethodFrame(0, start).toString('hex'), GOLDEN_CONNECTION_START)
  t.strictSame(decodeMethod(payloadOf(Buffer.from(GOLDEN_CONNECTION_START, 'hex'))), start)

  const publish: AmqpMethod = {
    name: 'basic.publish',
    args: { ticket: 0, exchange: 'nova', routingKey: 'compute.cell1-host', mandatory: true, immediate: false },
  }
  t.equal(encodeMethodFrame(1, publish).toString('hex'), GOLDEN_BASIC_PUBLISH)
  t.strictSame(decodeMethod(payloadOf(Buffer.from(GOLDEN_BASIC_PUBLISH, 'hex'))), publish)

  const props: BasicProperties = {
    contentType: 'application/json',
    deliveryMode: 2,
    headers: { 'x-retry': 3 },
    correlationId: 'c-1',
    replyTo: 'reply_abc',
    timestamp: 1700000000,
  }
  t.equal(encodeHeaderFrame(1, 60, 1234, props).toString('hex'), GOLDEN_CONTENT_HEADER)
  t.match(decodeContentHeader(payloadOf(Buffer.from(GOLDEN_CONTENT_HEADER, 'hex'))), { bodySize: 1234, properties: props })
})

t.test('decoded tables can be handed back to amqplib unchanged', async (t) => {
  const args = { ticket: 0, queue: 'q', exchange: 'x', routingKey: 'k', nowait: false, arguments: RICH_TABLE }
  const theirs = defs.encodeMethod(methodKey(50, 20), 1, args)
  const decoded = decodeMethod(payloadOf(theirs))
  t.equal(defs.encodeMethod(methodKey(50, 20), 1, decoded.args).toString('hex'), theirs.toString('hex'))
  const nested: FieldValue = (decoded.args as { arguments: FieldTable }).arguments['bangTable']!
  t.strictSame(nested, RICH_TABLE['bangTable'])
})

t.test('field table encoder accepts amqplib aliases and refuses what amqplib refuses', async (t) => {
  const codec = require(path.join(amqplibLib, 'codec.js')) as { encodeTable(b: Buffer, v: object, o: number): number }
  const viaAmqplib = (table: object) => {
    const scratch = Buffer.alloc(1024)
    return scratch.subarray(0, codec.encodeTable(scratch, table, 0)).toString('hex')
  }
  const aliases = {
    a: { '!': 'int8', value: -1 },
    b: { '!': 'uint16', value: 7 },
    c: { '!': 'int64', value: -5 },
    d: { '!': 'float64', value: 3 },
    e: { '!': 'string', value: 's' },
    f: { '!': 'number', value: 300 },
    g: { '!': 'boolean', value: true },
    h: { '!': 'object', value: [1, null] },
    skipped: undefined,
  }
  t.equal(encodeFieldTable(aliases as unknown as FieldTable).toString('hex'), viaAmqplib(aliases))

  const refused: unknown[] = [
    { '!': 'byte', value: 128 },
    { '!': 'unsignedint', value: -1 },
    { '!': 'short', value: 1.5 },
    { '!': 'long', value: 2 ** 63 },
    { '!': 'timestamp', value: -1 },
    { '!': 'decimal', value: { places: 256, digits: 1 } },
    { '!': 'decimal', value: 5 },
    { '!': 'float', value: 'x' },
    { '!': 'string', value: 5 },
    { '!': 'uuid', value: 'x' },
    NaN,
    -Infinity,
    undefined,
    () => 1,
    Symbol('s'),
    10n,
  ]
  for (const value of refused) {
    t.throws(() => encodeFieldTable({ arr: [value] } as unknown as FieldTable), TypeError, String(typeof value))
  }
  t.throws(() => encodeFieldTable({ ['k'.repeat(256)]: 1 }), TypeError, 'key over 255 bytes')
})
