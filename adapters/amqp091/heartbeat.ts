/**
 * Heartbeats towards one client, per AMQP 0-9-1 §4.2.7 and what oslo expects (oslo-wire §2.7):
 * send a heartbeat when we wrote nothing for H/4 (so no gap exceeds H/2), and give up on a client
 * only after 3H of silence. RabbitMQ checks once per interval and closes after two empty checks,
 * i.e. between 2H and 3H; py-amqp listeners send late (only after H of their own silence, checked
 * on a coarse tick), so anything stricter than RabbitMQ's upper bound drops healthy oslo
 * connections with a short heartbeat. Any frame counts as traffic both ways. While cellgate itself pauses reading the socket (flow
 * control), the client's silence is ours, so the timeout is suspended.
 */
export interface HeartbeatIO {
  send(): void
  timedOut(): void
}

export class Heartbeat {
  private lastSent = Date.now()
  private lastReceived = Date.now()
  private suspended = false
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly seconds: number,
    private readonly io: HeartbeatIO,
    now: () => number = Date.now,
  ) {
    // Checking every H/4 and sending after H/4 of our silence keeps every gap at most H/2.
    this.timer = setInterval(() => this.tick(now()), Math.max(250, (seconds * 1000) / 4))
    this.timer.unref()
  }

  sent(): void {
    this.lastSent = Date.now()
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

  tick(now: number): void {
    const ms = this.seconds * 1000
    if (!this.suspended && now - this.lastReceived > 3 * ms) {
      this.stop()
      this.io.timedOut()
      return
    }
    if (now - this.lastSent >= ms / 4) this.io.send()
  }
}
