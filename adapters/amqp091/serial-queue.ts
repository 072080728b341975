/**
 * Runs a channel's operations strictly in arrival order, as a broker does: a publish sent after
 * a queue.declare must not reach the broker before the declare. Synchronous steps run inline;
 * while an asynchronous step is in flight, later steps wait.
 */
export type Step = () => void | Promise<void>

export class SerialQueue {
  private readonly pending: Step[] = []
  private busy = false

  constructor(private readonly onError: (err: unknown) => void) {}

  get idle(): boolean {
    return !this.busy && this.pending.length === 0
  }

  push(step: Step): void {
    this.pending.push(step)
    this.drain()
  }

  /** Puts a step ahead of everything queued (recovery must happen before queued publishes). */
  pushFront(step: Step): void {
    this.pending.unshift(step)
    this.drain()
  }

  /** Drops queued steps, e.g. when the channel closes; a step in flight finishes on its own. */
  clear(): void {
    this.pending.length = 0
  }

  private drain(): void {
    // A loop, not recursion: thousands of queued synchronous publishes must not grow the stack.
    while (!this.busy && this.pending.length > 0) {
      const step = this.pending.shift()!
      let result: void | Promise<void>
      try {
        result = step()
      } catch (err) {
        this.onError(err)
        continue
      }
      if (result instanceof Promise) {
        this.busy = true
        result.then(
          () => this.settled(),
          (err: unknown) => {
            this.onError(err)
            this.settled()
          },
        )
      }
    }
  }

  private settled(): void {
    this.busy = false
    this.drain()
  }
}
