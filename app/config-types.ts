/**
 * The validated, defaults-applied configuration cellgate runs with.
 * `schemas/config.schema.json` is the source of truth for what a file may say; this type is
 * what `loadConfig` returns once the file has passed the schema and defaults were filled in.
 */
export interface ListenAmqp {
  host: string
  port: number
}

export interface ListenAmqps extends ListenAmqp {
  /** PEM files; read at start so a bad path fails fast with the field named. */
  cert: string
  key: string
  ca?: string
}

export interface CellConfig {
  /** Stable name used in logs, metrics and routing decisions ("cell1"). */
  name: string
  /** The shard broker, e.g. amqp://guest:guest@127.0.0.1:5672/ (the path is the upstream vhost). */
  rabbit: string
  disabled: boolean
  /** nova's cell uuid, to resolve nova_api mappings that name cells by uuid. */
  uuid?: string
  /** The cell database for the SQL front end. */
  database?: string
  region?: string
  pod?: string
  /** Create the vhost at start with rabbitmqctl when missing (local brokers only). */
  createVhost?: boolean
}

export interface RoutingConfig {
  /** Sidecar mode: the host whose publishers this cellgate serves. */
  host?: string
  defaultCell?: string
  /** Where messages for hosts of disabled or unknown cells wait (nova's cell0); takes no other work. */
  parkingCell?: string
  notificationsCell?: string
}

export interface MappingConfig {
  /** host → cell name */
  hosts: Record<string, string>
  /** instance uuid → cell name */
  instances: Record<string, string>
  /** nova_api database URL: nova's own cell, host and instance mappings. */
  novaApi?: string
  /** cellgate's own mapping tables: SQLite path or mysql:// URL. */
  store?: string
  /** A mapping file (absolute once loaded). */
  file?: string
  pollIntervalMs: number
}

/** Recording what passes through cellgate as a storm trace (adapters/recorder). */
export interface RecorderConfig {
  enabled: boolean
  /** Trace file written when the recording ends (absolute once loaded). */
  file: string
  maxSeconds: number
  maxEvents: number
  pseudonymizeHosts: boolean
}

export interface AdminConfig {
  enabled: boolean
  host: string
  port: number
}

export interface VhostConfig {
  /** The vhost clients name in connection.open ("/" for transport_url ending in "/"). */
  name: string
  /** The cell whose publishers use this vhost (routing hint; optional). */
  cell?: string
}

export interface UserConfig {
  name: string
  /** Plain password, or... */
  password?: string
  /** ...its hex SHA-256, so config files need not hold secrets in clear. */
  passwordSha256?: string
  /** Client vhosts this user may open; "*" allows all configured vhosts. */
  vhosts: string[]
}

export interface AmqpFrontConfig {
  /** Heartbeat proposed to clients in connection.tune, seconds (never 0). */
  heartbeat: number
  frameMax: number
  channelMax: number
  /** Largest message body accepted from a client (RabbitMQ's max_message_size analogue). */
  maxMessageBytes: number
}

export interface UpstreamConfig {
  /** Pooled broker connections per (cell, upstream vhost) that client channels share. */
  connectionsPerCell: number
  /** Upstream channels opened per pooled connection before another connection is used. */
  channelsPerConnection: number
  /** Cap on unacked deliveries per upstream channel: bounds what cellgate holds for a slow client. */
  prefetch: number
  /** Publishes in flight to the broker per client channel before cellgate stops reading that client. */
  maxUnconfirmedPerChannel: number
  /** Heartbeat cellgate asks of the broker, seconds. */
  heartbeat: number
  /** First reconnect delay; doubles up to reconnectMaxDelayMs. */
  reconnectDelayMs: number
  reconnectMaxDelayMs: number
}

export interface LogConfig {
  level: 'debug' | 'info' | 'warn' | 'error'
  format: 'text' | 'json'
}

export interface TelemetryConfig {
  serviceName: string
  tracing: {
    exporter: 'none' | 'console' | 'otlp-http'
    sampleRatio: number
    endpoint?: string
  }
  metrics: {
    prometheus: boolean
    otlpEndpoint?: string
    otlpIntervalMs: number
  }
}

export interface SqlUserConfig {
  name: string
  password?: string
  nativePasswordHash?: string
}

export interface SqlConfig {
  enabled: boolean
  host: string
  port: number
  /** Server for databases no cell names (mysql://user:pass@host:port/). */
  defaultBackend: string
  /** Extra database name → mysql:// URL entries beside the cells' `database`. */
  databases: Record<string, string>
  users: SqlUserConfig[]
  /** One logical database spread over shards (absent: schema mode only). */
  shardMode?: SqlShardModeConfig
}

export interface SqlShardModeConfig {
  /** The logical database name clients use (nova). */
  database: string
  /** Fixed order: ids route by id % shards.length. */
  shards: Array<{ name: string; url: string }>
}

export interface CellgateConfig {
  listen: { amqp: ListenAmqp; amqps?: ListenAmqps }
  cells: CellConfig[]
  vhosts: VhostConfig[]
  users: UserConfig[]
  amqp: AmqpFrontConfig
  upstream: UpstreamConfig
  routing: RoutingConfig
  mapping: MappingConfig
  admin: AdminConfig
  recorder: RecorderConfig
  telemetry: TelemetryConfig
  sql: SqlConfig
  log: LogConfig
}
