// FrameParser fed whole, split at every offset and byte by byte; frame-writer output read back.
import t from 'tap'
import { FrameParser, type FrameSink } from '../../adapters/amqp091/frame-parser.js'
import {
  COPY_BODY_MAX,
  encodeBodyFrames,
  encodeContent,
  encodeRawContent,
  HEARTBEAT_FRAME,
  PROTOCOL_HEADER,
} from '../../adapters/amqp091/frame-writer.js'
import {
  decodeContentHeader,
  encodeMethodFrame,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
} from '../../adapters/amqp091/methods.generated.js'

type Event =
  | { kind: 'protocol-header'; header: Buffer }
  | { kind: 'frame'; type: number; channel: number; payload: Buffer }
  | { kind: 'error'; code: number; message: string }

/** Records what the parser reports; payloads are kept as given, to prove they stay valid. */
class Recorder implements FrameSink {
  events: Event[] = []
  onProtocolHeader(header: Buffer): void {
    this.events.push({ kind: 'protocol-header', header })
  }
  onFrame(type: number, channel: number, payload: Buffer): void {
    this.events.push({ kind: 'frame', type, channel, payload })
  }
  onFrameError(code: number, message: string): void {
    this.events.push({ kind: 'error', code, message })
  }
}

function parse(chunks: Buffer[], opts = { maxFrameSize: 4096, expectProtocolHeader: true }): Event[] {
  const sink = new Recorder()
  const parser = new FrameParser(sink, opts)
  for (const chunk of chunks) parser.push(chunk)
  return sink.events
}

function rawFrame(type: number, channel: number, payload: Buffer, end = 0xce): Buffer {
  const f = Buffer.alloc(payload.length + 8)
  f[0] = type
  f.writeUInt16BE(channel, 1)
  f.writeUInt32BE(payload.length, 3)
  payload.copy(f, 7)
  f[f.length - 1] = end
  return f
}

const body = Buffer.from('x'.repeat(60) + 'y'.repeat(40))
const publish = encodeMethodFrame(5, {
  name: 'basic.publish',
  args: { ticket: 0, exchange: 'nova', routingKey: 'compute.host1', mandatory: false, immediate: false },
})
// frameMax 58 leaves 50 payload bytes per body frame: the 100-byte body takes exactly 2 frames.
const content = Buffer.concat(encodeContent(5, 60, { contentType: 'application/json', deliveryMode: 2 }, body, 58))
const stream = Buffer.concat([PROTOCOL_HEADER, publish, content, HEARTBEAT_FRAME])

const expected: Event[] = [
  { kind: 'protocol-header', header: PROTOCOL_HEADER },
  { kind: 'frame', type: FRAME_METHOD, channel: 5, payload: publish.subarray(7, -1) },
  { kind: 'frame', type: FRAME_HEADER, channel: 5, payload: content.subarray(7, content.length - 2 * 58 - 1) },
  { kind: 'frame', type: FRAME_BODY, channel: 5, payload: body.subarray(0, 50) },
  { kind: 'frame', type: FRAME_BODY, channel: 5, payload: body.subarray(50) },
  { kind: 'frame', type: FRAME_HEARTBEAT, channel: 0, payload: Buffer.alloc(0) },
]

t.test('a stream fed whole', async (t) => {
  t.strictSame(parse([stream]), expected)
})

t.test('a stream split at every offset', async (t) => {
  for (let cut = 0; cut <= stream.length; cut++) {
    t.strictSame(parse([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`)
  }
})

t.test('a stream fed byte by byte', async (t) => {
  const bytes = Array.from(stream, (b) => Buffer.from([b]))
  t.strictSame(parse(bytes), expected)
})

t.test('payloads stay valid after later pushes', async (t) => {
  const sink = new Recorder()
  const parser = new FrameParser(sink, { maxFrameSize: 4096, expectProtocolHeader: true })
  // Fresh chunks of three bytes each, as a socket would hand them over.
  for (let i = 0; i < stream.length; i += 3) parser.push(Buffer.from(stream.subarray(i, i + 3)))
  t.strictSame(sink.events, expected)
})

t.test('content header in the stream decodes', async (t) => {
  const events = parse([stream])
  const header = events[2]
  if (header?.kind !== 'frame') throw new Error('expected a frame')
  t.match(decodeContentHeader(header.payload), { bodySize: 100, properties: { contentType: 'application/json', deliveryMode: 2 } })
})

t.test('oversized frame is a 501 before its payload arrives', async (t) => {
  const big = rawFrame(FRAME_BODY, 1, Buffer.alloc(4089))
  const events = parse([big.subarray(0, 7)], { maxFrameSize: 4096, expectProtocolHeader: false })
  t.equal(events.length, 1)
  t.match(events[0], { kind: 'error', code: 501 })
  t.strictSame(parse([rawFrame(FRAME_BODY, 1, Buffer.alloc(4088))], { maxFrameSize: 4096, expectProtocolHeader: false }), [
    { kind: 'frame', type: FRAME_BODY, channel: 1, payload: Buffer.alloc(4088) },
  ], 'a frame of exactly maxFrameSize is fine')
})

t.test('bad frame-end octet is a 501, and nothing is delivered after it', async (t) => {
  const bad = rawFrame(FRAME_METHOD, 1, Buffer.from([0, 10, 0, 11]), 0x00)
  const good = rawFrame(FRAME_HEARTBEAT, 0, Buffer.alloc(0))
  const opts = { maxFrameSize: 4096, expectProtocolHeader: false }
  for (const chunks of [[Buffer.concat([bad, good])], [bad.subarray(0, 9), Buffer.concat([bad.subarray(9), good])]]) {
    const events = parse([...chunks, good], opts)
    t.equal(events.length, 1, 'later input is ignored')
    t.match(events[0], { kind: 'error', code: 501, message: /frame-end/ })
  }
})

t.test('protocol header', async (t) => {
  const heartbeat = { kind: 'frame', type: FRAME_HEARTBEAT, channel: 0, payload: Buffer.alloc(0) }
  t.strictSame(parse([PROTOCOL_HEADER.subarray(0, 3), Buffer.concat([PROTOCOL_HEADER.subarray(3), HEARTBEAT_FRAME])]), [
    { kind: 'protocol-header', header: PROTOCOL_HEADER },
    heartbeat,
  ])
  const http = Buffer.from('GET / HTTP/1.1\r\n')
  t.strictSame(parse([http.subarray(0, 8)]), [{ kind: 'protocol-header', header: http.subarray(0, 8) }], 'delivered even when wrong')
  t.strictSame(parse([HEARTBEAT_FRAME], { maxFrameSize: 4096, expectProtocolHeader: false }), [heartbeat], 'not expected')
  t.strictSame(parse([PROTOCOL_HEADER.subarray(0, 7)]), [], 'waits for all 8 bytes')
})

t.test('unknown frame types are passed through', async (t) => {
  const odd = rawFrame(42, 9, Buffer.from('hi'))
  t.strictSame(parse([odd], { maxFrameSize: 4096, expectProtocolHeader: false }), [
    { kind: 'frame', type: 42, channel: 9, payload: Buffer.from('hi') },
  ])
})

t.test('setMaxFrameSize from inside onFrame applies to the next frame', async (t) => {
  const sink = new Recorder()
  const parser = new FrameParser(
    {
      onProtocolHeader: (h) => sink.onProtocolHeader(h),
      onFrame: (type, channel, payload) => {
        sink.onFrame(type, channel, payload)
        parser.setMaxFrameSize(131072)
      },
      onFrameError: (code, message) => sink.onFrameError(code, message),
    },
    { maxFrameSize: 4096, expectProtocolHeader: false },
  )
  parser.push(Buffer.concat([HEARTBEAT_FRAME, rawFrame(FRAME_BODY, 1, Buffer.alloc(10000))]))
  t.equal(sink.events.length, 2)
  t.match(sink.events[1], { kind: 'frame', type: FRAME_BODY })
  t.throws(() => parser.setMaxFrameSize(0), RangeError, '0 (no limit) must be resolved by the caller')
})

t.test('frame writer', async (t) => {
  t.equal(HEARTBEAT_FRAME.toString('hex'), '08000000000000ce')
  t.equal(PROTOCOL_HEADER.toString('latin1'), 'AMQP\u0000\u0000\u0009\u0001')
  t.strictSame(encodeBodyFrames(1, Buffer.alloc(0), 4096), [])
  t.strictSame(encodeContent(1, 60, {}, Buffer.alloc(0), 4096).length, 1, 'empty body: header frame only')

  const sizes = [1, 50, 51, 100, 101, COPY_BODY_MAX, COPY_BODY_MAX + 1, 3 * 4088, 3 * 4088 + 1]
  for (const size of sizes) {
    const payload = Buffer.alloc(size, 0x61)
    for (const frameMax of [58, 4096]) {
      const chunks = encodeBodyFrames(3, payload, frameMax)
      const events = parse(chunks, { maxFrameSize: frameMax, expectProtocolHeader: false })
      t.ok(events.every((e) => e.kind === 'frame' && e.type === FRAME_BODY && e.channel === 3), `${size}/${frameMax}: body frames`)
      t.equal(events.length, Math.ceil(size / (frameMax - 8)))
      const joined = Buffer.concat(events.map((e) => (e.kind === 'frame' ? e.payload : Buffer.alloc(0))))
      t.ok(joined.equals(payload), `${size}/${frameMax}: body reassembles`)

      const withHeader = parse(encodeContent(3, 60, { messageId: 'm' }, payload, frameMax), {
        maxFrameSize: frameMax,
        expectProtocolHeader: false,
      })
      t.equal(withHeader.length, events.length + 1)
      const head = withHeader[0]
      t.ok(head?.kind === 'frame' && decodeContentHeader(head.payload).bodySize === size, 'header announces the size')
    }
  }

  t.throws(() => encodeBodyFrames(1, Buffer.alloc(1), 8), RangeError, 'frameMax leaves no room for a body')
  t.throws(() => encodeContent(1, 60, {}, Buffer.alloc(1), 0), RangeError, 'frameMax 0 must be resolved by the caller')

  const large = Buffer.alloc(COPY_BODY_MAX * 3, 0x62)
  const views = encodeBodyFrames(1, large, 4096).filter((c) => c.buffer === large.buffer)
  t.equal(views.length, Math.ceil(large.length / 4088), 'large bodies go out as views, not copies')
})

t.test('a content header passed on as received frames exactly like one encoded from its properties', async (t) => {
  const props = { contentType: 'application/json', contentEncoding: 'utf-8', headers: { traceparent: '00-ab-cd-01', n: 7 }, deliveryMode: 2, priority: 0, correlationId: 'c1', replyTo: 'reply_x', expiration: '60000' }
  for (const size of [0, 1, 100, COPY_BODY_MAX, COPY_BODY_MAX + 1, 3 * 4088 + 1]) {
    const body = Buffer.alloc(size, 0x63)
    for (const frameMax of [4096, 131072]) {
      const encoded = Buffer.concat(encodeContent(9, 60, props, body, frameMax))
      // The payload of the header frame another peer sent: what a broker delivery carries.
      const received = parse([encoded], { maxFrameSize: frameMax, expectProtocolHeader: false })[0]
      if (received?.kind !== 'frame') throw new Error('no header frame')
      // Re-framed for another channel, as the front end does for the client.
      const raw = Buffer.concat(encodeRawContent(12, received.payload, body, frameMax))
      t.ok(raw.equals(Buffer.concat(encodeContent(12, 60, props, body, frameMax))), `${size} B, frame_max ${frameMax}: byte for byte`)
    }
  }
  const big = Buffer.alloc(COPY_BODY_MAX * 3, 0x64)
  const header = encodeContent(1, 60, {}, Buffer.alloc(0), 4096)[0]!.subarray(7, -1)
  t.ok(encodeRawContent(1, header, big, 4096).some((c) => c.buffer === big.buffer), 'large bodies still go out as views')
})
