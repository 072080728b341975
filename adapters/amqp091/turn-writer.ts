import type { Socket } from 'node:net'

/**
 * Writes to a socket in one writev per event-loop turn, not one per read: the socket is corked
 * on the first write of a turn and uncorked in the check phase (setImmediate), after every
 * socket that was readable in this turn had its say (a publisher's data and a consumer's acks
 * both write to the same broker socket), at no added latency.
 */
export class TurnWriter {
  private corked = false

  constructor(private readonly socket: Socket) {}

  write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      setImmediate(() => this.flush())
    }
    this.socket.write(frame)
  }

  /** Sends what this turn wrote now (before a close, say). */
  flush(): void {
    if (!this.corked) return
    this.corked = false
    this.socket.uncork()
  }
}
