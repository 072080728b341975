import type {
  AmqpRouting,
  ConnectionIdentity,
  ConnectionRouting,
  FrontEndControl,
  PublishRoute,
  QueueDeclaration,
  RoutingRefusal,
} from '../adapters/amqp091/routing-port.js'
import type { BasicProperties } from '../adapters/amqp091/methods.generated.js'
import type { LogFields, Logger } from '../adapters/log/logger.js'
import { findCell, type CellMap } from '../router/cell-map.js'
import { extractArgsHints, NO_HINTS, type ArgsHints } from '../router/amqp/args-hints.js'
import { learnableTopic } from '../router/amqp/oslo-destination.js'
import type { PublisherCell, PublisherFacts } from '../router/amqp/publisher-cell.js'
import { RoutingTable } from '../router/amqp/routing-table.js'
import { ProcessHosts, processKey } from './process-hosts.js'
import { QueueDirectory } from './queue-directory.js'
import { RoutingCounters } from './routing-counters.js'

export interface CellRoutingOptions {
  /** The host this cellgate serves when it runs as a per-host sidecar. */
  readonly sidecarHost?: string
  readonly notificationsCell?: string
  readonly defaultCell?: string
}

/** Where parked messages wait in the parking cell, with the original destination in headers. */
export const PARKED_QUEUE = 'cellgate.parked'

/**
 * The routing layer behind the AMQP front end: holds the current cell map (as a RoutingTable),
 * what cellgate has learned (where queues were declared, which process is which host) and asks
 * the pure router for every decision.
 */
export class CellRouting implements AmqpRouting {
  readonly queues = new QueueDirectory()
  readonly processHosts = new ProcessHosts()
  readonly counters = new RoutingCounters()
  /** The open client connections' front ends, for remaps. */
  private readonly frontEnds = new Set<FrontEndControl>()
  private table: RoutingTable

  constructor(
    map: CellMap,
    private readonly opts: CellRoutingOptions,
    private readonly log: Logger,
  ) {
    this.table = this.tableFor(map, [])
  }

  /** A new cell map (a mapping source changed): decisions from now on use it. */
  replaceMap(map: CellMap): void {
    this.table = this.tableFor(map, this.table.knownTopics)
  }

  /** The table `map` would give, to compare decisions before switching to it. */
  tableForMap(map: CellMap): RoutingTable {
    return this.tableFor(map, this.table.knownTopics)
  }

  attachFrontEnd(control: FrontEndControl): void {
    this.frontEnds.add(control)
  }

  detachFrontEnd(control: FrontEndControl): void {
    this.frontEnds.delete(control)
  }

  /** What some live connection declared for `queue`, to re-create it elsewhere. */
  declarationOf(queue: string): QueueDeclaration | undefined {
    for (const f of this.frontEnds) {
      const d = f.declarationOf(queue)
      if (d !== undefined && d.queue.cells.length > 0) return d
    }
    return undefined
  }

  /** basic.cancel to every consumer of `queue` on every connection; returns how many. */
  cancelConsumers(queue: string): number {
    let n = 0
    for (const f of this.frontEnds) n += f.cancelConsumers(queue)
    return n
  }

  get cellMap(): CellMap {
    return this.table.map
  }

  get routingTable(): RoutingTable {
    return this.table
  }

  forConnection(identity: ConnectionIdentity): ConnectionRouting | RoutingRefusal {
    const facts = this.facts(identity, undefined)
    const home = this.table.ownCell(facts) ?? vhostCellEvenIfDisabled(identity.vhost, this.table.map) ?? this.table.publisherCell(facts)
    if (typeof home !== 'string' && home.kind === 'none') return { refused: home.reason }
    return new ConnectionCellRouting(this, identity, typeof home === 'string' ? home : home.cell)
  }

  facts(identity: ConnectionIdentity, ownHost: string | undefined, args?: () => ArgsHints, process: string | undefined = processKey(identity)): PublisherFacts {
    const learnedHost = ownHost ?? this.processHosts.hostOf(process)
    return {
      vhost: identity.vhost,
      ...(this.opts.sidecarHost !== undefined ? { sidecarHost: this.opts.sidecarHost } : {}),
      ...(learnedHost !== undefined ? { learnedHost } : {}),
      ...(args !== undefined ? { argsHints: args } : {}),
    }
  }

  /** Per-message decisions are logged only at debug level, and only built when they will be. */
  get traceDecisions(): boolean {
    return this.log.isEnabled('debug')
  }

  trace(msg: string, fields: LogFields): void {
    this.log.debug(msg, fields)
  }

  warnOnce(key: string, msg: string, fields: LogFields): void {
    if (this.counters.firstTime(key)) this.log.warn(msg, fields)
    else this.log.debug(msg, fields)
  }

  private tableFor(map: CellMap, knownTopics: Iterable<string>): RoutingTable {
    return new RoutingTable(map, {
      knownTopics,
      ...(this.opts.notificationsCell !== undefined ? { notificationsCell: this.opts.notificationsCell } : {}),
      ...(this.opts.defaultCell !== undefined ? { defaultCell: this.opts.defaultCell } : {}),
    })
  }
}

class ConnectionCellRouting implements ConnectionRouting {
  private readonly declared = new Set<string>()
  private control: FrontEndControl | undefined
  /** The host this connection serves, learned from the `T.<host>` queue it declared. */
  private ownHost: string | undefined
  /** peer address + pid, computed once: the identity of the OpenStack process behind this connection. */
  private readonly process: string | undefined
  private readonly lookups: { replyQueueCell: (q: string) => string | undefined; queueCell: (q: string) => string | undefined }

  constructor(
    private readonly routing: CellRouting,
    private readonly identity: ConnectionIdentity,
    readonly homeCell: string,
  ) {
    this.process = processKey(identity)
    const one = (q: string): string | undefined => {
      const cells = routing.queues.cellsOf(q)
      return cells?.length === 1 ? cells[0] : undefined
    }
    this.lookups = { replyQueueCell: one, queueCell: one }
  }

  declareQueue(queue: string, exclusive: boolean): readonly string[] | 'deferred' {
    this.observe(queue)
    const table = this.routing.routingTable
    const dest = table.classifyQueue(queue)
    const perDeclarer = dest.kind === 'anycast' || dest.kind === 'notification'
    // Anycast and notification queues are placed per declarer (a cell conductor's `conductor`
    // queue is in its cell, a super-conductor's in every cell). An RPC server declares its
    // anycast `T` before `T.<host>` says who it is, and an unrecognised name may be a
    // notification pool, which only its bindings reveal: those wait for their first use (see
    // ConnectionRouting.declareQueue). A notifier's own `<topic>.<priority>` queue is placed at
    // once: it keeps notifications while no listener runs, as it does on RabbitMQ.
    const mayWait = dest.kind === 'anycast' || (dest.kind === 'other' && !exclusive && this.routing.queues.cellsOf(queue) === undefined)
    if (mayWait && table.workCells.length > 1 && table.ownCell(this.routing.facts(this.identity, this.ownHost)) === undefined) return 'deferred'
    if (perDeclarer) return this.place(queue, [])
    return this.register(queue, this.routing.queues.cellsOf(queue) ?? this.place(queue, []))
  }

  placeDeferred(queue: string, bindingKeys: readonly string[]): readonly string[] {
    const cells = this.place(queue, bindingKeys)
    const kind = this.routing.routingTable.classifyQueue(queue).kind
    return kind === 'anycast' || kind === 'notification' ? cells : this.register(queue, cells)
  }

  private register(queue: string, cells: readonly string[]): readonly string[] {
    this.routing.queues.declared(queue, cells, this.identity.id)
    this.declared.add(queue)
    return cells
  }

  queueCells(queue: string): readonly string[] {
    return this.routing.queues.cellsOf(queue) ?? this.place(queue, [])
  }

  queueDeleted(queue: string): void {
    this.routing.queues.deleted(queue)
    this.declared.delete(queue)
  }

  publish(exchange: string, routingKey: string, _props: BasicProperties, body: Buffer): PublishRoute {
    const table = this.routing.routingTable
    const p = table.placePublish(exchange, routingKey, () => this.publisherCell(table, body), this.lookups)
    switch (p.kind) {
      case 'cells':
        this.routing.counters.routed(p.cells.length === 1 ? p.cells[0]! : '*')
        if (this.routing.traceDecisions) {
          this.routing.trace('routed', { conn: this.identity.id, exchange, routing_key: routingKey, cells: p.cells.join(','), why: p.why, publisher: p.publisher })
        }
        return { cells: p.cells, why: p.why }
      case 'park':
        this.routing.counters.parked(p.host)
        this.routing.warnOnce(`park:${p.host}`, 'parking messages for a host whose cell takes no work', {
          host: p.host,
          reason: p.reason,
          mapped_cell: p.mappedCell,
          parking_cell: p.cell,
        })
        return {
          cells: [p.cell],
          why: `parked: ${p.reason}`,
          rewrite: {
            exchange: '',
            routingKey: PARKED_QUEUE,
            queue: PARKED_QUEUE,
            headers: {
              'x-cellgate-parked-exchange': exchange,
              'x-cellgate-parked-routing-key': routingKey,
              'x-cellgate-parked-host': p.host,
              'x-cellgate-parked-reason': p.reason,
              'x-cellgate-parked-cell': p.mappedCell,
            },
          },
        }
      case 'refuse':
        this.routing.counters.refused(p.host ?? '')
        this.routing.warnOnce(`refuse:${p.host ?? ''}:${p.reason}`, 'refusing messages nobody can take', { host: p.host, reason: p.reason, exchange, routing_key: routingKey })
        return { cells: [], refused: p.reason, why: `refused: ${p.reason}` }
    }
  }

  /**
   * The publisher's cell for a message. With one work cell every answer is that cell, so the
   * evidence (and above all the message's args, a JSON parse per message) is not even looked at.
   */
  private publisherCell(table: RoutingTable, body: Buffer): PublisherCell {
    if (table.workCells.length === 1) return { kind: 'cell', cell: table.workCells[0]!, why: 'default-cell' }
    return table.publisherCell(this.routing.facts(this.identity, this.ownHost, () => argsHintsOf(body), this.process))
  }

  closed(): void {
    this.routing.queues.connectionClosed(this.identity.id, this.declared)
    this.declared.clear()
    if (this.control !== undefined) this.routing.detachFrontEnd(this.control)
  }

  attach(control: FrontEndControl): void {
    this.control = control
    this.routing.attachFrontEnd(control)
  }

  /** What a declaration tells about the declarer: an RPC server's `T.<host>` queue names its host. */
  private observe(queue: string): void {
    const table = this.routing.routingTable
    const dest = table.classifyQueue(queue)
    if (dest.kind === 'server' && this.ownHost === undefined) {
      this.ownHost = dest.host
      this.routing.processHosts.learned(this.process, dest.host)
    }
    const topic = learnableTopic(dest)
    if (topic !== undefined) table.learnTopic(topic)
  }

  private place(queue: string, bindingKeys: readonly string[]): readonly string[] {
    const table = this.routing.routingTable
    const ownCell = table.ownCell(this.routing.facts(this.identity, this.ownHost))
    const p = table.placeQueue({ queue, ownCell, bindingKeys })
    if (this.routing.traceDecisions) {
      this.routing.trace('queue placed', { conn: this.identity.id, queue, own_cell: ownCell, own_host: this.ownHost, placement: p.kind === 'cells' ? `${p.cells.join(',')} (${p.why})` : p.kind })
    }
    switch (p.kind) {
      case 'cells':
        return p.cells
      case 'park':
        return [p.cell]
      case 'refuse':
        this.routing.warnOnce(`queue-refuse:${queue}`, 'no cell for a queue; declaring it on the connection\'s own cell', { queue, reason: p.reason, cell: this.homeCell })
        return [this.homeCell]
    }
  }
}

/** A vhost that names a disabled cell still belongs there: its consumers drain what is left. */
function vhostCellEvenIfDisabled(vhost: string, map: CellMap): string | undefined {
  const name = map.vhostCell.get(vhost)
  return name !== undefined && findCell(map, name) !== undefined ? name : undefined
}

/** The oslo 2.0 envelope double-encodes the message; anything else gives no hints. */
function argsHintsOf(body: Buffer): ArgsHints {
  if (body.length === 0 || body.length > 1 << 20 || body[0] !== 0x7b) return NO_HINTS
  try {
    const outer = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    const inner = typeof outer['oslo.message'] === 'string' ? (JSON.parse(outer['oslo.message']) as unknown) : outer
    return extractArgsHints(inner)
  } catch {
    return NO_HINTS
  }
}
