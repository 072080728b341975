/**
 * Splits a MySQL protocol byte stream into logical packets. No decoding beyond the envelope and
 * no I/O: the owner pushes socket chunks in and receives packets through a PacketSink. Used for
 * both directions (client → cellgate and backend → cellgate).
 *
 *   physical packet: length (3 bytes LE) | sequence id (1 byte) | payload (length bytes)
 *
 * A payload of exactly 0xFFFFFF bytes continues in the next physical packet (whose sequence id
 * must be the next one); the logical packet ends with the first shorter payload, possibly empty.
 * The parser joins them, so the sink sees one payload per logical packet along with the sequence
 * id of its first and last physical packet (replies must continue after the last).
 *
 * A logical packet larger than maxPacketSize, or a broken sequence inside a split packet, stops
 * the parser (onPacketError) before any of it is buffered: a peer cannot make us allocate more
 * than the limit.
 */
import { MAX_PAYLOAD } from './protocol.js'

export interface PacketSink {
  /**
   * payload is a view or copy that stays valid after the call. `framed`, when given, is the same
   * packet with its 4-byte header, as one view of the chunk it arrived in (a packet that was not
   * split and did not straddle chunks): a relay can send it on without framing it anew.
   */
  onPacket(payload: Buffer, firstSeq: number, lastSeq: number, framed?: Buffer): void
  /** Framing is broken or a packet is too large; nothing more is delivered after this. */
  onPacketError(kind: 'too-large' | 'sequence', message: string): void
}

const HEADER = 4
const EMPTY = Buffer.alloc(0)

export class PacketParser {
  private readonly header = Buffer.alloc(HEADER)
  private headerFill = 0
  /** Physical payload being read (only when it straddles chunks). */
  private current: Buffer = EMPTY
  private currentFill = 0
  private currentSeq = 0
  private reading = false
  /** Earlier parts of a split logical packet. */
  private parts: Buffer[] = []
  private partsSize = 0
  private firstSeq = 0
  private stopped = false
  private detached = false
  private lastPartSeq = 0
  /** Bytes after the packet during which detach() was called (see detach). */
  leftover: Buffer = EMPTY

  constructor(
    private readonly sink: PacketSink,
    private maxPacketSize: number,
  ) {}

  setMaxPacketSize(n: number): void {
    this.maxPacketSize = n
  }

  /** True while part of a packet is buffered (a peer that closes now closed mid-packet). */
  get midPacket(): boolean {
    return this.headerFill > 0 || this.reading || this.parts.length > 0
  }

  /**
   * Stops parsing right after the packet being delivered (call it from onPacket); the rest of
   * that chunk is kept in `leftover`. For the SSLRequest: what follows it is a TLS ClientHello,
   * not packets, and may arrive in the same TCP segment.
   */
  detach(): void {
    this.stopped = true
    this.detached = true
  }

  push(chunk: Buffer): void {
    let pos = 0
    while (pos < chunk.length) {
      if (this.stopped) {
        if (this.detached) this.leftover = Buffer.concat([this.leftover, chunk.subarray(pos)])
        return
      }
      if (!this.reading) {
        // Fast path: the whole header and the whole physical payload are in this chunk.
        if (this.headerFill === 0 && chunk.length - pos >= HEADER) {
          const len = chunk.readUIntLE(pos, 3)
          const seq = chunk[pos + 3]!
          if (!this.startPhysical(len, seq)) return
          pos += HEADER
          if (chunk.length - pos >= len) {
            if (len < MAX_PAYLOAD && this.parts.length === 0) {
              this.sink.onPacket(chunk.subarray(pos, pos + len), seq, seq, chunk.subarray(pos - HEADER, pos + len))
              pos += len
              continue
            }
            this.completePhysical(chunk.subarray(pos, pos + len), seq, len)
            pos += len
            continue
          }
          this.beginStraddle(len, seq)
          continue
        }
        const take = Math.min(HEADER - this.headerFill, chunk.length - pos)
        chunk.copy(this.header, this.headerFill, pos, pos + take)
        this.headerFill += take
        pos += take
        if (this.headerFill < HEADER) return
        this.headerFill = 0
        const len = this.header.readUIntLE(0, 3)
        const seq = this.header[3]!
        if (!this.startPhysical(len, seq)) return
        if (len === 0) {
          this.completePhysical(EMPTY, seq, 0)
          continue
        }
        this.beginStraddle(len, seq)
        continue
      }
      const copied = chunk.copy(this.current, this.currentFill, pos, pos + this.current.length - this.currentFill)
      this.currentFill += copied
      pos += copied
      if (this.currentFill === this.current.length) {
        const payload = this.current
        this.reading = false
        this.current = EMPTY
        this.completePhysical(payload, this.currentSeq, payload.length)
      }
    }
  }

  /** Checks a physical header against the limit and the split-packet sequence. */
  private startPhysical(len: number, seq: number): boolean {
    if (this.parts.length > 0 && seq !== ((this.lastPartSeq + 1) & 0xff)) {
      this.fail('sequence', `split packet continued with sequence id ${seq}, expected ${(this.lastPartSeq + 1) & 0xff}`)
      return false
    }
    if (this.partsSize + len > this.maxPacketSize) {
      this.fail('too-large', `packet of at least ${this.partsSize + len} bytes exceeds the limit of ${this.maxPacketSize}`)
      return false
    }
    return true
  }

  private beginStraddle(len: number, seq: number): void {
    this.current = Buffer.allocUnsafe(len)
    this.currentFill = 0
    this.currentSeq = seq
    this.reading = true
  }

  private completePhysical(payload: Buffer, seq: number, len: number): void {
    if (len === MAX_PAYLOAD) {
      if (this.parts.length === 0) this.firstSeq = seq
      // Views of a chunk would be fine, but chunks may be reused by nobody; still copy so the
      // parts of a 16 MiB+ packet do not pin many socket chunks.
      this.parts.push(Buffer.from(payload))
      this.partsSize += len
      this.lastPartSeq = seq
      return
    }
    if (this.parts.length === 0) {
      this.sink.onPacket(payload, seq, seq)
      return
    }
    this.parts.push(payload)
    const whole = Buffer.concat(this.parts, this.partsSize + len)
    const first = this.firstSeq
    this.parts = []
    this.partsSize = 0
    this.sink.onPacket(whole, first, seq)
  }

  private fail(kind: 'too-large' | 'sequence', message: string): void {
    this.stopped = true
    this.parts = []
    this.current = EMPTY
    this.sink.onPacketError(kind, message)
  }
}
