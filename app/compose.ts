import { readFileSync } from 'node:fs'
import { amqpError } from '../adapters/amqp091/amqp-error.js'
import { UserDirectory } from '../adapters/amqp091/auth.js'
import type { ConnectionContext } from '../adapters/amqp091/client-connection.js'
import { createOtelObserver, type TelemetryHooks } from '../adapters/otel/otel-observer.js'
import { AmqpListener } from '../adapters/amqp091/server.js'
import { createLogger, type Logger } from '../adapters/log/logger.js'
import { CellPool } from '../adapters/rabbit/cell-pool.js'
import { ensureLocalVhosts } from '../adapters/rabbit/vhost-prep.js'
import { buildCellMap, type CellMap } from '../router/cell-map.js'
import { startAdminServer } from '../adapters/admin/http-admin.js'
import { startSqlFront, type SqlFront } from '../adapters/mysql/sql-front.js'
import { CellRouting } from './amqp-routing.js'
import { sqlFrontOptions } from './sql-options.js'
import { buildRoutesView, poolHealth, readiness } from './routes-view.js'
import { startMappingFeed, type MappingFeed } from './mapping-feed.js'
import { applyRemap } from './remap.js'
import { StormRecorder } from '../adapters/recorder/storm-recorder.js'
import { teeObserver } from '../adapters/recorder/tee-observer.js'
import type { CellgateConfig } from './config-types.js'

/**
 * A lost broker connection that comes back within this time is recovered under the clients;
 * beyond it they are disconnected (320). Long enough for a reconnect to a live broker (tens of
 * ms), shorter than py-amqp waits for a publish confirm before giving up on its channel (its
 * socket timeout: min(heartbeat, call timeout), oslo-wire §2.7).
 */
const UPSTREAM_LOST_GRACE_MS = 1500

/** How long a stop waits for telemetry's last export. */
const TELEMETRY_FLUSH_MS = 3000

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

export interface RunningCellgate {
  /** Where the plain AMQP listener ended up (port 0 in the config picks a free one). */
  readonly amqpPort: number
  readonly amqpsPort: number | undefined
  /** The admin HTTP listener's port (/routes, /healthz, /readyz), when enabled. */
  readonly adminPort: number | undefined
  /** The SQL (MySQL protocol) front end's port, when enabled. */
  readonly sqlPort: number | undefined
  /** Broker connections open per cell: the multiplexing figure. */
  upstreamConnections(): Record<string, number>
  clientConnections(): number
  /** The routing layer (cell map, queue directory, counters): for the operator view and tests. */
  readonly routing: CellRouting
  /** Re-read every mapping source now and wait until a resulting remap is applied (queues moved, consumers told). */
  refreshMapping(): Promise<void>
  close(): Promise<void>
}

/**
 * The composition root: builds the cell map, the broker pools and the listeners once; every
 * client connection then gets a small object bound to this shared context.
 */
export async function startCellgate(config: CellgateConfig, log: Logger = loggerFor(config), telemetryHooks: TelemetryHooks = {}): Promise<RunningCellgate> {
  const cellMap = cellMapFromConfig(config)
  await ensureLocalVhosts(config.cells.filter((c) => c.createVhost === true).map((c) => c.rabbit), log)
  const pools = new Map(
    config.cells.map((c) => [
      c.name,
      new CellPool(
        {
          cell: c.name,
          url: c.rabbit,
          maxConnections: config.upstream.connectionsPerCell,
          channelsPerConnection: config.upstream.channelsPerConnection,
          heartbeatSeconds: config.upstream.heartbeat,
          reconnectDelayMs: config.upstream.reconnectDelayMs,
          reconnectMaxDelayMs: config.upstream.reconnectMaxDelayMs,
        },
        log.child({ cell: c.name }),
      ),
    ]),
  )

  const routing = new CellRouting(
    cellMap,
    {
      ...(config.routing.host !== undefined ? { sidecarHost: config.routing.host } : {}),
      ...(config.routing.defaultCell !== undefined ? { defaultCell: config.routing.defaultCell } : {}),
      ...(config.routing.notificationsCell !== undefined ? { notificationsCell: config.routing.notificationsCell } : {}),
    },
    log.child({ component: 'routing' }),
  )
  let remaps: Promise<unknown> = Promise.resolve()
  const remapLog = log.child({ component: 'remap' })
  let feed: MappingFeed
  try {
    feed = await startMappingFeed(config, cellMap.cells, log.child({ component: 'mapping' }), (result) => {
      // One remap at a time, in the order the changes came: each compares against the map in force.
      remaps = remaps
        .then(() => applyRemap(routing, result.map, pools, remapLog))
        .catch((err: unknown) => remapLog.error('remap failed; routing keeps the previous map for the queues it could not move', { err: (err as Error).message }))
    })
  } catch (err) {
    await Promise.all([...pools.values()].map((p) => p.close()))
    throw err
  }
  routing.replaceMap(feed.current().map)
  for (const c of config.cells) if (!c.disabled) pools.get(c.name)!.warm()

  const poolOf = (cell: string): CellPool => {
    const pool = pools.get(cell)
    if (pool === undefined) throw amqpError(541, `INTERNAL_ERROR - the router chose cell '${cell}', which has no broker pool`)
    return pool
  }

  // Telemetry (adapters/otel): metrics always, traces when configured; /metrics on the admin listener.
  const telemetry = createOtelObserver(config.telemetry, {
    pools,
    classify: (exchange, routingKey) => routing.routingTable.classify(exchange, routingKey),
    regionOf: (cell) => config.cells.find((c) => c.name === cell)?.region,
    log: log.child({ component: 'telemetry' }),
    ...telemetryHooks,
  })

  // The storm recorder (adapters/recorder), off by default: one more observer, told who each
  // connection is when it opens (the routing port sees every identity first).
  const recorder = config.recorder.enabled
    ? new StormRecorder(config.recorder, { hostOfProcess: (key) => routing.processHosts.hostOf(key), log: log.child({ component: 'recorder' }) })
    : undefined

  const ctx: ConnectionContext = {
    log,
    users: new UserDirectory(config.users),
    vhosts: new Set(config.vhosts.map((v) => v.name)),
    serverProperties: serverProperties(),
    heartbeat: config.amqp.heartbeat,
    frameMax: config.amqp.frameMax,
    channelMax: config.amqp.channelMax,
    limits: {
      maxMessageBytes: config.amqp.maxMessageBytes,
      prefetchCap: config.upstream.prefetch,
      maxUnconfirmed: config.upstream.maxUnconfirmedPerChannel,
    },
    routing: recorder
      ? {
          forConnection: (identity) => {
            recorder.connectionIdentified(identity)
            return routing.forConnection(identity)
          },
        }
      : routing,
    acquireUpstream: async (cell) => poolOf(cell).acquire(),
    upstreamReachable: (cell) => pools.get(cell)?.reachable === true,
    upstreamLostGraceMs: UPSTREAM_LOST_GRACE_MS,
    observer: recorder ? teeObserver(telemetry.observer, recorder) : telemetry.observer,
  }

  const amqp = await AmqpListener.listen(config.listen.amqp, ctx)
  const amqps = config.listen.amqps ? await AmqpListener.listen({ ...config.listen.amqps, tls: config.listen.amqps }, ctx) : undefined
  let sql: SqlFront | undefined
  if (config.sql.enabled) {
    try {
      sql = await startSqlFront(sqlFrontOptions(config), log.child({ component: 'sql' }))
    } catch (err) {
      await feed.close()
      await Promise.all([amqp.close(), amqps?.close()])
      await Promise.all([...pools.values()].map((p) => p.close()))
      throw new Error(`SQL front end cannot start on ${config.sql.host}:${config.sql.port}: ${(err as Error).message}`)
    }
  }

  // After the AMQP listeners, so /healthz answering means cellgate serves.
  const startedAt = new Date()
  const health = poolHealth(pools)
  let admin: { port: number; close(): Promise<void> } | undefined
  if (config.admin.enabled) {
    try {
      admin = await startAdminServer(
        { host: config.admin.host, port: config.admin.port, extraRoutes: config.telemetry.metrics.prometheus ? { '/metrics': telemetry.metricsRoute } : {} },
        (req) => buildRoutesView({ routing, health, explain: req.explain, startedAt }),
        () => readiness(routing.cellMap, health),
        log.child({ component: 'admin' }),
      )
    } catch (err) {
      await sql?.close()
      await feed.close()
      await Promise.all([amqp.close(), amqps?.close()])
      await Promise.all([...pools.values()].map((p) => p.close()))
      await telemetry.shutdown()
      throw err
    }
  }

  log.info('cellgate listening', {
    amqp: `${config.listen.amqp.host}:${amqp.address.port}`,
    amqps: amqps ? `${config.listen.amqps!.host}:${amqps.address.port}` : undefined,
    admin: admin ? `http://${config.admin.host}:${admin.port}/routes` : undefined,
    sql: sql ? `${config.sql.host}:${sql.port}` : undefined,
    cells: config.cells.map((c) => c.name).join(','),
  })

  return {
    amqpPort: amqp.address.port,
    amqpsPort: amqps?.address.port,
    adminPort: admin?.port,
    sqlPort: sql?.port,
    upstreamConnections: () => Object.fromEntries([...pools].map(([name, p]) => [name, p.connectionCount])),
    clientConnections: () => amqp.connectionCount + (amqps?.connectionCount ?? 0),
    routing,
    refreshMapping: async () => {
      await feed.refresh()
      await remaps
    },
    close: async () => {
      await admin?.close()
      await sql?.close()
      await feed.close()
      await Promise.all([amqp.close(), amqps?.close()])
      await recorder?.stop()
      await Promise.all([...pools.values()].map((p) => p.close()))
      // The last spans and metrics are flushed, but a collector that does not answer must not
      // hold a stopping cellgate for the exporter's retries (measured: 20-30 s).
      const flushed = await Promise.race([telemetry.shutdown().then(() => true), sleepMs(TELEMETRY_FLUSH_MS).then(() => false)])
      if (!flushed) log.warn('telemetry not flushed on stop: the collector did not answer in time', { waited_ms: TELEMETRY_FLUSH_MS })
      log.info('cellgate stopped')
    },
  }
}

/** The cell map the configuration alone describes (mapping sources add to it at run time). */
export function cellMapFromConfig(config: CellgateConfig): CellMap {
  return buildCellMap(
    config.cells.map((c) => ({
      name: c.name,
      disabled: c.disabled,
      transportUrl: c.rabbit,
      ...(c.uuid !== undefined ? { uuid: c.uuid } : {}),
      ...(c.database !== undefined ? { databaseUrl: c.database } : {}),
      ...(c.region !== undefined ? { region: c.region } : {}),
      ...(c.pod !== undefined ? { pod: c.pod } : {}),
    })),
    config.vhosts.flatMap((v) => (v.cell === undefined ? [] : [[v.name, v.cell] as const])),
    {
      hostCell: Object.entries(config.mapping.hosts),
      instanceCell: Object.entries(config.mapping.instances).map(([uuid, cell]) => [uuid.toLowerCase(), cell] as const),
      ...(config.routing.parkingCell !== undefined ? { parkingCell: config.routing.parkingCell } : {}),
    },
  )
}

function loggerFor(config: CellgateConfig): Logger {
  return createLogger({ level: config.log.level, format: config.log.format })
}

/** Advertised in connection.start: RabbitMQ's capability set, which oslo (py-amqp) and amqplib check. */
function serverProperties(): Record<string, string | Record<string, boolean>> {
  return {
    product: 'cellgate',
    version: packageVersion(),
    platform: `Node.js ${process.version}`,
    information: 'cellgate: cell-routing AMQP proxy for OpenStack',
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: false,
    },
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(packageJsonUrl(), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** package.json sits one level above app/ in the source tree and two above dist/app/. */
function packageJsonUrl(): URL {
  const fromDist = new URL('../../package.json', import.meta.url)
  return import.meta.url.includes('/dist/') ? fromDist : new URL('../package.json', import.meta.url)
}
