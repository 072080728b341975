/**
 * The cell mapping as nova itself keeps it: the nova_api tables cell_mappings, host_mappings and
 * instance_mappings (nova/db/api/models.py), read through knex from MySQL/MariaDB.
 *
 * Reads are full reads of only the needed columns: at 100k instances that is a few MB once per
 * detected change, which is simpler and safer than an incremental read (nova deletes and rewrites
 * rows, so "rows with id > last" would miss deletions and cell changes). `version()` is the cheap
 * part that runs every poll; see there for what it can and cannot see.
 */
import type { Knex } from 'knex'
import type { CellRef, MappingSnapshot, SnapshotCell } from '../../router/mapping-snapshot.js'
import type { Logger } from '../log/logger.js'
import { redactDbUrl } from './db-url.js'
import { openKnex } from './open-knex.js'
import type { MappingSource, SourceVersion } from './source.js'

export const NOVA_API_SOURCE = 'nova_api'

interface CellMappingRow {
  id: number
  uuid: string
  name: string | null
  transport_url: string | null
  database_connection: string | null
  disabled: number | null
}

interface HostMappingRow {
  host: string
  cell_id: number
}

interface InstanceMappingRow {
  instance_uuid: string
  cell_id: number
}

interface ProbeRow {
  t: string
  n: number | string
  max_id: number | string | null
  max_updated: string | null
  /** Seconds between the newest updated_at and the database's UTC clock; null when no row was ever updated. */
  age: number | string | null
}

export interface NovaApiSourceOptions {
  /** nova's `[api_database] connection`, e.g. mysql+pymysql://nova:pw@db/nova_api. */
  url: string
  logger: Logger
  /**
   * While the newest `updated_at` in a table is younger than this, version() reports
   * `settled: false` (default 5 s). nova writes `updated_at` with one-second resolution from the
   * API host's clock: a second update in the same second would not move MAX(updated_at), and a
   * skewed clock shifts it; re-reading until the newest change is this old covers both.
   */
  settleSeconds?: number
}

export class NovaApiSource implements MappingSource {
  readonly name = NOVA_API_SOURCE
  private readonly db: Knex
  private readonly log: Logger
  private readonly settleSeconds: number
  private closed = false

  constructor(opts: NovaApiSourceOptions) {
    const opened = openKnex(opts.url, { logger: opts.logger })
    if (opened.target.kind !== 'mysql') {
      void opened.db.destroy()
      throw new Error(`nova_api source needs a MySQL/MariaDB URL, got ${redactDbUrl(opts.url)}`)
    }
    this.db = opened.db
    this.log = opts.logger.child({ source: NOVA_API_SOURCE })
    this.settleSeconds = opts.settleSeconds ?? 5
  }

  async read(): Promise<MappingSnapshot> {
    // One transaction with a consistent snapshot, so a host moved between the three SELECTs is
    // never seen pointing at a cell id that the cell read did not return.
    return this.db.transaction(
      async (trx) => {
        const cellRows = await trx<CellMappingRow>('cell_mappings')
          .select('id', 'uuid', 'name', 'transport_url', 'database_connection', 'disabled')
          .orderBy('id')
        const hostRows = await trx<HostMappingRow>('host_mappings').select('host', 'cell_id')
        // cell_id NULL: nova-api created the mapping but the conductor has not placed it yet.
        const instRows = await trx<InstanceMappingRow>('instance_mappings')
          .select('instance_uuid', 'cell_id')
          .whereNotNull('cell_id')
        return this.toSnapshot(cellRows, hostRows, instRows)
      },
      // Not readOnly: knex 3.3 spells it "ISOLATION LEVEL ... READ ONLY" without the comma, which
      // MariaDB rejects. The transaction never writes anyway.
      { isolationLevel: 'repeatable read' },
    )
  }

  private toSnapshot(cellRows: CellMappingRow[], hostRows: HostMappingRow[], instRows: InstanceMappingRow[]): MappingSnapshot {
    const refById = new Map<number, CellRef>()
    const cells: SnapshotCell[] = cellRows.map((r) => {
      refById.set(Number(r.id), { uuid: r.uuid })
      return {
        uuid: r.uuid,
        ...(r.name !== null ? { name: r.name } : {}),
        ...(r.transport_url !== null ? { transportUrl: r.transport_url } : {}),
        ...(r.database_connection !== null ? { databaseUrl: r.database_connection } : {}),
        disabled: Boolean(Number(r.disabled ?? 0)),
      }
    })
    const hosts = new Map<string, CellRef>()
    for (const r of hostRows) {
      const ref = refById.get(Number(r.cell_id))
      // Impossible under nova's foreign key; logged rather than thrown so one bad row never
      // blanks the whole map.
      if (ref === undefined) this.log.warn('host mapping names an unknown cell id', { host: r.host, cell_id: r.cell_id })
      else hosts.set(r.host, ref)
    }
    const instances = new Map<string, CellRef>()
    for (const r of instRows) {
      const ref = refById.get(Number(r.cell_id))
      if (ref === undefined) this.log.warn('instance mapping names an unknown cell id', { instance: r.instance_uuid, cell_id: r.cell_id })
      else instances.set(r.instance_uuid, ref)
    }
    return { source: NOVA_API_SOURCE, cells, hosts, instances }
  }

  /**
   * Row count, highest id and newest updated_at of each table. Inserts raise the id, deletes
   * lower the count (a delete plus an insert still raises the id), and nova's ORM sets updated_at
   * on every UPDATE. Not seen: a hand-written UPDATE that leaves updated_at alone — the watcher's
   * periodic full read covers that.
   */
  async version(): Promise<SourceVersion> {
    const part = (table: string): string =>
      `SELECT '${table}' AS t, COUNT(*) AS n, MAX(id) AS max_id, MAX(updated_at) AS max_updated, ` +
      `TIMESTAMPDIFF(SECOND, MAX(updated_at), UTC_TIMESTAMP()) AS age FROM ${table}`
    const sql = ['cell_mappings', 'host_mappings', 'instance_mappings'].map(part).join(' UNION ALL ')
    const [rows] = (await this.db.raw(sql)) as [ProbeRow[], unknown]
    let settled = true
    const token = rows
      .map((r) => {
        if (r.age !== null && Number(r.age) < this.settleSeconds) settled = false
        return `${r.t}:${r.n}:${r.max_id ?? ''}:${r.max_updated ?? ''}`
      })
      .join('|')
    return { token, settled }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.destroy()
  }
}
