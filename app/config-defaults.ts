/**
 * The embedded default configuration: what `npm start` runs when no --config (and no
 * CELLGATE_CONFIG) is given. One local RabbitMQ as the only cell, cellgate listening next to it.
 * The `default` values in schemas/config.schema.json document the same numbers; a unit test keeps
 * the two in step.
 */
import type { CellgateConfig } from './config-types.js'

/** Port of the default AMQP listener: RabbitMQ's 5672 + 1, so both can run on one machine. */
export const DEFAULT_AMQP_PORT = 5673
/** Port of the TLS listener when `listen.amqps` is given without a port. */
export const DEFAULT_AMQPS_PORT = 5674
/** Prometheus' conventional exporter port for OpenTelemetry; /metrics, /healthz, /readyz and /routes share it. */
export const DEFAULT_ADMIN_PORT = 9464
/** MySQL's 3306 + 1, as the AMQP listener is RabbitMQ's 5672 + 1. */
export const DEFAULT_SQL_PORT = 3307
/** Bind address of either listener when the file does not say. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'
/** A user's `vhosts` when the file leaves it out: every configured vhost. */
export const DEFAULT_USER_VHOSTS: readonly string[] = ['*']

export const DEFAULT_CONFIG: Readonly<CellgateConfig> = deepFreeze<CellgateConfig>({
  listen: { amqp: { host: DEFAULT_LISTEN_HOST, port: DEFAULT_AMQP_PORT } },
  cells: [{ name: 'default', rabbit: 'amqp://guest:guest@127.0.0.1:5672/', disabled: false }],
  vhosts: [{ name: '/' }],
  users: [{ name: 'guest', password: 'guest', vhosts: ['/'] }],
  amqp: { heartbeat: 60, frameMax: 131072, channelMax: 2047, maxMessageBytes: 134217728 },
  upstream: {
    connectionsPerCell: 4,
    channelsPerConnection: 500,
    prefetch: 256,
    maxUnconfirmedPerChannel: 1024,
    heartbeat: 30,
    reconnectDelayMs: 500,
    reconnectMaxDelayMs: 15000,
  },
  routing: {},
  mapping: { hosts: {}, instances: {}, pollIntervalMs: 5000 },
  admin: { enabled: true, host: DEFAULT_LISTEN_HOST, port: DEFAULT_ADMIN_PORT },
  recorder: { enabled: false, file: 'storm-recording.json', maxSeconds: 600, maxEvents: 1_000_000, pseudonymizeHosts: false },
  telemetry: {
    serviceName: 'cellgate',
    tracing: { exporter: 'none', sampleRatio: 0.01 },
    metrics: { prometheus: true, otlpIntervalMs: 15000 },
  },
  sql: {
    enabled: true,
    host: DEFAULT_LISTEN_HOST,
    port: DEFAULT_SQL_PORT,
    defaultBackend: 'mysql://root@127.0.0.1:3306/',
    databases: {},
    users: [{ name: 'root', password: '' }],
  },
  log: { level: 'info', format: 'text' },
})

/** A fresh, mutable deep copy of the defaults (callers may change it freely). */
export function defaultConfig(): CellgateConfig {
  return structuredClone(DEFAULT_CONFIG) as CellgateConfig
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
