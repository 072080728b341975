// A nova_api database built by nova itself, for mapping and end-to-end routing tests.
//
// Every table comes from nova's own migrations, run by Debian's real nova-manage
// (test/python/nova_manage.py is the console-script entry point of /usr/bin/nova-manage):
//   api_db sync                      -> the nova_api schema
//   db sync --local_cell             -> a cell database schema, for cells that get hosts
//   cell_v2 map_cell0                -> cell0's cell_mappings row
//   cell_v2 create_cell [--disabled] -> one cell_mappings row per cell
//   cell_v2 discover_hosts --by-service --cell_uuid U -> host_mappings
// discover_hosts finds hosts in a cell database's `services` table, which a running nova-compute
// fills when it starts; we insert those rows the way Service.create() writes them. The
// instance_mappings rows are normally written by nova-api while it creates a server, so tests
// insert them with SQL into the table nova created.
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { createConnection, type Connection } from 'mysql2/promise'
import { openKnex } from '../../adapters/mapping/open-knex.js'
import { PY_DIR, PYTHON, type Teardownable } from './python.js'

/** The local MariaDB the tests use (root without a password on node-svc machines). */
export const MYSQL_HOST = process.env.CELLGATE_TEST_MYSQL_HOST ?? '127.0.0.1'
export const MYSQL_PORT = Number(process.env.CELLGATE_TEST_MYSQL_PORT ?? 3306)
export const MYSQL_USER = process.env.CELLGATE_TEST_MYSQL_USER ?? 'root'
export const MYSQL_PASSWORD = process.env.CELLGATE_TEST_MYSQL_PASSWORD ?? ''

/** Prefix of every database these helpers create; stale ones (older than 2 h) are dropped. */
export const TEST_DB_PREFIX = 'cg_novaapi_'

/** nova.objects.service.SERVICE_VERSION of the installed nova (26.x, Zed). */
const NOVA_SERVICE_VERSION = 64

export interface NovaCellSpec {
  name: string
  /** Default: rabbit://guest:guest@127.0.0.1:5672/<name> */
  transportUrl?: string
  disabled?: boolean
}

export interface NovaApiSpec {
  cells: NovaCellSpec[]
  /** host -> cell name; mapped by the real discover_hosts. */
  hosts?: Record<string, string>
  /** instance uuid -> cell name, or null for "not scheduled yet" (cell_id NULL). */
  instances?: Record<string, string | null>
}

export interface NovaManageResult {
  stdout: string
  stderr: string
}

export interface NovaApi {
  /** mysql:// URL of the nova_api database (what cellgate is configured with). */
  readonly url: string
  /** The same as nova.conf writes it (mysql+pymysql://). */
  readonly sqlalchemyUrl: string
  readonly dbName: string
  /** nova.conf used for nova-manage. */
  readonly confPath: string
  /** cell name -> uuid, including cell0. */
  readonly cellUuids: ReadonlyMap<string, string>
  /** cell name -> database URL written into cell_mappings.database_connection. */
  readonly cellDbUrls: ReadonlyMap<string, string>
  /** knex on the nova_api database, for tests that change it by hand. */
  readonly sql: Knex
  /** Run nova-manage with this nova.conf; throws with its output on a non-zero exit. */
  novaManage(args: readonly string[], confPath?: string): Promise<NovaManageResult>
  /** Start a "nova-compute" on `host` in `cell` (a services row) and run discover_hosts. */
  addHosts(hosts: Record<string, string>): Promise<void>
  /** Insert instance_mappings rows (cell null = not scheduled yet). */
  addInstances(instances: Record<string, string | null>): Promise<void>
  /** The cell_mappings.id of a cell, by name. */
  cellId(name: string): Promise<number>
}

export const CELL0_UUID = '00000000-0000-0000-0000-000000000000'

function sqlalchemyUrl(db: string): string {
  const auth = MYSQL_PASSWORD === '' ? MYSQL_USER : `${MYSQL_USER}:${encodeURIComponent(MYSQL_PASSWORD)}`
  return `mysql+pymysql://${auth}@${MYSQL_HOST}:${MYSQL_PORT}/${db}`
}

function mysqlUrl(db: string): string {
  return sqlalchemyUrl(db).replace(/^mysql\+pymysql:/, 'mysql:')
}

/** A database name no other run uses: cg_novaapi_<base36 time>_<hex>. */
export function uniqueDbName(): string {
  return `${TEST_DB_PREFIX}${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

export function adminConnection(): Promise<Connection> {
  return createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: MYSQL_USER, password: MYSQL_PASSWORD })
}

/** Drop databases of earlier runs that crashed before their teardown (names older than 2 h). */
async function dropStale(admin: Connection): Promise<void> {
  const [rows] = await admin.query<import('mysql2').RowDataPacket[]>('SHOW DATABASES LIKE ?', [`${TEST_DB_PREFIX}%`])
  const limit = Date.now() - 2 * 3_600_000
  for (const row of rows) {
    const name = String(Object.values(row)[0])
    const m = /^cg_novaapi_([0-9a-z]{8,9})_[0-9a-f]{6}(?:_|$)/.exec(name)
    const at = m?.[1] !== undefined ? parseInt(m[1], 36) : NaN
    if (Number.isFinite(at) && at < limit) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
  }
}

export function runNovaManage(confPath: string, args: readonly string[]): Promise<NovaManageResult> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [join(PY_DIR, 'nova_manage.py'), '--config-file', confPath, ...args],
      { timeout: 180_000, maxBuffer: 16 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`nova-manage ${args.join(' ')} failed: ${err.message}\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`))
        else resolve({ stdout: String(stdout), stderr: String(stderr) })
      },
    )
  })
}

function writeConf(dir: string, file: string, apiDb: string, cellDb: string | undefined): string {
  return writeNovaConf(join(dir, file), dir, sqlalchemyUrl(apiDb), cellDb === undefined ? undefined : sqlalchemyUrl(cellDb))
}

/** A minimal nova.conf for nova-manage: the API database, and the cell database when given (SQLAlchemy URLs). */
export function writeNovaConf(path: string, stateDir: string, apiDatabase: string, database?: string): string {
  const lines = [
    '[DEFAULT]',
    'transport_url = rabbit://guest:guest@127.0.0.1:5672/',
    `state_path = ${stateDir}`,
    '[oslo_concurrency]',
    `lock_path = ${stateDir}`,
    '[api_database]',
    `connection = ${apiDatabase}`,
  ]
  if (database !== undefined) lines.push('[database]', `connection = ${database}`)
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

/**
 * Build a nova_api (plus cell0 and the cell databases that hosts need) with nova-manage, as
 * `spec` describes. Everything is dropped in `t`'s teardown. Takes ~15-30 s (each nova-manage
 * run imports nova: ~3.5 s; independent runs go in parallel).
 */
export async function createNovaApi(t: Teardownable, spec: NovaApiSpec): Promise<NovaApi> {
  const names = new Set(spec.cells.map((c) => c.name))
  if (names.size !== spec.cells.length || names.has('cell0')) throw new Error('createNovaApi: cell names must be unique and not "cell0"')
  const dbName = uniqueDbName()
  const cell0Db = `${dbName}_c0`
  const cellDb = new Map(spec.cells.map((c, i) => [c.name, `${dbName}_c${i + 1}`]))
  const dir = mkdtempSync(join(tmpdir(), 'cg-nova-'))
  const admin = await adminConnection()
  const created: string[] = []
  let sql: Knex | undefined
  const cellKnex = new Map<string, Knex>()
  t.teardown(async () => {
    await sql?.destroy()
    for (const k of cellKnex.values()) await k.destroy()
    const a = await adminConnection()
    try {
      for (const db of created) await a.query(`DROP DATABASE IF EXISTS \`${db}\``)
    } finally {
      await a.end()
    }
    rmSync(dir, { recursive: true, force: true })
  })
  try {
    await dropStale(admin)
    for (const db of [dbName, cell0Db, ...cellDb.values()]) {
      await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb3`)
      created.push(db)
    }
  } finally {
    await admin.end()
  }

  const confPath = writeConf(dir, 'nova.conf', dbName, undefined)
  const cellConf = (cell: string): string => writeConf(dir, `nova-${cell}.conf`, dbName, cellDb.get(cell))
  const novaManage = (args: readonly string[], conf = confPath): Promise<NovaManageResult> => runNovaManage(conf, args)

  // Cell schemas are needed only where discover_hosts will look for services.
  const synced = new Map<string, Promise<void>>()
  const ensureCellSchema = (cell: string): Promise<void> => {
    let p = synced.get(cell)
    if (p === undefined) {
      p = novaManage(['db', 'sync', '--local_cell'], cellConf(cell)).then(() => undefined)
      synced.set(cell, p)
    }
    return p
  }
  const cellsWithHosts = new Set(Object.values(spec.hosts ?? {}))
  for (const c of cellsWithHosts) if (!names.has(c)) throw new Error(`createNovaApi: host mapped to unknown cell ${c}`)

  await Promise.all([novaManage(['api_db', 'sync']), ...[...cellsWithHosts].map(ensureCellSchema)])

  const cellUuids = new Map<string, string>([['cell0', CELL0_UUID]])
  const cellDbUrls = new Map<string, string>([['cell0', sqlalchemyUrl(cell0Db)]])
  await Promise.all([
    novaManage(['cell_v2', 'map_cell0', '--database_connection', sqlalchemyUrl(cell0Db)]),
    ...spec.cells.map(async (c) => {
      const db = sqlalchemyUrl(cellDb.get(c.name) ?? '')
      const args = ['cell_v2', 'create_cell', '--name', c.name, '--verbose', '--database_connection', db]
      args.push('--transport-url', c.transportUrl ?? `rabbit://guest:guest@127.0.0.1:5672/${c.name}`)
      if (c.disabled === true) args.push('--disabled')
      const r = await novaManage(args)
      const uuid = UUID_RE.exec(r.stdout)?.[0]
      if (uuid === undefined) throw new Error(`create_cell printed no uuid: ${r.stdout}`)
      cellUuids.set(c.name, uuid)
      cellDbUrls.set(c.name, db)
    }),
  ])

  sql = openKnex(mysqlUrl(dbName)).db
  const api: Knex = sql
  const knexForCell = (cell: string): Knex => {
    let k = cellKnex.get(cell)
    if (k === undefined) {
      k = openKnex(mysqlUrl(cellDb.get(cell) ?? '')).db
      cellKnex.set(cell, k)
    }
    return k
  }
  const cellIds = new Map<string, number>()
  const cellId = async (name: string): Promise<number> => {
    const known = cellIds.get(name)
    if (known !== undefined) return known
    const uuid = cellUuids.get(name)
    const row = uuid === undefined ? undefined : await api<{ id: number; uuid: string }>('cell_mappings').where({ uuid }).first('id')
    if (row === undefined) throw new Error(`no cell_mappings row for cell ${name}`)
    cellIds.set(name, Number(row.id))
    return Number(row.id)
  }

  const addHosts = async (hosts: Record<string, string>): Promise<void> => {
    const byCell = new Map<string, string[]>()
    for (const [host, cell] of Object.entries(hosts)) {
      if (!names.has(cell)) throw new Error(`addHosts: unknown cell ${cell}`)
      byCell.set(cell, [...(byCell.get(cell) ?? []), host])
    }
    await Promise.all(
      [...byCell].map(async ([cell, list]) => {
        await ensureCellSchema(cell)
        // What Service.create() writes when nova-compute starts on `host`.
        const k = knexForCell(cell)
        await k('services').insert(
          list.map((host) => ({
            created_at: k.raw('UTC_TIMESTAMP()'),
            host,
            binary: 'nova-compute',
            topic: 'compute',
            report_count: 0,
            disabled: 0,
            deleted: 0,
            forced_down: 0,
            version: NOVA_SERVICE_VERSION,
            uuid: randomUUID(),
          })),
        )
        const uuid = cellUuids.get(cell) ?? ''
        await novaManage(['cell_v2', 'discover_hosts', '--by-service', '--cell_uuid', uuid, '--verbose'])
      }),
    )
  }

  const addInstances = async (instances: Record<string, string | null>): Promise<void> => {
    const rows = []
    for (const [uuid, cell] of Object.entries(instances)) {
      rows.push({
        created_at: api.raw('UTC_TIMESTAMP()'),
        instance_uuid: uuid,
        cell_id: cell === null ? null : await cellId(cell),
        project_id: 'cgt-project',
        user_id: 'cgt-user',
        queued_for_delete: 0,
      })
    }
    // Batches keep each INSERT well under max_allowed_packet for large (100k) maps.
    if (rows.length > 0) await api.batchInsert('instance_mappings', rows, 1000)
  }

  if (spec.hosts !== undefined) await addHosts(spec.hosts)
  if (spec.instances !== undefined) await addInstances(spec.instances)

  return {
    url: mysqlUrl(dbName),
    sqlalchemyUrl: sqlalchemyUrl(dbName),
    dbName,
    confPath,
    cellUuids,
    cellDbUrls,
    sql: api,
    novaManage,
    addHosts,
    addInstances,
    cellId,
  }
}
