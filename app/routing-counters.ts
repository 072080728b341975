/**
 * Routing outcomes counted per cell or host, for the operator view and the log-once rule: an
 * anomaly is logged at warn the first time and counted after that, never a line per message.
 */
export class RoutingCounters {
  readonly routedByCell = new Map<string, number>()
  readonly parkedByHost = new Map<string, number>()
  readonly refusedByHost = new Map<string, number>()
  private readonly seen = new Set<string>()

  routed(cell: string): void {
    bump(this.routedByCell, cell)
  }

  parked(host: string): void {
    bump(this.parkedByHost, host)
  }

  refused(host: string): void {
    bump(this.refusedByHost, host)
  }

  /** True the first time `key` is seen (bounded: past 10 000 keys everything counts as seen). */
  firstTime(key: string): boolean {
    if (this.seen.has(key) || this.seen.size >= 10_000) return false
    this.seen.add(key)
    return true
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}
