/**
 * Entry point of the MySQL-protocol SQL front end: clients connect to cellgate as if it were
 * MariaDB. In schema mode each session's statements go to the backend server its default
 * database maps to (sql-routing.md §2.1 "Mode A"); with `shardMode`, sessions on the shard-mode
 * database have every statement planned and run across the shards ("Mode B", shard-session.ts).
 * See client-session.ts for the per-connection behaviour and the design decisions.
 *
 *   const front = await startSqlFront({
 *     listen: { host: '127.0.0.1', port: 3307 },
 *     users: { nova: { password: 'secret' } },
 *     databases: { nova_cell1: { host: 'db1', port: 3306, user: 'nova', password: 'x', database: 'nova' } },
 *     defaultBackend: { host: '127.0.0.1', port: 3306, user: 'root', password: '' },
 *   }, log)
 *   ...
 *   await front.close()
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { createSecureContext } from 'node:tls'
import type { Logger } from '../log/logger.js'
import { routeSchema } from '../../router/sql/schema-route.js'
import { CACHING_SHA2, NATIVE, type SqlUsers } from './auth.js'
import { BackendConnection, type BackendServer } from './backend-connection.js'
import { BackendPool } from './backend-pool.js'
import { ClientSession, type RoutedBackend, type SessionContext } from './client-session.js'
import { Cap, DEFAULT_COLLATION } from './protocol.js'
import { ShardDirectory } from './shard-directory.js'
import type { ShardContext } from './shard-session.js'
import { PlanCache } from '../../router/sql/plan-cache.js'
import { novaShardSchema, type ShardSchema } from '../../router/sql/shard-schema.js'

export type { SqlUser, SqlUsers } from './auth.js'

/** A backend MariaDB/MySQL server, and optionally the name a logical database has there. */
export interface SqlBackend extends BackendServer {
  /**
   * The database on this server that the logical name maps to; the logical name itself when
   * absent. For the default backend: the database of sessions that name none.
   */
  database?: string
}

export interface SqlFrontOptions {
  listen: { host: string; port: number }
  /** Offer TLS (SSLRequest upgrade) with this PEM certificate and key; plaintext stays allowed. */
  tls?: { cert: string; key: string; ca?: string }
  /** Accounts clients log in with (cellgate terminates auth; backends have their own credentials). */
  users: SqlUsers
  /** Logical database name → its backend (schema mode). */
  databases: Readonly<Record<string, SqlBackend>>
  /** Backend for any database not in `databases`, and for sessions without a database. */
  defaultBackend: SqlBackend
  pool?: {
    /** Backend connections per server (busy + idle). Default 64. */
    maxPerServer?: number
    /** Idle backend connections are closed after this long. Default 60 000 ms. */
    idleTimeoutMs?: number
    /** Backend connect + login timeout. Default 5 000 ms. */
    connectTimeoutMs?: number
    /** How long a statement waits for a backend connection when all are in use; then error 1040. Default 10 000 ms. */
    waitTimeoutMs?: number
  }
  /** Version string in the greeting; default: the default backend's own, read at start. */
  serverVersion?: string
  /** Plugin named in the greeting. Default mysql_native_password (as MariaDB does). */
  authPlugin?: typeof NATIVE | typeof CACHING_SHA2
  /** Largest packet accepted from a client or a backend. Default 64 MiB. */
  maxPacketSize?: number
  /** One logical database spread over several shards (shard mode). */
  shardMode?: SqlShardMode
}

/** Shard mode: sessions on `database` are routed row by row over `shards`. */
export interface SqlShardMode {
  /** The logical database name clients use (nova). */
  database: string
  /**
   * The shards in their fixed order: shard i gets auto_increment_offset i+1 and the increment is
   * the number of shards, so `id % shards.length` names a row's shard. Never reorder; append only
   * with a data migration.
   */
  shards: ReadonlyArray<{ name: string; backend: SqlBackend & { database: string } }>
  /** Table rules; default: nova's main database (router/sql/shard-schema.ts). */
  schema?: ShardSchema
  /** Statement shapes kept in the plan cache (LRU). Default 4096. */
  planCacheSize?: number
}

export interface SqlFront {
  /** The port actually bound (useful with port 0). */
  port: number
  /** Stops listening, ends client sessions and closes pooled backend connections. */
  close(): Promise<void>
}

/** Used when the default backend cannot be asked at start; SQLAlchemy reads VERSION() anyway. */
const FALLBACK_VERSION = '5.5.5-10.11.0-MariaDB-cellgate'

export async function startSqlFront(options: SqlFrontOptions, log: Logger): Promise<SqlFront> {
  const maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024
  const pool = new BackendPool(
    {
      maxPerServer: options.pool?.maxPerServer ?? 64,
      idleTimeoutMs: options.pool?.idleTimeoutMs ?? 60_000,
      connectTimeoutMs: options.pool?.connectTimeoutMs ?? 5_000,
      waitTimeoutMs: options.pool?.waitTimeoutMs ?? 10_000,
      maxPacketSize,
    },
    log,
  )
  const serverVersion = options.serverVersion ?? (await probeVersion(options.defaultBackend, maxPacketSize, log))
  const tls = options.tls
    ? createSecureContext({
        cert: readFileSync(options.tls.cert),
        key: readFileSync(options.tls.key),
        ...(options.tls.ca ? { ca: readFileSync(options.tls.ca) } : {}),
      })
    : null
  // Routing entries carry a name for logs; same-server entries share a pool (keyed by server).
  const named = (name: string, b: SqlBackend): RoutedBackend => ({
    name,
    server: { host: b.host, port: b.port, user: b.user, password: b.password },
    ...(b.database !== undefined ? { database: b.database } : {}),
  })
  const databases = new Map(Object.entries(options.databases).map(([db, b]) => [db, named(db, b)] as const))
  const fallback = named('default', options.defaultBackend)
  let rsa: { publicPem: string; privateKey: KeyObject } | null = null
  let shard: ShardContext | null = null
  let directory: ShardDirectory | null = null
  if (options.shardMode) {
    const sm = options.shardMode
    if (sm.shards.length === 0) throw new Error('shardMode needs at least one shard')
    directory = new ShardDirectory(
      sm.shards.map((s) => ({ name: s.name, server: { host: s.backend.host, port: s.backend.port, user: s.backend.user, password: s.backend.password }, database: s.backend.database })),
      { connectTimeoutMs: options.pool?.connectTimeoutMs ?? 5_000, maxPacketSize },
      log,
    )
    await directory.load()
    shard = { database: sm.database, directory, schema: sm.schema ?? novaShardSchema, cache: new PlanCache(sm.planCacheSize ?? 4096) }
  }
  const ctx: SessionContext = {
    log,
    users: options.users,
    pool,
    route: (db) => routeSchema(db, databases, fallback),
    serverVersion: () => serverVersion,
    authPlugin: options.authPlugin ?? NATIVE,
    tls,
    maxPacketSize,
    shard,
    rsaKeys: () => {
      if (!rsa) {
        const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
        rsa = { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey }
      }
      return rsa
    },
  }

  const sessions = new Set<ClientSession>()
  let nextId = 1
  const server = createServer((socket: Socket) => {
    const session = new ClientSession(socket, ctx, nextId++)
    sessions.add(session)
    socket.once('close', () => sessions.delete(session))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  log.info('SQL front end listening', {
    host: options.listen.host,
    port,
    backends: databases.size + 1,
    tls: tls !== null,
    ...(shard ? { shardMode: shard.database, shards: shard.directory.shards.length } : {}),
  })
  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sessions) s.shutdown()
      await closed
      await pool.close()
      directory?.close()
    },
  }
}

/** The default backend's version string, so clients see the server they are really using. */
async function probeVersion(b: SqlBackend, maxPacketSize: number, log: Logger): Promise<string> {
  try {
    const c = await BackendConnection.connect(b, { capabilities: Cap.LONG_PASSWORD | Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH, collation: DEFAULT_COLLATION, database: null, connectTimeoutMs: 3000, maxPacketSize })
    c.quit()
    return c.serverVersion
  } catch (e) {
    log.warn('default SQL backend unreachable at start; using a generic version string', { err: (e as Error).message })
    return FALLBACK_VERSION
  }
}
