/**
 * The SQL bench's workload: the table (a cut-down nova `instances`, so shard mode routes it by
 * uuid), the statements, and a client rig that runs N statements over C connections and times each.
 */
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'

export const TABLE_DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, host VARCHAR(255), ' +
  'display_name VARCHAR(255), created_at DATETIME NOT NULL, deleted INT NOT NULL DEFAULT 0, ' +
  'UNIQUE KEY uniq_instances_uuid (uuid), KEY instances_created_at_idx (created_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** A created_at unique per row number, so the scatter query's order is total and comparable. */
const createdAt = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString().slice(0, 19).replace('T', ' ')

export const pointSelect = (uuid: string): string => `SELECT id, uuid, host, display_name, created_at FROM instances WHERE uuid = ${q(uuid)} AND deleted = 0`

export const pointInsert = (uuid: string, n: number): string =>
  `INSERT INTO instances (uuid, host, display_name, created_at, deleted) VALUES (${q(uuid)}, 'bench-host', ${q(`vm-${n}`)}, '${createdAt(n)}', 0)`

/** No key: shard mode scatters to every shard, pushes ORDER BY/LIMIT down and k-way merges. */
export const SCATTER_PAGE = 'SELECT uuid, display_name, created_at FROM instances WHERE deleted = 0 ORDER BY created_at DESC, uuid LIMIT 20'
/** No key: shard mode re-aggregates the per-shard counts. */
export const SCATTER_COUNT = 'SELECT COUNT(*) AS n FROM instances WHERE deleted = 0'

export const newUuid = (): string => randomUUID()

export interface ConnSpec {
  host: string
  port: number
  user: string
  password: string
  database: string
}

export interface SegmentResult {
  /** Milliseconds per statement. */
  latencies: number[]
  errors: number
  firstError?: string
  elapsedMs: number
}

/** C client connections to one target; statements are handed out from one shared counter. */
export class SqlRig {
  private constructor(
    readonly name: string,
    private readonly conns: mysql.Connection[],
  ) {}

  static async open(name: string, spec: ConnSpec, connections: number): Promise<SqlRig> {
    const conns: mysql.Connection[] = []
    try {
      for (let i = 0; i < connections; i++) conns.push(await mysql.createConnection({ ...spec }))
    } catch (e) {
      await Promise.allSettled(conns.map((c) => c.end()))
      throw new Error(`${name}: cannot connect to ${spec.host}:${spec.port}/${spec.database}: ${(e as Error).message}`)
    }
    return new SqlRig(name, conns)
  }

  /** Runs statements `make(0..n-1)` over `concurrency` of the connections, timing each. */
  async run(n: number, concurrency: number, make: (i: number) => string): Promise<SegmentResult> {
    if (concurrency > this.conns.length) throw new RangeError(`${this.name}: ${concurrency} > ${this.conns.length} connections`)
    const latencies: number[] = []
    let errors = 0
    let firstError: string | undefined
    let next = 0
    const t0 = performance.now()
    const worker = async (c: mysql.Connection): Promise<void> => {
      for (;;) {
        const i = next++
        if (i >= n) return
        const sql = make(i)
        const a = performance.now()
        try {
          await c.query(sql)
          latencies.push(performance.now() - a)
        } catch (e) {
          errors++
          firstError ??= (e as Error).message
        }
      }
    }
    await Promise.all(this.conns.slice(0, concurrency).map(worker))
    return { latencies, errors, ...(firstError !== undefined ? { firstError } : {}), elapsedMs: performance.now() - t0 }
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const [rows] = await this.conns[0]!.query(sql)
    return rows as Record<string, unknown>[]
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.conns.map((c) => c.end()))
  }
}
