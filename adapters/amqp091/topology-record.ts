import type { FieldTable } from './field-table.js'

export interface ExchangeDecl {
  name: string
  type: string
  durable: boolean
  autoDelete: boolean
  internal: boolean
  arguments: FieldTable
}

export interface QueueDecl {
  name: string
  durable: boolean
  exclusive: boolean
  autoDelete: boolean
  arguments: FieldTable
  /** The cells the router placed the queue on (empty while its placement is deferred); its bindings live there too. */
  cells: readonly string[]
}

export interface BindingDecl {
  queue: string
  exchange: string
  routingKey: string
  arguments: FieldTable
}

/**
 * What one client connection declared, in order, so it can be declared again on a new broker
 * connection after the old one was lost (non-durable entities die with a broker restart, and
 * oslo clients never re-check what they declared once).
 */
export class TopologyRecord {
  readonly exchanges = new Map<string, ExchangeDecl>()
  readonly queues = new Map<string, QueueDecl>()
  readonly bindings = new Map<string, BindingDecl>()
  /** Deferred queues being placed and declared now: one placement per queue, however many channels ask. */
  readonly placing = new Map<string, Promise<readonly string[]>>()

  exchangeDeclared(d: ExchangeDecl): void {
    this.exchanges.set(d.name, d)
  }

  exchangeDeleted(name: string): void {
    this.exchanges.delete(name)
    for (const [k, b] of this.bindings) if (b.exchange === name) this.bindings.delete(k)
  }

  queueDeclared(d: QueueDecl): void {
    this.queues.set(d.name, d)
  }

  queueDeleted(name: string): void {
    this.queues.delete(name)
    for (const [k, b] of this.bindings) if (b.queue === name) this.bindings.delete(k)
  }

  bindingsOf(queue: string): BindingDecl[] {
    return [...this.bindings.values()].filter((b) => b.queue === queue)
  }

  bound(b: BindingDecl): void {
    this.bindings.set(bindingKey(b), b)
  }

  unbound(b: BindingDecl): void {
    this.bindings.delete(bindingKey(b))
  }

  /** Exclusive queues must be deleted by cellgate: the broker connection outlives the client. */
  exclusiveQueues(cell: string): string[] {
    return [...this.queues.values()].filter((q) => q.exclusive && q.cells.includes(cell)).map((q) => q.name)
  }

  /** Whether a queue this connection declared lives on `cell` (bindings of unknown queues replay everywhere they were made). */
  queueOn(queue: string, cell: string): boolean {
    const q = this.queues.get(queue)
    return q === undefined || q.cells.includes(cell)
  }
}

function bindingKey(b: BindingDecl): string {
  return `${b.queue}\u0000${b.exchange}\u0000${b.routingKey}\u0000${JSON.stringify(b.arguments)}`
}

/** Queues whose name the broker chose (amq.gen-*): the amq. prefix is reserved, so they cannot be declared again by name. */
export function isServerNamed(queue: string): boolean {
  return queue.startsWith('amq.')
}
