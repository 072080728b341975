import { findCell, workCellNames, type CellMap } from '../cell-map.js'
import { placeHost, type ParkReason } from './host-cell.js'
import { classifyPublish, classifyQueue, NO_TOPICS, type OsloDestination } from './oslo-destination.js'

export interface QueueContext {
  readonly map: CellMap
  readonly knownTopics?: ReadonlySet<string>
  /** See PublishContext.notificationsCell: notification queues must live where notifications go. */
  readonly notificationsCell?: string
  /** The cell for things that need exactly one cell when the connection belongs to none. */
  readonly defaultCell?: string
  readonly workCells?: readonly string[]
}

export interface QueueFacts {
  readonly queue: string
  /**
   * The declaring connection's own cell (publisher-cell.ts ownCell), or undefined for a
   * connection of no cell: a super-conductor, a top-level scheduler, neutron-server.
   */
  readonly ownCell: string | undefined
  /**
   * Routing keys the queue is known to be bound with, when the adapter knows them (a re-placement
   * after a remap, or a declaration it deferred to the first bind). Lets a notification pool
   * queue, whose name is the pool's and says nothing, be placed like a notification queue.
   */
  readonly bindingKeys?: readonly string[]
}

export type QueueWhy =
  | 'host-mapping'
  | 'rendezvous'
  /** The host's cell is disabled: its queue stays there to drain; new work is parked. */
  | 'host-cell-disabled'
  | 'own-cell'
  | 'every-cell'
  | 'default-cell'
  | 'notification-aggregate'

export type QueuePlacement =
  | { readonly kind: 'cells'; readonly cells: readonly string[]; readonly why: QueueWhy; readonly dest: OsloDestination }
  | { readonly kind: 'park'; readonly cell: string; readonly host: string; readonly reason: ParkReason; readonly mappedCell: string; readonly dest: OsloDestination }
  | { readonly kind: 'refuse'; readonly reason: ParkReason | 'no-enabled-cell'; readonly host?: string; readonly dest: OsloDestination }

/**
 * Where a queue.declare goes; queue.bind, basic.consume, queue.purge and queue.delete follow the
 * queue wherever it was placed (the adapter records that), and fall back to this for a queue
 * the connection uses without having declared it.
 *
 * Fanout, exactly once: a fanout publish goes to every work cell (place-publish.ts), and each
 * `T_fanout_<hex>` queue lives on exactly ONE cell, the declaring connection's own cell (the
 * default cell for a connection of no cell). In each cell the broker's `T_fanout` exchange copies
 * the message to the fanout queues bound there, so every consumer's single queue gets exactly one
 * copy. The alternative (the queue on every cell, the publish to one) is exactly-once as well,
 * but costs each of thousands of agents a queue and a consumer per cell, and a fanout published
 * into a cell that is down would reach nobody; fanouts are rare, queues are not.
 *
 * - `T.<host>` → the host's cell (host-cell.ts). A host mapped to a disabled cell keeps its queue
 *   in that cell so it drains; a host mapped to an unknown cell gets its queue in the parking
 *   cell, where nothing new arrives (parked messages are held apart by the adapter), until a
 *   remap moves it; without a parking cell the declaration is refused.
 * - anycast `T` and notification queues → the connection's own cell; for a connection of no cell
 *   every work cell, so a super-conductor or a cell-less notification pool consumes what any cell
 *   publishes (each message is published in exactly one cell, so still once); notification queues
 *   go to the aggregate cell when one is configured.
 * - `reply_<hex>` and anything else → exactly one cell: the own cell, else the default cell.
 */
export function placeQueue(facts: QueueFacts, ctx: QueueContext): QueuePlacement {
  const dest = classifyQueue(facts.queue, ctx.knownTopics ?? NO_TOPICS)
  switch (dest.kind) {
    case 'server':
      return byHost(dest, ctx)
    case 'anycast':
      return ownOrEvery(dest, facts, ctx)
    case 'notification':
      return notification(dest, facts, ctx)
    case 'fanout':
    case 'reply':
      return ownOrDefault(dest, facts, ctx)
    case 'other':
      if (facts.bindingKeys?.some((k) => classifyPublish('x', k).kind === 'notification')) return notification(dest, facts, ctx)
      return ownOrDefault(dest, facts, ctx)
  }
}

function byHost(dest: OsloDestination & { kind: 'server' }, ctx: QueueContext): QueuePlacement {
  const p = placeHost(dest.host, ctx.map, ctx.workCells)
  switch (p.kind) {
    case 'cell':
      return { kind: 'cells', cells: [p.cell], why: p.why, dest }
    case 'park':
      if (p.reason === 'cell-disabled') return { kind: 'cells', cells: [p.mappedCell], why: 'host-cell-disabled', dest }
      return { kind: 'park', cell: p.cell, host: p.host, reason: p.reason, mappedCell: p.mappedCell, dest }
    case 'refuse':
      // A disabled cell still exists, so its hosts' queues can live there without a parking cell.
      if (p.reason === 'cell-disabled' && p.mappedCell !== undefined) return { kind: 'cells', cells: [p.mappedCell], why: 'host-cell-disabled', dest }
      return { kind: 'refuse', reason: p.reason, host: p.host, dest }
  }
}

function notification(dest: OsloDestination, facts: QueueFacts, ctx: QueueContext): QueuePlacement {
  const agg = ctx.notificationsCell === undefined ? undefined : findCell(ctx.map, ctx.notificationsCell)
  if (agg !== undefined && !agg.disabled) return { kind: 'cells', cells: [agg.name], why: 'notification-aggregate', dest }
  return ownOrEvery(dest, facts, ctx)
}

function ownOrEvery(dest: OsloDestination, facts: QueueFacts, ctx: QueueContext): QueuePlacement {
  if (facts.ownCell !== undefined) return { kind: 'cells', cells: [facts.ownCell], why: 'own-cell', dest }
  const cells = ctx.workCells ?? workCellNames(ctx.map)
  return cells.length === 0 ? { kind: 'refuse', reason: 'no-enabled-cell', dest } : { kind: 'cells', cells, why: 'every-cell', dest }
}

function ownOrDefault(dest: OsloDestination, facts: QueueFacts, ctx: QueueContext): QueuePlacement {
  if (facts.ownCell !== undefined) return { kind: 'cells', cells: [facts.ownCell], why: 'own-cell', dest }
  const fallback = defaultOf(ctx)
  return fallback === undefined ? { kind: 'refuse', reason: 'no-enabled-cell', dest } : { kind: 'cells', cells: [fallback], why: 'default-cell', dest }
}

function defaultOf(ctx: QueueContext): string | undefined {
  const work = ctx.workCells ?? workCellNames(ctx.map)
  if (ctx.defaultCell !== undefined && work.includes(ctx.defaultCell)) return ctx.defaultCell
  return work[0]
}

export type ExchangePlacement =
  | { readonly kind: 'builtin' }
  | { readonly kind: 'cells'; readonly cells: readonly string[] }

/**
 * Exchanges are declared on every work cell, eagerly: a fanout publish touches all of them, and a
 * topic exchange's queues may be anywhere, while an exchange costs a broker almost nothing. The
 * default and amq.* exchanges exist on every broker and are never declared.
 */
export function placeExchange(exchange: string, ctx: QueueContext): ExchangePlacement {
  if (exchange === '' || exchange.startsWith('amq.')) return { kind: 'builtin' }
  return { kind: 'cells', cells: ctx.workCells ?? workCellNames(ctx.map) }
}

/**
 * A queue.bind goes to every cell its queue is on. Those cells may lie outside the work cells (a
 * disabled cell draining, the parking cell): `declareExchangeOn` names the ones where the adapter
 * must first re-declare the exchange with the flags the client used.
 */
export function placeBinding(
  queueCells: readonly string[],
  exchange: string,
  ctx: QueueContext,
): { readonly cells: readonly string[]; readonly declareExchangeOn: readonly string[] } {
  const ex = placeExchange(exchange, ctx)
  const have = ex.kind === 'builtin' ? undefined : new Set(ex.cells)
  return { cells: queueCells, declareExchangeOn: have === undefined ? [] : queueCells.filter((c) => !have.has(c)) }
}
