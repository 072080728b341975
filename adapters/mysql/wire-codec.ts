/**
 * Reading and writing the protocol's primitive types (fixed little-endian integers,
 * length-encoded integers and strings, NUL-terminated strings) over packet payloads.
 *
 * PayloadReader throws ProtocolDecodeError on truncated input: every caller decodes a packet
 * that came from a peer, and a short packet must end in an ERR reply, never a crash.
 */

export class ProtocolDecodeError extends Error {}

export class PayloadReader {
  pos: number
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolDecodeError(`packet truncated: need ${n} bytes at offset ${this.pos}`)
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++]!
  }

  u16(): number {
    this.need(2)
    const v = this.buf.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }

  u24(): number {
    this.need(3)
    const v = this.buf.readUIntLE(this.pos, 3)
    this.pos += 3
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  /**
   * A length-encoded integer. Values above 2^53 lose precision; the protocol only uses such
   * values for affected rows / insert ids, which cellgate forwards as bytes and never re-encodes.
   * Returns null for the 0xFB NULL marker (only meaningful in text rows).
   */
  lenencOrNull(): number | null {
    const first = this.u8()
    if (first < 0xfb) return first
    if (first === 0xfb) return null
    if (first === 0xfc) return this.u16()
    if (first === 0xfd) return this.u24()
    if (first === 0xfe) {
      this.need(8)
      const lo = this.buf.readUInt32LE(this.pos)
      const hi = this.buf.readUInt32LE(this.pos + 4)
      this.pos += 8
      return hi * 0x1_0000_0000 + lo
    }
    throw new ProtocolDecodeError('0xff is not a length-encoded integer')
  }

  lenenc(): number {
    const v = this.lenencOrNull()
    if (v === null) throw new ProtocolDecodeError('unexpected NULL length-encoded integer')
    return v
  }

  bytes(n: number): Buffer {
    this.need(n)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc())
  }

  /** Up to the next NUL (consumed, not returned); the rest of the packet if there is none. */
  nulBytes(): Buffer {
    const end = this.buf.indexOf(0, this.pos)
    const stop = end < 0 ? this.buf.length : end
    const v = this.buf.subarray(this.pos, stop)
    this.pos = end < 0 ? stop : stop + 1
    return v
  }

  nulString(): string {
    return this.nulBytes().toString('utf8')
  }

  rest(): Buffer {
    const v = this.buf.subarray(this.pos)
    this.pos = this.buf.length
    return v
  }
}

export function lenencIntBytes(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n])
  if (n <= 0xffff) {
    const b = Buffer.alloc(3)
    b[0] = 0xfc
    b.writeUInt16LE(n, 1)
    return b
  }
  if (n <= 0xffffff) {
    const b = Buffer.alloc(4)
    b[0] = 0xfd
    b.writeUIntLE(n, 1, 3)
    return b
  }
  const b = Buffer.alloc(9)
  b[0] = 0xfe
  b.writeUInt32LE(n % 0x1_0000_0000, 1)
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 5)
  return b
}

/** A growable payload builder; packets built locally are small, so simplicity beats speed here. */
export class PayloadBuilder {
  private readonly parts: Buffer[] = []

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]))
    return this
  }

  u16(v: number): this {
    const b = Buffer.alloc(2)
    b.writeUInt16LE(v)
    this.parts.push(b)
    return this
  }

  u32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v >>> 0)
    this.parts.push(b)
    return this
  }

  lenenc(v: number): this {
    this.parts.push(lenencIntBytes(v))
    return this
  }

  bytes(b: Buffer | Uint8Array): this {
    this.parts.push(Buffer.from(b))
    return this
  }

  lenencBytes(b: Buffer): this {
    return this.lenenc(b.length).bytes(b)
  }

  str(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'))
  }

  nulStr(s: string): this {
    return this.str(s).u8(0)
  }

  zeros(n: number): this {
    this.parts.push(Buffer.alloc(n))
    return this
  }

  build(): Buffer {
    return Buffer.concat(this.parts)
  }
}
