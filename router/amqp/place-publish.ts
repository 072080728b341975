import { findCell, workCellNames, type CellMap } from '../cell-map.js'
import { placeHost, type ParkReason } from './host-cell.js'
import { classifyPublish, NO_TOPICS, type OsloDestination } from './oslo-destination.js'
import type { PublisherCell, PublisherWhy } from './publisher-cell.js'

/** What stays the same for many publishes: one cell map snapshot and the adapter's lookups. */
export interface PublishContext {
  readonly map: CellMap
  readonly knownTopics?: ReadonlySet<string>
  /** The cell a reply queue was declared on, as the adapter recorded it. */
  readonly replyQueueCell: (queue: string) => string | undefined
  /** The cell any other queue was declared on (for publishes through the default exchange). */
  readonly queueCell?: (queue: string) => string | undefined
  /** One cell that receives every notification (ceilometer-style aggregation), when configured. */
  readonly notificationsCell?: string
  /** Work cells of `map`, when the caller has them precomputed (see RoutingTable). */
  readonly workCells?: readonly string[]
}

export type PublishWhy =
  | 'fanout'
  | 'host-mapping'
  | 'rendezvous'
  | 'anycast'
  | 'reply-queue'
  | 'reply-unknown'
  | 'notification'
  | 'notification-aggregate'
  | 'queue-location'
  | 'other'

export type PublishPlacement =
  | {
      readonly kind: 'cells'
      readonly cells: readonly string[]
      readonly why: PublishWhy
      readonly dest: OsloDestination
      /** Set when the publisher's cell decided, with the evidence that made it the publisher's. */
      readonly publisher?: PublisherWhy
      /** The mapping source, for host-mapping decisions. */
      readonly source?: string
    }
  | {
      readonly kind: 'park'
      readonly cell: string
      readonly host: string
      readonly reason: ParkReason
      readonly mappedCell: string
      readonly dest: OsloDestination
    }
  | {
      readonly kind: 'refuse'
      readonly reason: ParkReason | 'no-enabled-cell'
      readonly host?: string
      readonly dest: OsloDestination
    }

/**
 * Where one basic.publish goes (DESIGN.md "Routing model (AMQP)"):
 * - fanout (`T_fanout`) → every work cell; each fanout queue lives on exactly one cell (see
 *   place-queue.ts), so each consumer gets the message once;
 * - `T.<host>` → the host's cell, parked or refused per host-cell.ts;
 * - anycast `T` → the publisher's cell;
 * - `reply_<hex>` → the cell its queue was declared on; when the adapter does not know it (a
 *   queue declared through another cellgate), the publisher's cell: replies are mandatory, so
 *   a miss comes back as basic.return and oslo retries for 60 s while the location is learned,
 *   rather than fanning a reply out to every cell where it could be consumed twice;
 * - `<topic>.<priority>` → the aggregate notifications cell when configured, else the publisher's;
 * - default exchange with any other queue name → where that queue was declared if known, else
 *   by what its name says (a `T.<host>` queue on the host's cell, the rest on the publisher's);
 * - amq.* and anything unrecognised → the publisher's cell, where a non-oslo client's own
 *   queues were declared (place-queue.ts puts them on the declaring connection's cell).
 * `publisher` is only called for decisions that need it, so the adapter can decode args lazily.
 */
export function placePublish(exchange: string, routingKey: string, publisher: () => PublisherCell, ctx: PublishContext): PublishPlacement {
  return placeDestination(classifyPublish(exchange, routingKey, ctx.knownTopics ?? NO_TOPICS), exchange, routingKey, publisher, ctx)
}

/** placePublish for an already classified destination (RoutingTable memoises classification). */
export function placeDestination(
  dest: OsloDestination,
  exchange: string,
  routingKey: string,
  publisher: () => PublisherCell,
  ctx: PublishContext,
): PublishPlacement {
  if (exchange === '' && dest.kind !== 'reply') {
    const known = ctx.queueCell?.(routingKey)
    if (known !== undefined && findCell(ctx.map, known) !== undefined) return { kind: 'cells', cells: [known], why: 'queue-location', dest }
  }
  switch (dest.kind) {
    case 'fanout': {
      // Through the default exchange a fanout *queue* name is just one queue somewhere.
      if (exchange === '') return byPublisher(dest, 'other', publisher)
      const cells = ctx.workCells ?? workCellNames(ctx.map)
      return cells.length === 0 ? { kind: 'refuse', reason: 'no-enabled-cell', dest } : { kind: 'cells', cells, why: 'fanout', dest }
    }
    case 'server':
      return byHost(dest, ctx)
    case 'anycast':
      return byPublisher(dest, 'anycast', publisher)
    case 'reply': {
      // A reply is an answer, not new work: it goes to its queue even in a disabled cell.
      const cell = ctx.replyQueueCell(dest.queue)
      if (cell !== undefined && findCell(ctx.map, cell) !== undefined) return { kind: 'cells', cells: [cell], why: 'reply-queue', dest }
      return byPublisher(dest, 'reply-unknown', publisher)
    }
    case 'notification': {
      const agg = ctx.notificationsCell
      const aggCell = agg === undefined ? undefined : findCell(ctx.map, agg)
      if (aggCell !== undefined && !aggCell.disabled) return { kind: 'cells', cells: [aggCell.name], why: 'notification-aggregate', dest }
      return byPublisher(dest, 'notification', publisher)
    }
    case 'other':
      return byPublisher(dest, 'other', publisher)
  }
}

function byHost(dest: OsloDestination & { kind: 'server' }, ctx: PublishContext): PublishPlacement {
  const p = placeHost(dest.host, ctx.map, ctx.workCells)
  switch (p.kind) {
    case 'cell':
      return p.why === 'host-mapping' && p.source !== undefined
        ? { kind: 'cells', cells: [p.cell], why: p.why, dest, source: p.source }
        : { kind: 'cells', cells: [p.cell], why: p.why, dest }
    case 'park':
      return { kind: 'park', cell: p.cell, host: p.host, reason: p.reason, mappedCell: p.mappedCell, dest }
    case 'refuse':
      return { kind: 'refuse', reason: p.reason, host: p.host, dest }
  }
}

function byPublisher(dest: OsloDestination, why: PublishWhy, publisher: () => PublisherCell): PublishPlacement {
  const p = publisher()
  if (p.kind === 'none') return { kind: 'refuse', reason: 'no-enabled-cell', dest }
  return { kind: 'cells', cells: [p.cell], why, dest, publisher: p.why }
}
