import type { BasicProperties } from './methods.generated.js'

/**
 * Collects one message's body frames after its method and header. The body is allocated once
 * at its announced size, so a 16 MiB message is copied once and never concatenated repeatedly.
 */
export class ContentAssembler {
  private body: Buffer | null = null
  private filled = 0

  constructor(
    readonly properties: BasicProperties,
    readonly bodySize: number,
  ) {
    if (bodySize > 0) this.body = Buffer.allocUnsafe(bodySize)
  }

  get complete(): boolean {
    return this.filled === this.bodySize
  }

  /** Appends a body frame; false when it would overflow the announced size (a framing error). */
  append(chunk: Buffer): boolean {
    if (this.body === null || this.filled + chunk.length > this.bodySize) return false
    chunk.copy(this.body, this.filled)
    this.filled += chunk.length
    return true
  }

  /** The finished body; a single-frame body could be passed as a view, but one copy keeps ownership simple. */
  take(): Buffer {
    return this.body ?? EMPTY
  }
}

const EMPTY = Buffer.alloc(0)
