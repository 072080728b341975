import { BoundedMemo } from '../bounded-memo.js'
import { workCellNames, type CellMap } from '../cell-map.js'
import { placeHost, type HostPlacement } from './host-cell.js'
import { classifyPublish, classifyQueue, type OsloDestination } from './oslo-destination.js'
import { placeDestination, type PublishContext, type PublishPlacement } from './place-publish.js'
import { placeQueue, type QueueContext, type QueueFacts, type QueuePlacement } from './place-queue.js'
import { inferPublisherCell, ownCell, type PublisherCell, type PublisherFacts } from './publisher-cell.js'

export interface RoutingTableOptions {
  /** Anycast topics beyond the built-in ones (configured, or learned from declarations). */
  readonly knownTopics?: Iterable<string>
  readonly notificationsCell?: string
  readonly defaultCell?: string
  /** Bound of each memo (classifications, host placements, publish decisions). */
  readonly maxEntries?: number
}

/** The adapter's live knowledge of where queues were declared. */
export interface QueueLookups {
  readonly replyQueueCell: (queue: string) => string | undefined
  readonly queueCell?: (queue: string) => string | undefined
}

const DEFAULT_MAX_ENTRIES = 65_536

/**
 * The hot path: every publish asks here. One table per CellMap snapshot; a new snapshot gets a
 * new table, so nothing cached can outlive the map it was computed from. Decisions that depend
 * only on (exchange, routing key) and the map — fanouts and `T.<host>` keys, i.e. most traffic —
 * are computed once; the rest reuse the memoised classification and ask the publisher thunk.
 * Pure: same inputs, same answers; the memos only remember them.
 */
export class RoutingTable {
  readonly workCells: readonly string[]
  private readonly topics: Set<string>
  private readonly publishCtx: PublishContext
  private readonly queueCtx: QueueContext
  private readonly byExchange = new Map<string, BoundedMemo<string, OsloDestination>>()
  private readonly queues: BoundedMemo<string, OsloDestination>
  private readonly hosts: BoundedMemo<string, HostPlacement>
  private readonly fixed = new Map<string, BoundedMemo<string, PublishPlacement>>()
  private readonly max: number
  private readonly contexts = new WeakMap<QueueLookups, PublishContext>()

  constructor(
    readonly map: CellMap,
    private readonly opts: RoutingTableOptions = {},
  ) {
    this.max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.workCells = Object.freeze(workCellNames(map))
    this.topics = new Set(opts.knownTopics ?? [])
    this.queues = new BoundedMemo(this.max)
    this.hosts = new BoundedMemo(this.max)
    const shared = {
      map,
      knownTopics: this.topics,
      workCells: this.workCells,
      ...(opts.notificationsCell !== undefined ? { notificationsCell: opts.notificationsCell } : {}),
    }
    this.publishCtx = { ...shared, replyQueueCell: () => undefined }
    this.queueCtx = { ...shared, ...(opts.defaultCell !== undefined ? { defaultCell: opts.defaultCell } : {}) }
  }

  get knownTopics(): ReadonlySet<string> {
    return this.topics
  }

  /**
   * Remember an anycast topic seen declared, so `<topic>.<host>` keys are recognised as server
   * keys. Returns true when it was new (memos are then dropped: earlier answers may differ).
   */
  learnTopic(topic: string): boolean {
    if (topic === '' || this.topics.has(topic)) return false
    this.topics.add(topic)
    this.byExchange.clear()
    this.queues.clear()
    this.fixed.clear()
    return true
  }

  classify(exchange: string, routingKey: string): OsloDestination {
    return this.memoFor(this.byExchange, exchange).get(routingKey, (rk) => classifyPublish(exchange, rk, this.topics))
  }

  classifyQueue(name: string): OsloDestination {
    return this.queues.get(name, (n) => classifyQueue(n, this.topics))
  }

  placeHost(host: string): HostPlacement {
    return this.hosts.get(host, (h) => placeHost(h, this.map, this.workCells))
  }

  placePublish(exchange: string, routingKey: string, publisher: () => PublisherCell, lookups: QueueLookups): PublishPlacement {
    const dest = this.classify(exchange, routingKey)
    // Through the default exchange the answer depends on live queue locations: never memoised.
    if (exchange !== '' && (dest.kind === 'server' || dest.kind === 'fanout')) {
      const fixed = this.memoFor(this.fixed, exchange).get(routingKey, () => placeDestination(dest, exchange, routingKey, noPublisher, this.publishCtx))
      return fixed
    }
    return placeDestination(dest, exchange, routingKey, publisher, this.contextWith(lookups))
  }

  /** The publish context with one adapter's lookups, built once per lookups object, not per message. */
  private contextWith(lookups: QueueLookups): PublishContext {
    let ctx = this.contexts.get(lookups)
    if (ctx === undefined) {
      ctx = { ...this.publishCtx, ...lookups }
      this.contexts.set(lookups, ctx)
    }
    return ctx
  }

  placeQueue(facts: QueueFacts): QueuePlacement {
    return placeQueue(facts, this.queueCtx)
  }

  publisherCell(facts: PublisherFacts): PublisherCell {
    return inferPublisherCell(facts, this.map, this.opts.defaultCell !== undefined ? { defaultCell: this.opts.defaultCell } : {})
  }

  /** The connection's own cell name, or undefined for a connection of no cell (see ownCell). */
  ownCell(facts: PublisherFacts): string | undefined {
    return ownCell(facts, this.map)?.cell
  }

  private memoFor<V>(memos: Map<string, BoundedMemo<string, V>>, exchange: string): BoundedMemo<string, V> {
    let m = memos.get(exchange)
    if (m === undefined) {
      // Exchanges are few; a client inventing them gets the whole set reset, not unbounded growth.
      if (memos.size >= 1024) memos.clear()
      m = new BoundedMemo<string, V>(this.max)
      memos.set(exchange, m)
    }
    return m
  }
}

/** Server and fanout decisions never consult the publisher; if one ever did, fail loudly in tests. */
function noPublisher(): PublisherCell {
  throw new Error('a publisher-independent placement asked for the publisher')
}
