import type { BasicProperties } from './methods.generated.js'

/**
 * Collects one message's body frames after its method and header. A body in one frame is kept
 * as the parser's view (frame payloads are never reused); a longer one is allocated once at its
 * announced size, so a 16 MiB message is copied once and never concatenated repeatedly.
 */
export class ContentAssembler {
  private body: Buffer | null = null
  private filled = 0

  constructor(
    readonly properties: BasicProperties,
    readonly bodySize: number,
    /** The header frame's payload as the client sent it, to pass on unchanged. */
    readonly header: Buffer,
  ) {}

  get complete(): boolean {
    return this.filled === this.bodySize
  }

  /** Appends a body frame; false when it would overflow the announced size (a framing error). */
  append(chunk: Buffer): boolean {
    if (this.filled + chunk.length > this.bodySize) return false
    if (this.filled === 0 && chunk.length === this.bodySize) {
      this.body = chunk
      this.filled = chunk.length
      return true
    }
    this.body ??= Buffer.allocUnsafe(this.bodySize)
    chunk.copy(this.body, this.filled)
    this.filled += chunk.length
    return true
  }

  take(): Buffer {
    return this.body ?? EMPTY
  }
}

const EMPTY = Buffer.alloc(0)
