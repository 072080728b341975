/**
 * cellgate's own mapping tables: hosts of services that have no cells (neutron agents, cinder
 * backends), overrides of nova's mappings, and optionally cell descriptions. An embedded SQLite
 * file by default, so one command runs cellgate with no database server; MySQL/MariaDB when a URL
 * is configured, so several cellgates share one store.
 *
 * Every write bumps a revision counter in the same transaction; version() reads only that row,
 * so polling an unchanged store costs one primary-key lookup.
 */
import type { Knex } from 'knex'
import type { CellRef, MappingSnapshot } from '../../router/mapping-snapshot.js'
import type { Logger } from '../log/logger.js'
import { redactDbUrl } from './db-url.js'
import { checkCellName, checkHost, normalizeUuid, UUID_RE, MappingInputError } from './names.js'
import { openKnex } from './open-knex.js'
import type { MappingSource, PlacedSnapshotCell, SourceVersion } from './source.js'
import { STORE_MIGRATIONS_TABLE, storeMigrationSource, T_CELLS, T_HOSTS, T_INSTANCES, T_REVISION } from './store-migrations.js'

export const CELLGATE_DB_SOURCE = 'cellgate-db'
/** Default embedded database file, relative to the working directory. */
export const DEFAULT_STORE_PATH = 'cellgate-mapping.sqlite'

/** A cell as the store keeps it (all but the name optional). */
export interface StoreCell {
  name: string
  uuid?: string
  transportUrl?: string
  databaseUrl?: string
  region?: string
  pod?: string
  disabled?: boolean
}

interface CellRow {
  name: string
  uuid: string | null
  transport_url: string | null
  database_url: string | null
  region: string | null
  pod: string | null
  disabled: number | boolean
}

interface HostRow {
  host: string
  cell: string
}

interface InstanceRow {
  instance_uuid: string
  cell: string
}

interface RevisionRow {
  id: number
  revision: number | string
}

export interface CellgateStoreOptions {
  /**
   * `mysql://…`/`mysql+pymysql://…`/`mariadb://…` for a shared server; a file path,
   * `sqlite:///path` or `:memory:` for the embedded database. Default: DEFAULT_STORE_PATH.
   */
  url?: string
  logger: Logger
}

function migratorConfig(): Knex.MigratorConfig {
  return { migrationSource: storeMigrationSource, tableName: STORE_MIGRATIONS_TABLE }
}

export class CellgateStore implements MappingSource {
  readonly name = CELLGATE_DB_SOURCE
  /** The database, for logs: the URL without its password. */
  readonly where: string
  private readonly db: Knex
  private readonly log: Logger
  private closed = false

  private constructor(db: Knex, where: string, log: Logger) {
    this.db = db
    this.where = where
    this.log = log
  }

  /** Open the store and bring its schema up to date. */
  static async open(opts: CellgateStoreOptions): Promise<CellgateStore> {
    const url = opts.url ?? DEFAULT_STORE_PATH
    const log = opts.logger.child({ source: CELLGATE_DB_SOURCE })
    const { db } = openKnex(url, { logger: log })
    const store = new CellgateStore(db, redactDbUrl(url), log)
    try {
      await store.migrate()
    } catch (err) {
      await db.destroy()
      throw err
    }
    return store
  }

  /**
   * Run pending migrations; returns the names applied (none when up to date). Safe to call again
   * and from several cellgates at once: knex's lock table serializes them, and a cellgate that
   * finds the lock held waits for it rather than failing.
   */
  async migrate(): Promise<string[]> {
    const config = migratorConfig()
    for (let attempt = 0; ; attempt++) {
      try {
        const [, applied] = (await this.db.migrate.latest(config)) as [number, string[]]
        if (applied.length > 0) this.log.info('mapping store migrated', { applied: applied.join(','), db: this.where })
        return applied
      } catch (err) {
        const locked = err instanceof Error && /already locked/i.test(err.message)
        if (!locked || attempt >= 40) throw err
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }

  /** Which migrations this database has, and which it still lacks (for an operator's status view). */
  async migrationStatus(): Promise<{ applied: string[]; pending: string[] }> {
    const [done, pending] = (await this.db.migrate.list(migratorConfig())) as [{ name: string }[], { file: string }[] | string[]]
    return {
      applied: done.map((m) => m.name),
      pending: pending.map((m) => (typeof m === 'string' ? m : m.file)),
    }
  }

  // ------------------------------------------------------------------------------------------
  // Writes (what `cellgate map ...` commands call). Each is one transaction with the revision bump.

  /** Map `host` to `cell`, replacing any earlier mapping of the host. */
  async setHost(host: string, cell: string): Promise<void> {
    const row = { host: checkHost(host), cell: checkCellName(cell), updated_at: this.db.fn.now() }
    await this.write((trx) => trx(T_HOSTS).insert(row).onConflict('host').merge(['cell', 'updated_at']))
  }

  /** Forget `host`'s mapping; false when there was none. */
  async removeHost(host: string): Promise<boolean> {
    return this.write(async (trx) => (await trx(T_HOSTS).where({ host }).delete()) > 0)
  }

  /** Map an instance (uuid, any case) to `cell`. */
  async setInstance(instanceUuid: string, cell: string): Promise<void> {
    const row = { instance_uuid: normalizeUuid(instanceUuid), cell: checkCellName(cell), updated_at: this.db.fn.now() }
    await this.write((trx) => trx(T_INSTANCES).insert(row).onConflict('instance_uuid').merge(['cell', 'updated_at']))
  }

  async removeInstance(instanceUuid: string): Promise<boolean> {
    const key = normalizeUuid(instanceUuid)
    return this.write(async (trx) => (await trx(T_INSTANCES).where({ instance_uuid: key }).delete()) > 0)
  }

  /** Describe a cell (replaces its whole description; omitted fields become empty). */
  async setCell(cell: StoreCell): Promise<void> {
    if (cell.uuid !== undefined && !UUID_RE.test(cell.uuid)) throw new MappingInputError('uuid', `must be a uuid with dashes (got ${JSON.stringify(cell.uuid)})`)
    const row = {
      name: checkCellName(cell.name, 'name'),
      uuid: cell.uuid?.toLowerCase() ?? null,
      transport_url: cell.transportUrl ?? null,
      database_url: cell.databaseUrl ?? null,
      region: cell.region ?? null,
      pod: cell.pod ?? null,
      disabled: cell.disabled ?? false,
      updated_at: this.db.fn.now(),
    }
    const { name: _key, ...rest } = row
    await this.write((trx) => trx(T_CELLS).insert(row).onConflict('name').merge(Object.keys(rest)))
  }

  async removeCell(name: string): Promise<boolean> {
    return this.write(async (trx) => (await trx(T_CELLS).where({ name }).delete()) > 0)
  }

  private async write<R>(op: (trx: Knex.Transaction) => Promise<R> | Knex.QueryBuilder): Promise<R> {
    return this.db.transaction(async (trx) => {
      const result = (await op(trx)) as R
      // Bumped even when nothing changed (e.g. removing an absent host): a spurious poll is cheap,
      // and deciding "did this change anything" per database dialect is not.
      await trx(T_REVISION).where({ id: 1 }).increment('revision', 1)
      return result
    })
  }

  // ------------------------------------------------------------------------------------------
  // Reads

  async read(): Promise<MappingSnapshot> {
    return this.db.transaction(async (trx) => {
      const cellRows = await trx<CellRow>(T_CELLS)
        .select('name', 'uuid', 'transport_url', 'database_url', 'region', 'pod', 'disabled')
        .orderBy('name')
      const hostRows = await trx<HostRow>(T_HOSTS).select('host', 'cell')
      const instRows = await trx<InstanceRow>(T_INSTANCES).select('instance_uuid', 'cell')
      const cells: PlacedSnapshotCell[] = cellRows.map((r) => ({
        name: r.name,
        ...(r.uuid !== null ? { uuid: r.uuid } : {}),
        ...(r.transport_url !== null ? { transportUrl: r.transport_url } : {}),
        ...(r.database_url !== null ? { databaseUrl: r.database_url } : {}),
        ...(r.region !== null ? { region: r.region } : {}),
        ...(r.pod !== null ? { pod: r.pod } : {}),
        disabled: Boolean(Number(r.disabled)),
      }))
      const hosts = new Map<string, CellRef>(hostRows.map((r) => [r.host, { name: r.cell }]))
      const instances = new Map<string, CellRef>(instRows.map((r) => [r.instance_uuid, { name: r.cell }]))
      return { source: CELLGATE_DB_SOURCE, cells, hosts, instances }
    })
  }

  /** The revision counter: changes with every write made through this class. */
  async version(): Promise<SourceVersion> {
    const row = await this.db<RevisionRow>(T_REVISION).where({ id: 1 }).first('revision')
    if (row === undefined) throw new Error(`${T_REVISION} has no row 1: the mapping store was not migrated`)
    return { token: String(row.revision), settled: true }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.destroy()
  }
}
