/**
 * Frames payloads into physical packets: splits at 0xFFFFFF bytes (ending with a shorter, possibly
 * empty, packet, as the protocol requires when a payload is an exact multiple) and numbers them
 * from the writer's running sequence id, which the owner resets per command.
 */
import { MAX_PAYLOAD } from './protocol.js'

export interface ByteSink {
  write(b: Buffer): unknown
}

export class PacketWriter {
  /** Sequence id of the next packet written. */
  seq = 0

  constructor(private readonly out: ByteSink) {}

  /** Next packet continues a peer packet that ended with sequence id lastSeq. */
  continueAfter(lastSeq: number): void {
    this.seq = (lastSeq + 1) & 0xff
  }

  /**
   * Relays a peer's packet: `framed` (its header and payload as one view, from PacketParser) is
   * sent as is, with only its sequence id rewritten to this writer's; without it, framed anew.
   */
  relay(payload: Buffer, framed?: Buffer): void {
    if (framed === undefined) return this.write(payload)
    framed[3] = this.seq
    this.seq = (this.seq + 1) & 0xff
    this.out.write(framed)
  }

  write(payload: Buffer): void {
    let pos = 0
    for (;;) {
      const len = Math.min(MAX_PAYLOAD, payload.length - pos)
      const header = Buffer.allocUnsafe(4)
      header.writeUIntLE(len, 0, 3)
      header[3] = this.seq
      this.seq = (this.seq + 1) & 0xff
      if (len < 1024) {
        // One write per small packet: cheaper than two for the kernel and for the TLS layer.
        this.out.write(Buffer.concat([header, payload.subarray(pos, pos + len)], 4 + len))
      } else {
        this.out.write(header)
        this.out.write(payload.subarray(pos, pos + len))
      }
      pos += len
      if (len < MAX_PAYLOAD) return
    }
  }
}
