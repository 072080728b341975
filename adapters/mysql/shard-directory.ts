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
 * per controller) learn each other's placements when they need them: an INSERT naming an instance
 * or host this process does not know looks it up in the shards' placement tables (lookup()) before
 * it is refused; reads of a key placed elsewhere scatter (still correct) until then.
 */
import type { Logger } from '../log/logger.js'
import type { MappingRecord, MissingKey, ShardId, ShardInfo, ShardMap } from '../../router/sql/plan.js'
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
      records.map((rec) => {
        const name = rec.kind === 'instance' ? rec.uuid : rec.host
        return this.placements.get(rec.shard)!.submit({ kind: rec.kind, name })
      }),
    )
    const failed = stored.find((e) => e !== null)
    if (failed) return failed
    for (const rec of records) this.remember(rec.kind, rec.kind === 'instance' ? rec.uuid : rec.host, rec.shard)
    return null
  }

  /**
   * Looks a key this process does not know up in every shard's placement table (another cellgate
   * process in front of the same shards placed it) and remembers where it is. Returns the shard,
   * or undefined when no reachable shard has it.
   */
  async lookup(key: MissingKey): Promise<ShardId | undefined> {
    const sql = `SELECT name FROM ${PLACEMENT_TABLE} WHERE kind = ${quoteString(key.kind)} AND name = ${quoteString(key.name)}`
    const replies = await Promise.all(this.shards.map((s) => this.links.get(s.id)!.run(sql)))
    const holders = this.shards.filter((_, i) => {
      const r = replies[i]!
      return r.kind === 'rows' && r.rows.length > 0
    })
    const home = holders[0]
    if (home === undefined) return undefined
    if (holders.length > 1) this.log.warn('key placed on several shards; using the first', { kind: key.kind, name: key.name, shards: holders.map((h) => h.id).join(',') })
    this.remember(key.kind, key.name, home.id)
    this.log.info('learned placement from the shards', { kind: key.kind, name: key.name, shard: home.id })
    return home.id
  }

  /** Takes placements as known without storing them (their rows were written, their store failed). */
  assume(records: readonly MappingRecord[]): void {
    for (const rec of records) this.remember(rec.kind, rec.kind === 'instance' ? rec.uuid : rec.host, rec.shard)
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

function bytesText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')
  return String(v)
}
