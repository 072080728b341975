import t from 'tap'
import { connect } from 'amqplib'
import { RawAmqp, type RawEvent } from '../helpers/raw-amqp.js'
import { startTestCellgate } from '../helpers/cellgate.js'
import { encodeMethodFrame, FRAME_END } from '../../adapters/amqp091/methods.generated.js'
import { PROTOCOL_HEADER } from '../../adapters/amqp091/frame-writer.js'

// Bad input, differentially: every case is sent to the real RabbitMQ and to cellgate, and
// cellgate must answer as RabbitMQ does (same close method, same reply code), stay up, and leave
// other connections alone.

const RABBIT_PORT = 5672
const cg = await startTestCellgate()
t.teardown(() => cg.close())

function frame(type: number, channel: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8 + payload.length)
  b.writeUInt8(type, 0)
  b.writeUInt16BE(channel, 1)
  b.writeUInt32BE(payload.length, 3)
  payload.copy(b, 7)
  b.writeUInt8(FRAME_END, 7 + payload.length)
  return b
}

const publishFrame = (channel: number): Buffer =>
  encodeMethodFrame(channel, { name: 'basic.publish', args: { ticket: 0, exchange: '', routingKey: 'nowhere', mandatory: false, immediate: false } })
const channelOpen = (channel: number): Buffer => encodeMethodFrame(channel, { name: 'channel.open', args: { outOfBand: '' } })

interface Case {
  name: string
  /** Whether to complete the handshake first. */
  open: boolean
  bytes: () => Buffer
  /**
   * Where cellgate deliberately answers differently: what it answers and why. RabbitMQ 3.10's own
   * answer is still printed beside it.
   */
  deviation?: Outcome & { why: string }
}

const cases: Case[] = [
  { name: 'wrong protocol version', open: false, bytes: () => Buffer.from('AMQP\x00\x00\x09\x00', 'latin1') },
  { name: 'not AMQP at all', open: false, bytes: () => Buffer.from('GET / HTTP/1.1\r\n\r\n') },
  { name: 'bad frame-end octet', open: true, bytes: () => { const f = channelOpen(1); f[f.length - 1] = 0x00; return f } },
  { name: 'frame larger than frame_max', open: true, bytes: () => { const b = Buffer.alloc(7); b.writeUInt8(1, 0); b.writeUInt16BE(1, 1); b.writeUInt32BE(10_000_000, 3); return b } },
  { name: 'unknown frame type', open: true, bytes: () => frame(9, 0, Buffer.alloc(4)) },
  {
    name: 'unknown method id',
    open: true,
    bytes: () => Buffer.concat([channelOpen(1), frame(1, 1, Buffer.from([0, 60, 0, 99]))]),
    deviation: { kind: 'connection.close', code: 540, why: 'RabbitMQ drops the socket silently; a NOT_IMPLEMENTED close tells the client why' },
  },
  {
    name: 'unknown class id',
    open: true,
    bytes: () => Buffer.concat([channelOpen(1), frame(1, 1, Buffer.from([0, 77, 0, 10]))]),
    deviation: { kind: 'connection.close', code: 540, why: 'as above' },
  },
  { name: 'truncated method arguments', open: true, bytes: () => Buffer.concat([channelOpen(1), frame(1, 1, Buffer.from([0, 60, 0, 40, 0, 0, 9, 0x61]))]) },
  { name: 'method on a channel never opened', open: true, bytes: () => encodeMethodFrame(5, { name: 'basic.qos', args: { prefetchSize: 0, prefetchCount: 1, global: false } }) },
  {
    name: 'channel number above channel_max',
    open: true,
    bytes: () => channelOpen(4000),
    deviation: { kind: 'connection.close', code: 504, why: 'RabbitMQ ignores it; the spec makes channel_max the highest usable channel' },
  },
  { name: 'second channel.open on a channel', open: true, bytes: () => Buffer.concat([channelOpen(1), channelOpen(1)]) },
  { name: 'content header without a method', open: true, bytes: () => Buffer.concat([channelOpen(1), frame(2, 1, Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]) },
  { name: 'body frame without a header', open: true, bytes: () => Buffer.concat([channelOpen(1), frame(3, 1, Buffer.from('body'))]) },
  { name: 'method where a content header is due', open: true, bytes: () => Buffer.concat([channelOpen(1), publishFrame(1), publishFrame(1)]) },
  {
    name: 'body longer than its header announced',
    open: true,
    bytes: () => Buffer.concat([channelOpen(1), publishFrame(1), frame(2, 1, Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0])), frame(3, 1, Buffer.from('toolong'))]),
    deviation: { kind: 'connection.close', code: 501, why: 'RabbitMQ says nothing; a body that overruns its size is a framing error, never forwarded' },
  },
  { name: 'content header on channel 0', open: true, bytes: () => frame(2, 0, Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) },
  { name: 'basic method on channel 0', open: true, bytes: () => encodeMethodFrame(0, { name: 'basic.qos', args: { prefetchSize: 0, prefetchCount: 1, global: false } }) },
  { name: 'heartbeat on a non-zero channel', open: true, bytes: () => Buffer.concat([channelOpen(1), frame(8, 1, Buffer.alloc(0))]) },
  { name: 'server-only method from the client', open: true, bytes: () => Buffer.concat([channelOpen(1), encodeMethodFrame(1, { name: 'basic.consume-ok', args: { consumerTag: 'x' } })]) },
  { name: 'prefetch_size is not implemented', open: true, bytes: () => Buffer.concat([channelOpen(1), encodeMethodFrame(1, { name: 'basic.qos', args: { prefetchSize: 10, prefetchCount: 0, global: false } })]) },
  { name: 'unknown exchange type', open: true, bytes: () => Buffer.concat([channelOpen(1), encodeMethodFrame(1, { name: 'exchange.declare', args: { ticket: 0, exchange: 'cg-bad-type', type: 'nonsense', passive: false, durable: false, autoDelete: true, internal: false, nowait: false, arguments: {} } })]) },
  { name: 'ack of a tag never delivered', open: true, bytes: () => Buffer.concat([channelOpen(1), encodeMethodFrame(1, { name: 'basic.ack', args: { deliveryTag: 7, multiple: false } })]) },
  { name: 'immediate publish', open: true, bytes: () => Buffer.concat([channelOpen(1), encodeMethodFrame(1, { name: 'basic.publish', args: { ticket: 0, exchange: '', routingKey: 'q', mandatory: false, immediate: true } }), frame(2, 1, Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]) },
]

/** What the server did: the first close it sent (connection or channel) or its protocol header. */
interface Outcome {
  kind: string
  code?: number
}

async function outcome(port: number, c: Case): Promise<Outcome> {
  const raw = await RawAmqp.open(port)
  try {
    if (c.open) {
      const opened = await raw.handshake()
      if (opened?.method?.name !== 'connection.open-ok') return { kind: `handshake failed: ${opened?.method?.name}` }
    }
    const before = raw.events.length
    raw.send(c.bytes())
    // channel.open-ok answers the set-up part of a case, not the bad input itself.
    const isAnswer = (e: RawEvent): boolean => e.channel === -1 || (e.method !== undefined && e.method.name !== 'channel.open-ok')
    const hit = await raw.waitFor((e) => raw.events.indexOf(e) >= before && isAnswer(e), 3000)
    if (hit === undefined) return { kind: raw.closed ? 'socket closed' : 'no answer' }
    if (hit.channel === -1) return { kind: `protocol header ${hit.raw!.toString('hex')}` }
    const args = hit.method!.args as { replyCode?: number }
    return args.replyCode === undefined ? { kind: hit.method!.name } : { kind: hit.method!.name, code: args.replyCode }
  } finally {
    raw.close()
  }
}

t.test('cellgate answers bad input as RabbitMQ does', async (t) => {
  for (const c of cases) {
    const rabbit = await outcome(RABBIT_PORT, c)
    const ours = await outcome(cg.amqpPort, c)
    if (c.deviation) {
      const { why, ...expected } = c.deviation
      t.same(ours, expected, `${c.name}: cellgate ${JSON.stringify(expected)}, RabbitMQ ${JSON.stringify(rabbit)} (${why})`)
    } else {
      t.same(ours, rabbit, `${c.name}: RabbitMQ ${JSON.stringify(rabbit)}`)
    }
  }
})

t.test('random bytes after the handshake: cellgate stays up and others are unaffected', async (t) => {
  // A neighbour connection with a live channel, checked after the storm.
  const neighbour = await connect(cg.url)
  const ch = await neighbour.createChannel()
  let seed = 0x5eed
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  let closedByServer = 0
  for (let i = 0; i < 60; i++) {
    const raw = await RawAmqp.open(cg.amqpPort)
    await raw.handshake()
    const len = 1 + Math.floor(rnd() * 300)
    const junk = Buffer.alloc(len)
    for (let j = 0; j < len; j++) junk[j] = Math.floor(rnd() * 256)
    // Half the time make it look like a frame so the parser goes deeper than the type byte.
    if (i % 2 === 0 && len > 8) {
      junk[0] = 1 + (i % 3)
      junk.writeUInt32BE(len - 8, 3)
      junk[len - 1] = FRAME_END
    }
    raw.send(junk)
    const hit = await raw.waitFor((e) => e.method?.name === 'connection.close' || e.method?.name === 'channel.close', 500)
    if (hit !== undefined || raw.closed) closedByServer++
    raw.close()
  }
  t.ok(closedByServer > 30, `the server answered ${closedByServer} of 60 junk inputs with a close`)
  const q = await ch.assertQueue('', { exclusive: true })
  t.match(q.queue, /^amq\.gen-/, 'the neighbour connection still works')
  await neighbour.close()
  const again = await RawAmqp.open(cg.amqpPort)
  const opened = await again.handshake()
  again.close()
  t.equal(opened?.method?.name, 'connection.open-ok', 'new connections are still accepted')
})

t.test('a client that stalls in the handshake is dropped after 10 s, as RabbitMQ does', async (t) => {
  const raw = await RawAmqp.open(cg.amqpPort)
  raw.send(PROTOCOL_HEADER)
  t.ok(await raw.waitMethod('connection.start'))
  const started = Date.now()
  await raw.waitFor(() => false, 12_000)
  t.ok(raw.closed, `closed after ${Date.now() - started} ms`)
  raw.close()
})

t.end()
