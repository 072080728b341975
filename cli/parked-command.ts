/**
 * `cellgate parked list|replay`: the messages waiting in the parking cell (nova's cell0 for the
 * bus), shown without consuming them, or re-sent to their host's cell once the mapping gives it
 * one. Talks to the shard brokers named in the configuration; no running cellgate is needed.
 */
import { ConfigError, configPathFrom, loadConfig } from '../app/config.js'
import type { CellgateConfig } from '../app/config-types.js'
import { createLogger } from '../adapters/log/logger.js'
import { listParked, replayParked, type ParkedMessage, type ReplayTarget } from '../adapters/rabbit/parked-queue.js'
import { findCell, type CellMap } from '../router/cell-map.js'
import { placeHost } from '../router/amqp/host-cell.js'
import type { ParkedCommand } from './args.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js'

export async function parkedCommand(cmd: ParkedCommand, io: CliIo): Promise<number> {
  let config: CellgateConfig
  try {
    config = loadConfig(configPathFrom(cmd.configPath, io.env)).config
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.stderr(`cellgate: invalid configuration: ${err.message}\n`)
    return EXIT_USAGE
  }
  const parking = config.cells.find((c) => c.name === config.routing.parkingCell)
  if (parking === undefined) {
    io.stderr('cellgate: parked: the configuration has no routing.parkingCell, so nothing is ever parked (messages for hosts of disabled cells are refused instead)\n')
    return EXIT_USAGE
  }
  const wanted = (m: ParkedMessage): boolean => cmd.hosts.length === 0 || cmd.hosts.includes(m.host)
  try {
    if (cmd.action === 'list') {
      const { total, messages } = await listParked(parking.rabbit, cmd.limit)
      const shown = messages.filter(wanted)
      if (cmd.json) io.stdout(`${JSON.stringify({ cell: parking.name, total, messages: shown }, null, 2)}\n`)
      else io.stdout(renderList(parking.name, total, messages.length, shown))
      return EXIT_OK
    }
    const map = await currentMap(config)
    const outcome = await replayParked(parking.rabbit, cmd.limit, (m): ReplayTarget => (wanted(m) ? targetOf(m, map, config) : { stay: 'not selected (--host)' }))
    if (cmd.json) io.stdout(`${JSON.stringify(outcome, null, 2)}\n`)
    else {
      io.stdout(`re-sent ${outcome.replayed} parked message(s) to their hosts' cells\n`)
      for (const [why, n] of Object.entries(outcome.left)) io.stdout(`  ${n} stay parked: ${why}\n`)
    }
    return EXIT_OK
  } catch (err) {
    io.stderr(`cellgate: parked ${cmd.action}: ${(err as Error).message}\n`)
    return EXIT_FAILURE
  }
}

/** The cell map with every configured mapping source read once (as a running cellgate would see it). */
async function currentMap(config: CellgateConfig): Promise<CellMap> {
  const { cellMapFromConfig } = await import('../app/compose.js')
  const { startMappingFeed } = await import('../app/mapping-feed.js')
  const quiet = createLogger({ level: 'error', format: 'text' })
  const feed = await startMappingFeed(config, cellMapFromConfig(config).cells, quiet, () => {})
  try {
    return feed.current().map
  } finally {
    await feed.close()
  }
}

function targetOf(m: ParkedMessage, map: CellMap, config: CellgateConfig): ReplayTarget {
  if (m.host === '') return { stay: 'no host recorded' }
  const p = placeHost(m.host, map)
  if (p.kind !== 'cell') return { stay: `host ${m.host} still has no cell that takes work (${p.kind === 'park' ? p.reason : p.reason})` }
  const cell = config.cells.find((c) => c.name === p.cell)
  if (cell === undefined || findCell(map, p.cell) === undefined) return { stay: `cell ${p.cell} has no broker in the configuration` }
  return { url: cell.rabbit }
}

function renderList(cell: string, total: number, looked: number, shown: readonly ParkedMessage[]): string {
  const lines = [`${total} message(s) parked in cell ${cell} (queue cellgate.parked); showing ${shown.length} of the first ${looked}`]
  if (shown.length === 0) return `${lines[0]}\n`
  const rows = shown.map((m) => [String(m.n), m.host, m.reason, m.mappedCell, `${m.exchange || '(default)'} ${m.routingKey}`, String(m.bytes)])
  const head = ['#', 'host', 'reason', 'mapped cell', 'destination', 'bytes']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const fmt = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [...lines, fmt(head), ...rows.map(fmt), ''].join('\n')
}
