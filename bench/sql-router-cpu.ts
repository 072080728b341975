/**
 * Router CPU per statement, in process: the shard-mode planning path every statement takes
 * (the session-state classifier, then tokenize + digest + plan-cache lookup + resolving the cached
 * shape against the new literals),
 * timed over many iterations of statements that differ only in their values, as a client sends
 * them. The cache-miss path (full analysis) is timed too, for comparison. No I/O: this is the
 * router's own cost, not the wire protocol's.
 */
import { randomUUID } from 'node:crypto'
import { digest } from '../router/sql/digest.js'
import { PlanCache } from '../router/sql/plan-cache.js'
import { planStatement, type ShardMap } from '../router/sql/plan.js'
import { classifySession } from '../router/sql/session-statement.js'
import { novaShardSchema } from '../router/sql/shard-schema.js'
import { pointInsert, pointSelect } from './sql-workload.js'

export interface RouterCpuRow {
  statement: string
  chars: number
  /** tokenize + digest only. */
  digestUs: number
  /** The session-state classifier every COM_QUERY passes first (SET / USE / pinning). */
  classifyUs: number
  /** The whole path with a plan-cache hit: classifier + tokenize + digest + cache + resolve. */
  cachedUs: number
  /** The whole path with no cache (first sight of a shape). */
  uncachedUs: number
}

/** nova's instance_get_by_uuid-sized SELECT: 50 aliased columns, a nested LIMIT 1 and the key. */
function novaSizedSelect(uuid: string): string {
  const cols = [
    'created_at', 'updated_at', 'deleted_at', 'deleted', 'id', 'user_id', 'project_id', 'image_ref', 'kernel_id', 'ramdisk_id',
    'hostname', 'launch_index', 'key_name', 'key_data', 'power_state', 'vm_state', 'task_state', 'memory_mb', 'vcpus', 'root_gb',
    'ephemeral_gb', 'ephemeral_key_uuid', 'host', 'node', 'instance_type_id', 'user_data', 'reservation_id', 'launched_at',
    'terminated_at', 'availability_zone', 'display_name', 'display_description', 'launched_on', 'locked', 'locked_by', 'os_type',
    'architecture', 'vm_mode', 'uuid', 'root_device_name', 'default_ephemeral_device', 'default_swap_device', 'config_drive',
    'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress', 'shutdown_terminate', 'disable_terminate', 'cell_name',
  ]
  const inner = cols.map((c) => `instances.${c} AS instances_${c}`).join(', ')
  const outer = cols.map((c) => `anon_1.instances_${c} AS anon_1_instances_${c}`).join(', ')
  return (
    `SELECT ${outer}, instance_info_caches_1.network_info AS instance_info_caches_1_network_info \nFROM (SELECT ${inner} \nFROM instances \n` +
    `WHERE instances.deleted = 0 AND instances.uuid = '${uuid}' ORDER BY instances.id \n LIMIT 1) AS anon_1 ` +
    'LEFT OUTER JOIN instance_info_caches AS instance_info_caches_1 ON instance_info_caches_1.instance_uuid = anon_1.instances_uuid ORDER BY anon_1.instances_id'
  )
}

/** Times `fn` over `iterations` calls (statements cycled) in CPU microseconds per call. */
function cpuPerCall(statements: readonly string[], iterations: number, fn: (sql: string) => unknown): number {
  let sink = 0
  const warm = Math.min(iterations, 2000)
  for (let i = 0; i < warm; i++) sink += fn(statements[i % statements.length]!) === undefined ? 0 : 1
  const a = process.cpuUsage()
  for (let i = 0; i < iterations; i++) sink += fn(statements[i % statements.length]!) === undefined ? 0 : 1
  const b = process.cpuUsage(a)
  if (sink < 0) throw new Error('unreachable')
  return (b.user + b.system) / iterations
}

export function measureRouterCpu(iterations: number): RouterCpuRow[] {
  const uuids = Array.from({ length: 512 }, () => randomUUID())
  const placed = new Map<string, string>(uuids.map((u, i) => [u, `s${i % 3}`]))
  const map: ShardMap = {
    shards: [0, 1, 2].map((i) => ({ id: `s${i}`, offset: i + 1, enabled: true })),
    increment: 3,
    instanceShard: (u) => placed.get(u),
    hostShard: () => undefined,
    instanceCount: () => 0,
  }
  const session = { writeShard: null, lastShard: null }
  const kinds: Array<[string, string[]]> = [
    ['point SELECT (bench statement)', uuids.map((u) => pointSelect(u))],
    ['point INSERT, new uuid (bench statement)', uuids.map((_, i) => pointInsert(randomUUID(), i))],
    ['nova instance_get_by_uuid-sized SELECT (50 columns, nested LIMIT)', uuids.map((u) => novaSizedSelect(u))],
  ]
  return kinds.map(([statement, sqls]) => {
    const cache = new PlanCache(4096)
    // What the shard session does per COM_QUERY: classify, then plan (client-session.ts query()).
    const viaCache = (sql: string): unknown => classifySession(sql) && planStatement(sql, { schema: novaShardSchema, map, session, cache, database: 'nova' })
    const noCache = (sql: string): unknown => classifySession(sql) && planStatement(sql, { schema: novaShardSchema, map, session, database: 'nova' })
    const check = viaCache(sqls[0]!) as { kind: string; reason?: string }
    if (check.kind === 'error') throw new Error(`router refused the bench statement "${statement}": ${JSON.stringify(check)}`)
    return {
      statement,
      chars: Math.round(sqls.reduce((p, s) => p + s.length, 0) / sqls.length),
      digestUs: cpuPerCall(sqls, iterations, (s) => digest(s)),
      classifyUs: cpuPerCall(sqls, iterations, (s) => classifySession(s)),
      cachedUs: cpuPerCall(sqls, iterations, viaCache),
      uncachedUs: cpuPerCall(sqls, Math.max(1000, Math.floor(iterations / 10)), noCache),
    }
  })
}
