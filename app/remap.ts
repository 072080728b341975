import type { Logger } from '../adapters/log/logger.js'
import type { CellPool } from '../adapters/rabbit/cell-pool.js'
import { drainQueue } from '../adapters/rabbit/queue-drain.js'
import type { CellMap } from '../router/cell-map.js'
import type { CellRouting } from './amqp-routing.js'

export interface QueueMove {
  readonly queue: string
  readonly from: readonly string[]
  readonly to: readonly string[]
}

export interface RemapResult {
  readonly moves: readonly QueueMove[]
  readonly consumersCancelled: number
  /** Resolves when every old queue was drained into its new cell (messages moved, in total). */
  readonly drained: Promise<number>
}

/** How long a drained queue must stay empty before it is deleted: publishes routed before the switch may still be in flight. */
const DRAIN_SETTLE_MS = 2_000
const DRAIN_MAX_MS = 5 * 60_000

/**
 * Switches routing to a new cell map without losing what was confirmed to publishers:
 * 1. every known `T.<host>` queue whose host now belongs elsewhere is declared, with its
 *    bindings, in the new cell first, so nothing published after the switch is unroutable;
 * 2. the map is switched: new messages go to the new cell;
 * 3. the queue's consumers get a server-initiated basic.cancel: oslo reconnects, re-declares and
 *    consumes in the new cell;
 * 4. what was already in the old cell's queue is moved over (confirmed, then acked) and the old
 *    queue deleted once it stays empty.
 * Only `T.<host>` queues move: a moved host's anycast and fanout queues follow its connection,
 * which re-declares them in its new cell when it re-subscribes.
 */
export async function applyRemap(routing: CellRouting, next: CellMap, pools: ReadonlyMap<string, CellPool>, log: Logger): Promise<RemapResult> {
  const table = routing.tableForMap(next)
  const moves: QueueMove[] = []
  for (const [queue, cells] of routing.queues.entries()) {
    if (table.classifyQueue(queue).kind !== 'server') continue
    const p = table.placeQueue({ queue, ownCell: undefined })
    const to = p.kind === 'cells' ? p.cells : p.kind === 'park' ? [p.cell] : undefined
    if (to === undefined || sameCells(to, cells)) continue
    moves.push({ queue, from: cells, to })
  }

  const declared: QueueMove[] = []
  for (const m of moves) {
    const decl = routing.declarationOf(m.queue)
    if (decl === undefined) {
      // Without its declaration the queue cannot be re-created faithfully in the new cell, and
      // messages sent there before it exists would be unroutable: it stays where it is.
      log.warn('a queue whose host moved has no live declarer; it stays in its cell until it is declared again', { queue: m.queue, cells: m.from.join(',') })
      continue
    }
    declared.push(m)
    for (const cell of m.to.filter((c) => !m.from.includes(c))) {
      const conn = await poolOf(pools, cell).acquire()
      const ch = await conn.openChannel()
      try {
        for (const e of decl.exchanges) await ch.assertExchange(e.name, e.type, e)
        await ch.assertQueue(decl.queue.name, decl.queue)
        for (const b of decl.bindings) await ch.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments)
      } finally {
        await ch.close().catch(() => {})
      }
    }
  }

  routing.replaceMap(next)
  let consumersCancelled = 0
  for (const m of declared) {
    routing.queues.relocate(m.queue, m.to)
    consumersCancelled += routing.cancelConsumers(m.queue)
    log.info('queue moved to another cell', { queue: m.queue, from: m.from.join(','), to: m.to.join(',') })
  }

  const drained = Promise.all(
    declared.flatMap((m) =>
      m.from
        .filter((c) => !m.to.includes(c))
        .map(async (cell) => {
          try {
            const [src, dst] = await Promise.all([poolOf(pools, cell).acquire(), poolOf(pools, m.to[0]!).acquire()])
            const r = await drainQueue(src, dst, m.queue, { settleMs: DRAIN_SETTLE_MS, maxMs: DRAIN_MAX_MS }, log)
            if (r.moved > 0 || r.deleted) log.info('old queue drained into the new cell', { queue: m.queue, from: cell, to: m.to[0], moved: r.moved, deleted: r.deleted })
            return r.moved
          } catch (err) {
            log.warn('could not drain a moved queue; its messages stay in the old cell', { queue: m.queue, cell, err: (err as Error).message })
            return 0
          }
        }),
    ),
  ).then((counts) => counts.reduce((a, b) => a + b, 0))

  return { moves: declared, consumersCancelled, drained }
}

function sameCells(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c))
}

function poolOf(pools: ReadonlyMap<string, CellPool>, cell: string): CellPool {
  const pool = pools.get(cell)
  if (pool === undefined) throw new Error(`no broker pool for cell ${cell}`)
  return pool
}
