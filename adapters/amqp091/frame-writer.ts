/**
 * Outbound framing that is not a method: heartbeats, the protocol header, and message content
 * (a header frame followed by body frames cut to frame_max).
 *
 * Content comes back as a list of Buffers to write in order, inside one socket.cork()/uncork().
 * Small bodies are copied into a single Buffer together with their header frame, because one
 * write costs more than copying a few KiB; larger bodies are never copied: the list interleaves
 * views of the body with the framing bytes, which all share one small allocation.
 */
import { encodeHeaderFrame, FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, type BasicProperties } from './methods.generated.js'

/** type, channel (0), size (0), frame-end. */
export const HEARTBEAT_FRAME: Buffer = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END])

/** "AMQP" 0 0 9 1: what a 0-9-1 client sends first, and what a server answers to a header it refuses. */
export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])

/** Bodies up to this size are copied next to their framing instead of written as a separate view. */
export const COPY_BODY_MAX = 4096

const FRAME_HEADER_SIZE = 7
const FRAME_OVERHEAD = 8

/**
 * The body frames for `body`, each at most frameMax bytes (envelope included). Returns no frames
 * for an empty body.
 */
export function encodeBodyFrames(channel: number, body: Buffer, frameMax: number): Buffer[] {
  const out: Buffer[] = []
  const maxPayload = maxBodyPerFrame(frameMax)
  if (body.length === 0) return out
  if (body.length <= COPY_BODY_MAX && body.length <= maxPayload) {
    const frame = Buffer.allocUnsafe(body.length + FRAME_OVERHEAD)
    writeSmallBodyFrame(frame, 0, channel, body)
    out.push(frame)
    return out
  }
  pushBodyViews(out, Buffer.allocUnsafe(framingSize(body.length, maxPayload)), 0, channel, body, maxPayload)
  return out
}

/**
 * A content header frame followed by its body frames. `classId` is the method's class (60,
 * basic: the only class with content).
 */
export function encodeContent(
  channel: number,
  classId: number,
  props: BasicProperties,
  body: Buffer,
  frameMax: number,
): Buffer[] {
  const maxPayload = maxBodyPerFrame(frameMax)
  if (body.length === 0) return [encodeHeaderFrame(channel, classId, 0, props)]
  if (body.length <= COPY_BODY_MAX && body.length <= maxPayload) {
    // Header frame and the single body frame in one Buffer, one write.
    const frames = encodeHeaderFrame(channel, classId, body.length, props, body.length + FRAME_OVERHEAD)
    writeSmallBodyFrame(frames, frames.length - body.length - FRAME_OVERHEAD, channel, body)
    return [frames]
  }
  // The header frame carries the framing of every body frame as tailroom; the body goes as views.
  const framing = framingSize(body.length, maxPayload)
  const head = encodeHeaderFrame(channel, classId, body.length, props, framing)
  const out: Buffer[] = []
  pushBodyViews(out, head, head.length - framing, channel, body, maxPayload)
  return out
}

/**
 * encodeContent for a content header that is already encoded: `header` is a header frame's
 * payload as another peer sent it (class, weight, body size, flags, properties), framed here
 * for `channel`. Passing a broker's header on this way skips decoding-then-encoding properties.
 */
export function encodeRawContent(channel: number, header: Buffer, body: Buffer, frameMax: number): Buffer[] {
  const maxPayload = maxBodyPerFrame(frameMax)
  const headerFrame = header.length + FRAME_OVERHEAD
  if (body.length === 0) return [frameAround(FRAME_HEADER, channel, header, 0)]
  if (body.length <= COPY_BODY_MAX && body.length <= maxPayload) {
    const frames = frameAround(FRAME_HEADER, channel, header, body.length + FRAME_OVERHEAD)
    writeSmallBodyFrame(frames, headerFrame, channel, body)
    return [frames]
  }
  const framing = framingSize(body.length, maxPayload)
  const head = frameAround(FRAME_HEADER, channel, header, framing)
  const out: Buffer[] = []
  pushBodyViews(out, head, headerFrame, channel, body, maxPayload)
  return out
}

/** One frame of `type` around `payload`, with `tailroom` unwritten bytes after its frame-end. */
function frameAround(type: number, channel: number, payload: Buffer, tailroom: number): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + FRAME_OVERHEAD + tailroom)
  frame[0] = type
  frame.writeUInt16BE(channel, 1)
  frame.writeUInt32BE(payload.length, 3)
  payload.copy(frame, FRAME_HEADER_SIZE)
  frame[FRAME_HEADER_SIZE + payload.length] = FRAME_END
  return frame
}

function maxBodyPerFrame(frameMax: number): number {
  if (!(Number.isInteger(frameMax) && frameMax > FRAME_OVERHEAD)) {
    throw new RangeError(`frameMax must be an integer > 8, got ${frameMax}`)
  }
  return frameMax - FRAME_OVERHEAD
}

function writeSmallBodyFrame(frame: Buffer, at: number, channel: number, body: Buffer): void {
  writeBodyFrameHeader(frame, at, channel, body.length)
  body.copy(frame, at + FRAME_HEADER_SIZE)
  frame[at + FRAME_HEADER_SIZE + body.length] = FRAME_END
}

function writeBodyFrameHeader(buf: Buffer, at: number, channel: number, size: number): void {
  buf[at] = FRAME_BODY
  buf.writeUInt16BE(channel, at + 1)
  buf.writeUInt32BE(size, at + 3)
}

/** Bytes of framing around `bodySize` bytes cut into frames: a 7-byte header and 1 end octet each. */
function framingSize(bodySize: number, maxPayload: number): number {
  return Math.ceil(bodySize / maxPayload) * FRAME_OVERHEAD
}

/**
 * Appends to `out`: framing[0..first header], body slice, end octet + next header, body slice, ...,
 * final end octet. `framing` holds everything up to `at` (e.g. the header frame), then the framing
 * bytes, which are written here; `at` must leave framingSize() bytes.
 */
function pushBodyViews(out: Buffer[], framing: Buffer, at: number, channel: number, body: Buffer, maxPayload: number): void {
  let start = 0
  let cut = 0 // where the framing not yet pushed begins
  let o = at
  while (start < body.length) {
    const size = Math.min(maxPayload, body.length - start)
    if (start > 0) framing[o++] = FRAME_END
    writeBodyFrameHeader(framing, o, channel, size)
    o += FRAME_HEADER_SIZE
    out.push(framing.subarray(cut, o), body.subarray(start, start + size))
    cut = o
    start += size
  }
  framing[o++] = FRAME_END
  out.push(framing.subarray(cut, o))
}
