import type { Logger } from '../adapters/log/logger.js'
import { CellgateStore } from '../adapters/mapping/cellgate-store.js'
import { FileMappingSource } from '../adapters/mapping/file-source.js'
import { NovaApiSource } from '../adapters/mapping/nova-api-source.js'
import type { MappingSource } from '../adapters/mapping/source.js'
import { watchMapping, type MappingWatch } from '../adapters/mapping/watch.js'
import type { Cell } from '../router/cell-map.js'
import type { MappingSnapshot } from '../router/mapping-snapshot.js'
import { mergeSnapshots, type MergeResult, type MergeWarning } from '../router/merge-snapshots.js'
import type { CellgateConfig } from './config-types.js'

export interface MappingFeed {
  /** The sources in priority order, for logs and the operator view. */
  readonly sources: readonly string[]
  current(): MergeResult
  /** Poll every source now (tests, `cellgate routes --refresh`). */
  refresh(): Promise<void>
  close(): Promise<void>
}

/** The configuration's own `mapping.hosts`/`instances`, as a source like the others. */
export const CONFIG_SOURCE = 'config'

/**
 * Reads every configured mapping source, merges them into one CellMap (priority: cellgate's own
 * tables, the config file's inline entries, a mapping file, nova_api) and calls `onChange` with
 * each new merge while the sources are watched. A source that cannot be read at start fails the
 * start: routing hosts by hash while their mapping is unreadable would put them in the wrong cell.
 * Later read errors keep the last good snapshot.
 */
export async function startMappingFeed(
  config: CellgateConfig,
  cells: readonly Cell[],
  log: Logger,
  onChange: (result: MergeResult) => void,
): Promise<MappingFeed> {
  const sources: MappingSource[] = []
  try {
    if (config.mapping.store !== undefined) sources.push(await CellgateStore.open({ url: config.mapping.store, logger: log }))
    if (config.mapping.file !== undefined) sources.push(new FileMappingSource({ path: config.mapping.file, logger: log }))
    if (config.mapping.novaApi !== undefined) sources.push(new NovaApiSource({ url: config.mapping.novaApi, logger: log }))
  } catch (err) {
    await Promise.all(sources.map((s) => s.close()))
    throw err
  }
  const snapshots = new Map<string, MappingSnapshot>()
  const inline = configSnapshot(config)
  // Sources were created in priority order: the store (an operator's overrides) first, then the file, then nova_api.
  const isStore = (s: MappingSource): boolean => s instanceof CellgateStore
  const order = [...sources.filter(isStore).map((s) => s.name), CONFIG_SOURCE, ...sources.filter((s) => !isStore(s)).map((s) => s.name)]
  snapshots.set(CONFIG_SOURCE, inline)
  try {
    await Promise.all(
      sources.map(async (s) => {
        try {
          snapshots.set(s.name, await s.read())
        } catch (err) {
          throw new Error(`mapping source ${s.name} cannot be read: ${(err as Error).message}`)
        }
      }),
    )
  } catch (err) {
    await Promise.all(sources.map((s) => s.close()))
    throw err
  }

  const seenWarnings = new Set<string>()
  const merge = (): MergeResult => {
    const result = mergeSnapshots({
      cells,
      vhostCell: config.vhosts.flatMap((v) => (v.cell === undefined ? [] : [[v.name, v.cell] as const])),
      ...(config.routing.parkingCell !== undefined ? { parkingCell: config.routing.parkingCell } : {}),
      snapshots: order.flatMap((name) => snapshots.get(name) ?? []),
    })
    for (const w of result.warnings) {
      const key = JSON.stringify(w)
      if (seenWarnings.has(key)) continue
      seenWarnings.add(key)
      log.warn('mapping: ' + describeWarning(w))
    }
    return result
  }
  let current = merge()
  log.info('cell map loaded', {
    sources: order.join(','),
    hosts: current.map.hostCell.size,
    instances: current.map.instanceCell.size,
  })

  const watches: MappingWatch[] = sources.map((source) =>
    watchMapping({
      source,
      intervalMs: config.mapping.pollIntervalMs,
      initial: snapshots.get(source.name)!,
      logger: log,
      onChange: (snap) => {
        snapshots.set(source.name, snap)
        current = merge()
        log.info('cell map changed', { source: source.name, hosts: current.map.hostCell.size, instances: current.map.instanceCell.size })
        onChange(current)
      },
      onError: (err, failures) => {
        if (failures === 1 || failures % 10 === 0) log.warn('mapping source unreadable; keeping its last good snapshot', { source: source.name, err: err.message, failures })
      },
    }),
  )

  return {
    sources: order,
    current: () => current,
    refresh: async () => {
      await Promise.all(watches.map((w) => w.pollNow()))
    },
    close: async () => {
      await Promise.all(watches.map((w) => w.stop()))
      await Promise.all(sources.map((s) => s.close()))
    },
  }
}

function configSnapshot(config: CellgateConfig): MappingSnapshot {
  return {
    source: CONFIG_SOURCE,
    cells: [],
    hosts: new Map(Object.entries(config.mapping.hosts).map(([h, cell]) => [h, { name: cell }] as const)),
    instances: new Map(Object.entries(config.mapping.instances).map(([u, cell]) => [u.toLowerCase(), { name: cell }] as const)),
  }
}

function describeWarning(w: MergeWarning): string {
  switch (w.kind) {
    case 'unresolved-ref':
      return `${w.source}: ${w.entry} ${w.key} names cell ${w.ref}, which no configured cell stands for; its messages are parked`
    case 'conflict':
      return `${w.entry} ${w.key}: ${w.kept.source} says ${w.kept.cell}, ${w.ignored.source} says ${w.ignored.cell}; ${w.kept.source} wins`
    case 'unconfigured-cell':
      return `${w.source} knows cell ${w.cell}, which is not configured (no shard to route to)`
    case 'parking-cell-unknown':
      return `parking cell ${w.cell} is not configured`
    case 'cell0-without-parking':
      return `${w.source} maps ${w.entries} entries to nova's cell0, but no parking cell is configured`
  }
}
