/**
 * Splits an AMQP 0-9-1 byte stream into frames. No decoding beyond the frame envelope and no I/O:
 * the connection pushes socket chunks in and receives frames through a FrameSink.
 *
 *   frame: type (octet) | channel (short) | size (long) | payload (size octets) | 0xCE
 *
 *   PROTOCOL_HEADER --8 bytes--> FRAME_HEADER --7 bytes, rest of frame still to come--> FRAME_PAYLOAD
 *   (only if expected)            |   ^      ^                                             |
 *                                 +---+      +------------ size + 1 bytes -----------------+
 *                     whole frame already in the chunk: delivered as a view
 *
 *   oversized frame or bad frame-end, from either frame state --> STOPPED (onFrameError, input ignored)
 *
 * Payloads are subarray views of the pushed chunk when the frame lies in one chunk; a frame that
 * straddles chunks is copied once into a buffer of its exact size. Neither is reused, so payloads
 * stay valid after onFrame returns.
 */
import { FRAME_END, ReplyCode } from './methods.generated.js'

export interface FrameSink {
  /** Called once, first, when expectProtocolHeader is set; header is the 8 bytes received. */
  onProtocolHeader(header: Buffer): void
  /** payload is a view that stays valid after the call (never reused by the parser). */
  onFrame(type: number, channel: number, payload: Buffer): void
  /**
   * Framing is broken: code is 501 FRAME_ERROR (bad frame-end octet, frame larger than
   * maxFrameSize); the parser stops delivering after this.
   */
  onFrameError(code: number, message: string): void
}

export interface FrameParserOptions {
  /** Largest acceptable frame, envelope included (the negotiated frame_max); at least 8. */
  maxFrameSize: number
  /** Expect the 8-byte protocol header before the first frame (server side of a connection). */
  expectProtocolHeader: boolean
}

const State = {
  PROTOCOL_HEADER: 0,
  FRAME_HEADER: 1,
  FRAME_PAYLOAD: 2,
  STOPPED: 3,
} as const
type State = (typeof State)[keyof typeof State]

const PROTOCOL_HEADER_SIZE = 8
const FRAME_HEADER_SIZE = 7
/** Header plus frame-end octet: what a frame adds to its payload. */
const FRAME_OVERHEAD = 8
const EMPTY = Buffer.alloc(0)

/**
 * Callbacks fire synchronously inside push(). The sink may call setMaxFrameSize() from onFrame
 * (tune-ok); it must not call push() re-entrantly, and must not throw.
 */
export class FrameParser {
  private readonly sink: FrameSink
  private maxFrameSize: number
  private state: State
  /** Bytes of a protocol or frame header that straddles chunks. */
  private readonly headerScratch = Buffer.alloc(PROTOCOL_HEADER_SIZE)
  private headerFill = 0
  // The frame being assembled across chunks (state FRAME_PAYLOAD).
  private frameType = 0
  private frameChannel = 0
  /** Payload plus frame-end octet. */
  private frameBuffer: Buffer = EMPTY
  private frameFill = 0

  constructor(sink: FrameSink, opts: FrameParserOptions) {
    this.sink = sink
    this.maxFrameSize = checkedMaxFrameSize(opts.maxFrameSize)
    this.state = opts.expectProtocolHeader ? State.PROTOCOL_HEADER : State.FRAME_HEADER
  }

  /** Applies to frames whose header has not been read yet (call it after tune-ok). */
  setMaxFrameSize(n: number): void {
    this.maxFrameSize = checkedMaxFrameSize(n)
  }

  push(chunk: Buffer): void {
    let pos = 0
    const end = chunk.length
    while (pos < end) {
      switch (this.state) {
        case State.PROTOCOL_HEADER:
          pos = this.readProtocolHeader(chunk, pos)
          break
        case State.FRAME_HEADER:
          pos = this.readFrame(chunk, pos)
          break
        case State.FRAME_PAYLOAD:
          pos = this.continueFrame(chunk, pos)
          break
        case State.STOPPED:
          return
      }
    }
  }

  private readProtocolHeader(chunk: Buffer, pos: number): number {
    let header: Buffer
    let next: number
    if (this.headerFill === 0 && chunk.length - pos >= PROTOCOL_HEADER_SIZE) {
      next = pos + PROTOCOL_HEADER_SIZE
      header = chunk.subarray(pos, next)
    } else {
      next = this.fillHeader(chunk, pos, PROTOCOL_HEADER_SIZE)
      if (this.headerFill < PROTOCOL_HEADER_SIZE) return next
      // A copy, since the scratch buffer is reused for frame headers.
      header = Buffer.from(this.headerScratch)
      this.headerFill = 0
    }
    this.state = State.FRAME_HEADER
    this.sink.onProtocolHeader(header)
    return next
  }

  /** Reads a frame header; delivers the frame at once if the chunk holds all of it. */
  private readFrame(chunk: Buffer, pos: number): number {
    let type: number
    let channel: number
    let size: number
    if (this.headerFill === 0 && chunk.length - pos >= FRAME_HEADER_SIZE) {
      type = chunk[pos]!
      channel = chunk.readUInt16BE(pos + 1)
      size = chunk.readUInt32BE(pos + 3)
      pos += FRAME_HEADER_SIZE
    } else {
      pos = this.fillHeader(chunk, pos, FRAME_HEADER_SIZE)
      if (this.headerFill < FRAME_HEADER_SIZE) return pos
      this.headerFill = 0
      type = this.headerScratch[0]!
      channel = this.headerScratch.readUInt16BE(1)
      size = this.headerScratch.readUInt32BE(3)
    }
    if (size + FRAME_OVERHEAD > this.maxFrameSize) {
      this.fail(`frame of ${size + FRAME_OVERHEAD} bytes exceeds frame_max ${this.maxFrameSize}`)
      return chunk.length
    }
    const frameEnd = pos + size
    if (frameEnd < chunk.length) {
      // The common case: the whole frame is in this chunk, deliver a view.
      if (chunk[frameEnd] !== FRAME_END) {
        this.fail(`frame-end octet is 0x${chunk[frameEnd]!.toString(16)}, expected 0xce`)
        return chunk.length
      }
      this.sink.onFrame(type, channel, chunk.subarray(pos, frameEnd))
      return frameEnd + 1
    }
    this.frameType = type
    this.frameChannel = channel
    this.frameBuffer = Buffer.allocUnsafe(size + 1)
    this.frameFill = chunk.copy(this.frameBuffer, 0, pos)
    this.state = State.FRAME_PAYLOAD
    return chunk.length
  }

  /** Copies more of a frame that straddles chunks; delivers it once complete. */
  private continueFrame(chunk: Buffer, pos: number): number {
    const buffer = this.frameBuffer
    const copied = chunk.copy(buffer, this.frameFill, pos, pos + buffer.length - this.frameFill)
    this.frameFill += copied
    if (this.frameFill < buffer.length) return pos + copied
    const size = buffer.length - 1
    this.frameBuffer = EMPTY
    if (buffer[size] !== FRAME_END) {
      this.fail(`frame-end octet is 0x${buffer[size]!.toString(16)}, expected 0xce`)
      return chunk.length
    }
    this.state = State.FRAME_HEADER
    this.sink.onFrame(this.frameType, this.frameChannel, buffer.subarray(0, size))
    return pos + copied
  }

  /** Accumulates header bytes in the scratch buffer until it holds `size`. */
  private fillHeader(chunk: Buffer, pos: number, size: number): number {
    const copied = chunk.copy(this.headerScratch, this.headerFill, pos, pos + size - this.headerFill)
    this.headerFill += copied
    return pos + copied
  }

  private fail(message: string): void {
    this.state = State.STOPPED
    this.frameBuffer = EMPTY
    this.sink.onFrameError(ReplyCode.FRAME_ERROR, message)
  }
}

function checkedMaxFrameSize(n: number): number {
  // 0 ("no limit" in tune) must be resolved by the connection: an unbounded size would let a
  // peer make us allocate up to 4 GiB for one frame.
  if (!(Number.isInteger(n) && n >= FRAME_OVERHEAD)) throw new RangeError(`maxFrameSize must be an integer >= 8, got ${n}`)
  return n
}
