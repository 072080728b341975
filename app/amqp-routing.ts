import type { AmqpRouting, ConnectionIdentity, ConnectionRouting, PublishRoute, RoutingRefusal } from '../adapters/amqp091/routing-port.js'
import type { BasicProperties } from '../adapters/amqp091/methods.generated.js'
import type { CellMap } from '../router/cell-map.js'
import { placeConnection } from '../router/amqp/place-connection.js'
import { QueueDirectory } from './queue-directory.js'

/**
 * The routing layer behind the AMQP front end: holds the current cell map and what cellgate has
 * learned (where queues were declared), and asks the pure router for every decision.
 */
export class CellRouting implements AmqpRouting {
  readonly queues = new QueueDirectory()
  private map: CellMap

  constructor(map: CellMap) {
    this.map = map
  }

  /** A new cell map (mapping sources changed): decisions from now on use it. */
  replaceMap(map: CellMap): void {
    this.map = map
  }

  get cellMap(): CellMap {
    return this.map
  }

  forConnection(identity: ConnectionIdentity): ConnectionRouting | RoutingRefusal {
    const placement = placeConnection(identity.vhost, this.map)
    if (placement.kind === 'refuse') return { refused: placement.reason }
    return new ConnectionCellRouting(this, identity, placement.cell)
  }
}

class ConnectionCellRouting implements ConnectionRouting {
  private readonly declared = new Set<string>()

  constructor(
    private readonly routing: CellRouting,
    private readonly identity: ConnectionIdentity,
    readonly homeCell: string,
  ) {}

  declareQueue(queue: string, _exclusive: boolean): readonly string[] {
    const cells = this.routing.queues.cellsOf(queue) ?? [this.homeCell]
    this.routing.queues.declared(queue, cells, this.identity.id)
    this.declared.add(queue)
    return cells
  }

  queueCells(queue: string): readonly string[] {
    return this.routing.queues.cellsOf(queue) ?? [this.homeCell]
  }

  queueDeleted(queue: string): void {
    this.routing.queues.deleted(queue)
    this.declared.delete(queue)
  }

  publish(exchange: string, routingKey: string, _props: BasicProperties, _body: Buffer): PublishRoute {
    if (exchange === '') {
      const cells = this.routing.queues.cellsOf(routingKey)
      if (cells !== undefined) return { cells }
    }
    return { cells: [this.homeCell] }
  }

  closed(): void {
    this.routing.queues.connectionClosed(this.identity.id, this.declared)
    this.declared.clear()
  }
}
