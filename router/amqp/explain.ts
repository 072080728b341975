import type { HostPlacement } from './host-cell.js'
import type { OsloDestination } from './oslo-destination.js'
import type { PublishPlacement } from './place-publish.js'
import type { QueuePlacement } from './place-queue.js'
import type { PublisherCell } from './publisher-cell.js'

/**
 * One line per decision for `cellgate routes` and logs, built only from the decision's own
 * fields, e.g. "compute.node7 → cell2 (host-mapping from nova_api)".
 */
export function explainPublish(exchange: string, routingKey: string, p: PublishPlacement): string {
  return `${target(exchange, routingKey)} → ${outcome(p)}`
}

export function explainQueue(queue: string, p: QueuePlacement): string {
  return `queue ${queue} → ${outcome(p)}`
}

export function explainHost(host: string, p: HostPlacement): string {
  switch (p.kind) {
    case 'cell':
      return `${host} → ${p.cell} (${p.why === 'host-mapping' ? mapping(p.source) : 'rendezvous'})`
    case 'park':
      return `${host} → parked in ${p.cell} (${parkText(p.reason, p.mappedCell)})`
    case 'refuse':
      return `${host} → refused (${p.reason === 'no-enabled-cell' ? 'no enabled cell' : `${parkText(p.reason, p.mappedCell ?? '?')}, no parking cell`})`
  }
}

export function explainPublisher(p: PublisherCell): string {
  if (p.kind === 'none') return 'publisher in no cell (no enabled cell)'
  const ev = p.evidence === undefined ? '' : ` ${p.evidence}`
  const via = p.via === undefined ? '' : ` via ${p.via}`
  return `publisher in ${p.cell} (${p.why}${ev}${via})`
}

export function describeDestination(d: OsloDestination): string {
  switch (d.kind) {
    case 'server':
      return `server ${d.server} of ${d.topic}${d.host === d.server ? '' : ` (host ${d.host})`}`
    case 'anycast':
      return `anycast ${d.topic}`
    case 'fanout':
      return `fanout ${d.topic}`
    case 'reply':
      return `reply ${d.queue}`
    case 'notification':
      return `notification ${d.topic} (${d.priority})`
    case 'other':
      return `other (${d.reason})`
  }
}

function outcome(p: PublishPlacement | QueuePlacement): string {
  switch (p.kind) {
    case 'cells': {
      const source = 'source' in p ? p.source : undefined
      const publisher = 'publisher' in p && p.publisher !== undefined ? `, publisher by ${p.publisher}` : ''
      const why = p.why === 'host-mapping' ? mapping(source) : p.why
      return `${p.cells.join(', ')} (${why}${publisher})`
    }
    case 'park':
      return `parked in ${p.cell} (host ${p.host}: ${parkText(p.reason, p.mappedCell)})`
    case 'refuse':
      return `refused (${p.reason}${p.host === undefined ? '' : ` for host ${p.host}`})`
  }
}

function target(exchange: string, routingKey: string): string {
  if (exchange === '') return routingKey === '' ? '(default exchange)' : routingKey
  return routingKey === '' ? `${exchange}` : `${exchange}/${routingKey}`
}

function mapping(source: string | undefined): string {
  return source === undefined ? 'host-mapping' : `host-mapping from ${source}`
}

function parkText(reason: string, mappedCell: string): string {
  switch (reason) {
    case 'cell-disabled':
      return `mapped to disabled ${mappedCell}`
    case 'cell-unknown':
      return `mapped to unknown cell ${mappedCell}`
    default:
      return `mapped to the parking cell ${mappedCell}`
  }
}
