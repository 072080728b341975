/**
 * Heartbeats towards one client, as RabbitMQ does them (AMQP 0-9-1 §4.2.7, oslo-wire §2.7).
 *
 * Sending: every H/2, if nothing was written since the previous check, one heartbeat frame, so an
 * idle client hears from us every H/2. Not more often: py-amqp's drain_events restarts its read
 * timeout (1 s in oslo's poll loop) on every frame, heartbeats included, and only ticks its own
 * heartbeat when a read times out; a server chattier than once a second starves the client's
 * heartbeats and then drops it for silence.
 *
 * Receiving: give up on a client only after 3H without a byte. RabbitMQ checks once per H and
 * closes after two empty checks, i.e. between 2H and 3H; py-amqp listeners send late (after H of
 * their own silence, on a coarse tick), so anything stricter than RabbitMQ's upper bound drops
 * healthy oslo connections. While cellgate itself pauses reading (flow control), the client's
 * silence is ours, so the timeout is suspended.
 */
export interface HeartbeatIO {
  send(): void
  timedOut(): void
}

export class Heartbeat {
  private wroteSinceCheck = true
  private lastReceived = Date.now()
  private suspended = false
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly seconds: number,
    private readonly io: HeartbeatIO,
    now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.tick(now()), (seconds * 1000) / 2)
    this.timer.unref()
  }

  sent(): void {
    this.wroteSinceCheck = true
  }

  received(): void {
    this.lastReceived = Date.now()
  }

  suspendTimeout(on: boolean): void {
    this.suspended = on
    if (!on) this.lastReceived = Date.now()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One H/2 period elapsed. */
  tick(now: number): void {
    if (!this.suspended && now - this.lastReceived > 3 * this.seconds * 1000) {
      this.stop()
      this.io.timedOut()
      return
    }
    if (!this.wroteSinceCheck) this.io.send()
    this.wroteSinceCheck = false
  }
}
