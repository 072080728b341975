import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base'

/**
 * Most messages start no trace at 1 % sampling, yet asking the SDK costs a trace id, a span id,
 * their hex strings and a non-recording span per message (µs on the hot path). This draws the
 * trace id as four random words first and applies TraceIdRatioBased's own test to them
 * (XOR of the four 32-bit words below floor(p · 0xffffffff), or always at p = 1); only a trace id
 * that passes is turned into hex and handed to the SDK through the id generator, whose
 * ParentBased(TraceIdRatioBased(p)) sampler then reaches the same decision on it.
 */
export class RootSampling implements IdGenerator {
  private readonly random = new RandomIdGenerator()
  private readonly bound: number
  private primed: string | undefined
  private readonly buf = Buffer.alloc(16)

  constructor(ratio: number) {
    this.bound = ratio >= 1 ? 0x100000000 : ratio <= 0 ? 0 : Math.floor(ratio * 0xffffffff)
  }

  /** True when a new root trace is to be sampled; its trace id is then the next one generated. */
  drawRoot(): boolean {
    if (this.bound === 0) return false
    const a = rand32()
    const b = rand32()
    const c = rand32()
    const d = rand32()
    if (((a ^ b ^ c ^ d) >>> 0) >= this.bound) return false
    // An all-zero trace id is invalid (the SDK would refuse it); not worth a second draw.
    if ((a | b | c | d) === 0) return false
    const buf = this.buf
    buf.writeUInt32BE(a, 0)
    buf.writeUInt32BE(b, 4)
    buf.writeUInt32BE(c, 8)
    buf.writeUInt32BE(d, 12)
    this.primed = buf.toString('hex')
    return true
  }

  generateTraceId(): string {
    const t = this.primed
    if (t === undefined) return this.random.generateTraceId()
    this.primed = undefined
    return t
  }

  generateSpanId(): string {
    return this.random.generateSpanId()
  }
}

function rand32(): number {
  return (Math.random() * 0x100000000) >>> 0
}
