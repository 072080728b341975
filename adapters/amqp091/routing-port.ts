import type { FieldTable } from './field-table.js'
import type { BasicProperties } from './methods.generated.js'
import type { BindingDecl, ExchangeDecl, QueueDecl } from './topology-record.js'

/**
 * What the AMQP front end asks of the routing layer. The front end knows frames, channels and
 * broker connections; where a queue or a message lives is decided behind this port (by the pure
 * router with the cell map and what cellgate has learned), so the socket code never holds a rule.
 */
export interface AmqpRouting {
  /** Called once per client connection at connection.open; null when no cell can serve it. */
  forConnection(identity: ConnectionIdentity): ConnectionRouting | RoutingRefusal
}

export interface RoutingRefusal {
  readonly refused: string
}

export interface ConnectionIdentity {
  readonly id: string
  readonly vhost: string
  readonly user: string
  /** Remote address of the client socket (one OpenStack process opens several connections). */
  readonly peerAddress: string
  /** Client properties from connection.start-ok (oslo sends connection_name "<prog>:<pid>:<uuid>"). */
  readonly clientProperties: FieldTable
}

/** Where one message goes: a set of cells, and possibly a rewrite (parking in cell0). */
export interface PublishRoute {
  /** Empty when nobody can take the message (then `refused` says why; the publisher gets a nack). */
  readonly cells: readonly string[]
  readonly refused?: string
  /** Why the router chose these cells ("host-mapping", "fanout", "anycast"...), for traces and logs. */
  readonly why?: string
  /** Publish there under another exchange/routing key with extra headers (a parked message). */
  readonly rewrite?: { readonly exchange: string; readonly routingKey: string; readonly headers: FieldTable; readonly queue: string }
}

export interface ConnectionRouting {
  /** The cell of this connection's own work (server-named queues, exchange declarations...). */
  readonly homeCell: string
  /**
   * Cells a queue is declared on; registers it so later publishes (replies) find it. 'deferred'
   * when the connection has not yet said who it is (an oslo RPC server declares its anycast
   * queue `T` before `T.<host>`): the front end then answers declare-ok itself and asks again
   * with placeDeferred() when the queue is first used (consume, get, purge...).
   */
  declareQueue(queue: string, exclusive: boolean): readonly string[] | 'deferred'
  /** The final placement of a deferred queue; `bindingKeys` are the routing keys it was bound with meanwhile. */
  placeDeferred(queue: string, bindingKeys: readonly string[]): readonly string[]
  /** Where an existing queue lives, for bind/consume/get/purge/delete. */
  queueCells(queue: string): readonly string[]
  queueDeleted(queue: string): void
  /** Where a publish goes. Must be cheap: it runs for every message. */
  publish(exchange: string, routingKey: string, props: BasicProperties, body: Buffer): PublishRoute
  /** The client connection ended: forget what only it declared. */
  closed(): void
  /** The front end's handle for the routing layer (a remap re-creates queues and moves consumers). */
  attach(control: FrontEndControl): void
}

/** What the routing layer may ask of a live client connection. */
export interface FrontEndControl {
  /** What this connection declared for `queue`, to re-create it in another cell; undefined if it did not. */
  declarationOf(queue: string): QueueDeclaration | undefined
  /** A server-initiated basic.cancel for every consumer of `queue` (oslo re-subscribes); returns how many. */
  cancelConsumers(queue: string): number
}

export interface QueueDeclaration {
  readonly queue: QueueDecl
  readonly bindings: readonly BindingDecl[]
  /** The exchanges of those bindings that the client declared (amq.* and the default need none). */
  readonly exchanges: readonly ExchangeDecl[]
}
