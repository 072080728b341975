/**
 * Shard mode's ShardMap (router/sql/plan.ts) with its persistence: which shard each instance uuid
 * and each host was placed on, and the sequences that give reference-table rows the same id on
 * every shard (sql-routing.md §2.1 `shard_instances` / `shard_hosts` / `shard_sequences`).
 *
 * ## Where the mapping lives
 * A placement row is stored in a `cellgate_placement` table *on the shard it names*, while the
 * INSERT that needed it runs, and the INSERT's reply waits for it (autocommit, on cellgate's own
 * connection; placements that sessions make while one is being stored go together in the next
 * multi-row INSERT). A crash between the two leaves a row without a placement: its key is then
 * unknown, which is the case below. The mapping thus
 * lives and dies with the data it describes: no extra database to configure, a shard restored from
 * backup brings its own mapping, and a shard that is down at start only makes its keys unknown,
 * which the router answers by scattering reads (never by a wrong single-shard answer). An orphan
 * (the INSERT then rolled back) is harmless: reads go to a shard without the row, "not found".
 * The sequences live on the first shard (`cellgate_sequences`), advanced atomically with
 * `UPDATE … SET next_id = LAST_INSERT_ID(next_id + n)`, so several cellgate processes agree.
 *
 * Planning is synchronous, so lookups read an in-memory copy loaded at start and kept current by
 * this process's own placements. Several cellgate processes in front of the same shards (a sidecar
 * per controller) learn each other's placements when they need them: a statement that would be
 * refused (an INSERT of a child row) or scattered for an instance or host this process does not
 * know looks it up in the shards' placement tables first (lookup()).
 */
import type { Logger } from '../log/logger.js'
import type { MappingRecord, ShardId, ShardInfo, ShardMap, UnknownKeys } from '../../router/sql/plan.js'
import { BackendConnection, BackendError, type BackendServer } from './backend-connection.js'
import type { SqlError } from './packets.js'
import { Cap, Com, DEFAULT_COLLATION } from './protocol.js'
import { GroupCommit } from './group-commit.js'
import { decodeReply, type DecodedReply } from './result-set.js'
import { backendLost } from './sql-errors.js'

export interface ShardBackend {
  /** Shard name (ShardId) used in plans, logs and errors. */
  name: string
  server: BackendServer
  /** The shard's database on its server. */
  database: string
}

export interface ShardTarget extends ShardBackend {
  /** auto_increment_offset of the shard (1-based). */
  offset: number
}

const PLACEMENT_TABLE = 'cellgate_placement'
/** How long a read of a key no shard had scatters without asking the shards again. */
const ABSENT_TTL_MS = 2000
const MAX_ABSENT = 100_000
/** Names asked for in one lookup (a read naming more scatters for the rest, still correct). */
const MAX_LOOKUP_NAMES = 1000
const SEQUENCE_TABLE = 'cellgate_sequences'
const LOGIN_CAPS = Cap.LONG_PASSWORD | Cap.LONG_FLAG | Cap.PROTOCOL_41 | Cap.TRANSACTIONS | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH

const quoteString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const quoteIdent = (s: string): string => `\`${s.replace(/`/g, '``')}\``

/** cellgate's own connection to one shard, one statement at a time, reopened after a failure. */
class StoreLink {
  private conn: BackendConnection | null = null
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly target: ShardTarget,
    private readonly opts: { connectTimeoutMs: number; maxPacketSize: number },
  ) {}

  /** Runs one statement and returns its decoded reply (network failures become an ERR). */
  run(sql: string): Promise<DecodedReply> {
    const next = this.queue.then(() => this.runNow(sql))
    this.queue = next.catch(() => undefined)
    return next
  }

  private async runNow(sql: string): Promise<DecodedReply> {
    try {
      if (this.conn === null || this.conn.closed) {
        this.conn = await BackendConnection.connect(this.target.server, {
          capabilities: LOGIN_CAPS,
          collation: DEFAULT_COLLATION,
          database: this.target.database,
          ...this.opts,
        })
      }
      return await this.collect(this.conn, sql)
    } catch (e) {
      this.conn?.destroy()
      this.conn = null
      return { kind: 'err', error: e instanceof BackendError ? e.sqlError : backendLost() }
    }
  }

  private async collect(conn: BackendConnection, sql: string): Promise<DecodedReply> {
    const packets: Buffer[] = []
    await conn.request(Buffer.concat([Buffer.from([Com.QUERY]), Buffer.from(sql, 'utf8')]), 'query', (p) => packets.push(Buffer.from(p)))
    return decodeReply(packets)
  }

  close(): void {
    this.conn?.quit()
    this.conn = null
  }
}

export class ShardDirectory implements ShardMap {
  readonly shards: readonly ShardInfo[]
  readonly increment: number
  private readonly targets: ReadonlyMap<ShardId, ShardTarget>
  private readonly links = new Map<ShardId, StoreLink>()
  /** Placement writes per shard, grouped: concurrent sessions creating instances share one INSERT. */
  private readonly placements = new Map<ShardId, GroupCommit<Placement, SqlError | null>>()
  private readonly instances = new Map<string, ShardId>()
  private readonly hosts = new Map<string, ShardId>()
  private readonly counts = new Map<ShardId, number>()
  /** Reference tables whose sequence row exists (created or checked by this process). */
  private readonly seeded = new Set<string>()
  private sequenceTable: Promise<SqlError | null> | null = null
  /** Keys looked up in vain, until when (ms) a read does not ask again. */
  private readonly absent = new Map<string, number>()

  constructor(
    backends: readonly ShardBackend[],
    opts: { connectTimeoutMs: number; maxPacketSize: number },
    private readonly log: Logger,
  ) {
    const targets = backends.map((b, i) => ({ ...b, offset: i + 1 }))
    this.shards = targets.map((t) => ({ id: t.name, offset: t.offset, enabled: true }))
    this.increment = targets.length
    this.targets = new Map(targets.map((t) => [t.name, t]))
    for (const t of targets) {
      const link = new StoreLink(t, opts)
      this.links.set(t.name, link)
      this.placements.set(t.name, new GroupCommit((batch) => placeOn(link, batch)))
    }
  }

  target(shard: ShardId): ShardTarget {
    const t = this.targets.get(shard)
    if (t === undefined) throw new Error(`unknown shard ${shard}`)
    return t
  }

  instanceShard(uuid: string): ShardId | undefined {
    return this.instances.get(uuid)
  }

  hostShard(host: string): ShardId | undefined {
    return this.hosts.get(host)
  }

  instanceCount(shard: ShardId): number {
    return this.counts.get(shard) ?? 0
  }

  /** Creates the placement table on every shard and reads what earlier runs placed. */
  async load(): Promise<void> {
    await Promise.all(
      this.shards.map(async (s) => {
        const link = this.links.get(s.id)!
        const created = await link.run(
          `CREATE TABLE IF NOT EXISTS ${PLACEMENT_TABLE} (kind VARCHAR(16) NOT NULL, name VARCHAR(255) NOT NULL, ` +
            'created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (kind, name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
        )
        const rows = created.kind === 'err' ? created : await link.run(`SELECT kind, name FROM ${PLACEMENT_TABLE}`)
        if (rows.kind !== 'rows') {
          const why = rows.kind === 'err' ? rows.error.message : 'no rows'
          this.log.warn('shard placement table unreadable; its keys are unknown and reads scatter', { shard: s.id, err: why })
          return
        }
        for (const r of rows.rows) this.remember(String(r[0]) === 'host' ? 'host' : 'instance', bytesText(r[1]), s.id)
      }),
    )
    this.log.info('shard map loaded', { shards: this.shards.map((s) => s.id).join(','), instances: this.instances.size, hosts: this.hosts.size })
  }

  private remember(kind: 'instance' | 'host', name: string, shard: ShardId): void {
    if (kind === 'host') {
      this.hosts.set(name, shard)
      return
    }
    const prev = this.instances.get(name)
    if (prev === shard) return
    if (prev !== undefined) this.counts.set(prev, (this.counts.get(prev) ?? 1) - 1)
    this.instances.set(name, shard)
    this.counts.set(shard, (this.counts.get(shard) ?? 0) + 1)
  }

  /**
   * Stores new placements (autocommit, on the shard each names, grouped with other sessions'
   * placements to that shard); the error to report if one fails.
   */
  async record(records: readonly MappingRecord[]): Promise<SqlError | null> {
    const stored = await Promise.all(
      records.map((rec) => this.placements.get(rec.shard)!.submit({ kind: rec.kind, name: recordName(rec) })),
    )
    const failed = stored.find((e) => e !== null)
    if (failed) return failed
    this.assume(records)
    return null
  }

  /**
   * Looks keys this process does not know up in every shard's placement table (another cellgate
   * process in front of the same shards placed them) and remembers where they are. Returns how
   * many were found. `recentMisses` skips names looked up in vain within ABSENT_TTL_MS: right for
   * a read (it scatters, still correct), wrong for an INSERT about to be refused.
   */
  async lookup(keys: UnknownKeys, recentMisses: 'skip' | 'ask'): Promise<number> {
    const now = Date.now()
    const names = [...new Set(keys.names)].filter((n) => recentMisses === 'ask' || !((this.absent.get(absentKey(keys.kind, n)) ?? 0) > now)).slice(0, MAX_LOOKUP_NAMES)
    if (names.length === 0) return 0
    const sql = `SELECT name FROM ${PLACEMENT_TABLE} WHERE kind = ${quoteString(keys.kind)} AND name IN (${names.map(quoteString).join(', ')})`
    const replies = await Promise.all(this.shards.map((s) => this.links.get(s.id)!.run(sql)))
    const homes = new Map<string, ShardId[]>()
    replies.forEach((r, i) => {
      if (r.kind !== 'rows') return
      for (const row of r.rows) {
        const name = bytesText(row[0])
        homes.set(name, [...(homes.get(name) ?? []), this.shards[i]!.id])
      }
    })
    if (this.absent.size > MAX_ABSENT) this.absent.clear()
    for (const n of names) {
      const on = homes.get(n)
      if (on === undefined) {
        this.absent.set(absentKey(keys.kind, n), now + ABSENT_TTL_MS)
        continue
      }
      if (on.length > 1) this.log.warn('key placed on several shards; using the first', { kind: keys.kind, name: n, shards: on.join(',') })
      this.absent.delete(absentKey(keys.kind, n))
      this.remember(keys.kind, n, on[0]!)
    }
    if (homes.size > 0) this.log.debug('learned placements from the shards', { kind: keys.kind, found: homes.size, asked: names.length })
    return homes.size
  }

  /** Takes placements as known without storing them (their rows were written, their store failed). */
  assume(records: readonly MappingRecord[]): void {
    for (const rec of records) this.remember(rec.kind, recordName(rec), rec.shard)
  }

  /**
   * `count` consecutive ids for a reference table's new rows. The first use seeds the sequence
   * above the largest id on any shard (rows written before cellgate, or directly).
   */
  async sequence(table: string, count: number): Promise<number[] | SqlError> {
    const first = this.links.get(this.shards[0]!.id)!
    this.sequenceTable ??= first
      .run(`CREATE TABLE IF NOT EXISTS ${SEQUENCE_TABLE} (name VARCHAR(64) NOT NULL PRIMARY KEY, next_id BIGINT NOT NULL) ENGINE=InnoDB`)
      .then((r) => (r.kind === 'err' ? r.error : null))
    const created = await this.sequenceTable
    if (created) {
      this.sequenceTable = null
      return created
    }
    if (!this.seeded.has(table)) {
      let max = 0
      for (const s of this.shards) {
        const r = await this.links.get(s.id)!.run(`SELECT COALESCE(MAX(id), 0) FROM ${quoteIdent(table)}`)
        if (r.kind === 'err') return r.error
        if (r.kind === 'rows') max = Math.max(max, Number(bytesText(r.rows[0]?.[0] ?? null)))
      }
      const seed = await first.run(
        `INSERT INTO ${SEQUENCE_TABLE} (name, next_id) VALUES (${quoteString(table)}, ${max + 1}) ON DUPLICATE KEY UPDATE next_id = GREATEST(next_id, VALUES(next_id))`,
      )
      if (seed.kind === 'err') return seed.error
      this.seeded.add(table)
    }
    const r = await first.run(`UPDATE ${SEQUENCE_TABLE} SET next_id = LAST_INSERT_ID(next_id + ${count}) WHERE name = ${quoteString(table)}`)
    if (r.kind === 'err') return r.error
    if (r.kind !== 'ok') return backendLost()
    const end = r.ok.lastInsertId
    return Array.from({ length: count }, (_, i) => end - count + i)
  }

  close(): void {
    for (const l of this.links.values()) l.close()
  }
}

interface Placement {
  kind: 'instance' | 'host'
  name: string
}

/** One INSERT for a batch of placements (duplicates in it or in the table are no-ops). */
async function placeOn(link: StoreLink, batch: readonly Placement[]): Promise<SqlError | null> {
  const rows = batch.map((p) => `(${quoteString(p.kind)}, ${quoteString(p.name)})`).join(', ')
  const r = await link.run(`INSERT INTO ${PLACEMENT_TABLE} (kind, name) VALUES ${rows} ON DUPLICATE KEY UPDATE name = name`)
  return r.kind === 'err' ? r.error : null
}

/** The instance uuid or host name a placement record is for. */
export const recordName = (rec: MappingRecord): string => (rec.kind === 'instance' ? rec.uuid : rec.host)

const absentKey = (kind: string, name: string): string => `${kind}\u0000${name}`

function bytesText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')
  return String(v)
}
