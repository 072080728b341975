// Shard-mode routing of the statements nova really sends (captured below), of the session and
// control statements in sql-routing.md §4.6, DDL and reference tables, and of the statements that
// must be refused with a reason. Three shards, auto_increment_increment 3 with offsets 1, 2, 3.
import t from 'tap'
import { planStatement, placeHost, placeInstance, withSequenceIds, type Plan, type ShardMap, type SessionFacts } from '../../router/sql/plan.js'
import { novaShardSchema } from '../../router/sql/shard-schema.js'
import { PlanCache } from '../../router/sql/plan-cache.js'
import { NOVA } from '../helpers/nova-sql.js'

const U1 = '11111111-1111-1111-1111-111111111111'
const U2 = '22222222-2222-2222-2222-222222222222'

function shardMap(instances: Record<string, string> = { [U1]: 's1', [U2]: 's2' }, extra: Partial<ShardMap> = {}): ShardMap {
  const hosts: Record<string, string> = { cmp1: 's0' }
  return {
    shards: [
      { id: 's0', offset: 1, enabled: true },
      { id: 's1', offset: 2, enabled: true },
      { id: 's2', offset: 3, enabled: true },
    ],
    increment: 3,
    instanceShard: (u) => instances[u],
    hostShard: (h) => hosts[h],
    azShard: (az) => (az === 'az1' ? 's2' : undefined),
    ...extra,
  }
}

const idle: SessionFacts = { writeShard: null, lastShard: null }
const plan = (sql: string, map: ShardMap = shardMap(), session: SessionFacts = idle, cache?: PlanCache): Plan =>
  planStatement(sql, { schema: novaShardSchema, map, session, ...(cache ? { cache } : {}) })


t.test("nova's statements", async (t) => {
  const table: Array<[keyof typeof NOVA, Record<string, unknown>]> = [
    ['instanceGetByUuid', { kind: 'single', shard: 's1', write: false }],
    ['instanceMetadataByUuid', { kind: 'single', shard: 's1' }],
    ['instanceCreate', { kind: 'single', shard: 's1', write: true, records: [] }],
    ['instanceExtraCreate', { kind: 'single', shard: 's1', write: true }],
    ['instanceIdMappingCreate', { kind: 'single', shard: 's1', write: true }],
    ['securityGroupDefaultSelect', { kind: 'single', shard: 's0', write: false, reason: /reference/ }],
    ['securityGroupInsert', { kind: 'all-in-order', reference: true, sequence: { table: 'security_groups', count: 1 } }],
    ['instanceUpdate', { kind: 'single', shard: 's1', write: true }],
    ['instanceListSorted', { kind: 'all', write: false, merge: { kind: 'rows', orderBy: [{ column: 0, desc: true }, { column: 4, desc: true }], limit: null, offset: 0, parents: { limit: 10, offset: 0 }, hiddenColumns: 0 } }],
    ['instanceListMarker', { kind: 'all', merge: { parents: { limit: 10, offset: 0 } } }],
    ['instanceMetadataIn', { kind: 'shards', shards: ['s1', 's2'], merge: { kind: 'rows', orderBy: [] } }],
    ['instanceListByHost', { kind: 'all' }],
    ['bdmByInstance', { kind: 'single', shard: 's1' }],
    ['bdmByInstances', { kind: 'shards', shards: ['s1', 's2'] }],
    ['bdmUpdateById', { kind: 'single', shard: 's0', write: true, reason: 'shard key' }],
    ['migrationCreate', { kind: 'single', shard: 's1', write: true }],
    ['migrationsInProgressByHost', { kind: 'all' }],
    ['migrationByInstance', { kind: 'single', shard: 's1' }],
    ['securityGroupsByInstance', { kind: 'single', shard: 's1' }],
    ['securityGroupsAll', { kind: 'single', reason: /reference/ }],
    ['serviceCreate', { kind: 'single', shard: 's0', write: true, records: [] }],
    ['serviceMinimumVersion', { kind: 'all', merge: { aggregates: ['key', 'min'], groupBy: [0], orderBy: [] } }],
    ['serviceByHost', { kind: 'single', shard: 's0' }],
    ['actionStart', { kind: 'single', shard: 's1', write: true }],
    ['actionUpdateById', { kind: 'single', shard: 's0', write: true }],
    ['actionEventStart', { kind: 'single', shard: 's0', write: true }],
    ['actionEventsByAction', { kind: 'single', shard: 's0' }],
    ['tagAdd', { kind: 'single', shard: 's1', write: true }],
    ['computeNodesAll', { kind: 'all', merge: { orderBy: [{ column: 4, desc: false }] } }],
    ['instanceSoftDelete', { kind: 'single', shard: 's2', write: true }],
    ['tagsDelete', { kind: 'single', shard: 's2', write: true }],
    ['quotaCounts', { kind: 'all', merge: { aggregates: ['count', 'sum', 'sum'], groupBy: [], limit: 1, offset: 0 } }],
  ]
  for (const [name, want] of table) t.match(plan(NOVA[name]), want, name)
  t.equal(plan(NOVA.lastInsertId, shardMap(), { writeShard: null, lastShard: 's2' }).kind === 'single' && (plan(NOVA.lastInsertId, shardMap(), { writeShard: null, lastShard: 's2' }) as { shard: string }).shard, 's2', 'LAST_INSERT_ID() goes where the previous statement ran')
  const list = plan(NOVA.instanceListSorted)
  t.ok(list.kind === 'all' && list.sql === null, 'inner LIMIT 10 OFFSET 0 needs no rewrite (offset+limit = limit)')
  const counts = plan(NOVA.quotaCounts)
  t.ok(counts.kind === 'all' && counts.sql?.endsWith('LIMIT 18446744073709551615'), 'aggregates: shards return all rows; the limit applies after re-aggregation')
  const seq = plan(NOVA.securityGroupInsert)
  if (seq.kind === 'all-in-order' && seq.sequence) {
    const sql = withSequenceIds(NOVA.securityGroupInsert, seq.sequence, [77])
    t.match(sql, /project_id, id\) VALUES \(.*NULL, 77\)$/, 'the reference row gets the same id on every shard')
    t.throws(() => withSequenceIds(NOVA.securityGroupInsert, seq.sequence!, []), RangeError)
  } else t.fail('security group insert is a broadcast with a sequence')
})

t.test('placing new instances and hosts', async (t) => {
  const empty = shardMap({})
  t.match(plan(NOVA.instanceCreate, empty), { kind: 'single', shard: 's2', records: [{ kind: 'instance', uuid: U1, shard: 's2' }] }, 'availability_zone az1 → the operator’s AZ map')
  t.match(plan(NOVA.instanceCreateOnHost, empty), { kind: 'single', shard: 's0', records: [{ kind: 'instance', uuid: U2, shard: 's0' }] }, 'no AZ, host cmp1 → its shard')
  const loaded = shardMap({}, { instanceCount: (s) => ({ s0: 10, s1: 3, s2: 7 })[s] ?? 0, azShard: () => undefined })
  t.match(plan(NOVA.instanceCreate, loaded), { shard: 's1' }, 'otherwise the least-loaded shard')
  const weighted = shardMap({}, {
    instanceCount: (s) => ({ s0: 10, s1: 3, s2: 7 })[s] ?? 0,
    azShard: () => undefined,
    shards: [
      { id: 's0', offset: 1, enabled: true, weight: 10 },
      { id: 's1', offset: 2, enabled: false },
      { id: 's2', offset: 3, enabled: true },
    ],
  })
  t.equal(placeInstance({ az: null, host: null }, weighted), 's0', 'by instances per weight, disabled shards skipped')
  t.equal(placeInstance({ az: null, host: null }, { ...weighted, shards: weighted.shards.map((s) => ({ ...s, enabled: false })) }), undefined)
  t.match(plan(NOVA.instanceCreate, { ...empty, shards: empty.shards.map((s) => ({ ...s, enabled: false })) }), { kind: 'error', code: 9104 })
  t.match(plan(NOVA.instanceExtraCreate, empty), { kind: 'error', code: 9103, sqlState: 'HY000', message: /instance 1111.* is not placed/ }, 'a child row of an unplaced instance is refused')
  t.same(
    (plan(NOVA.instanceExtraCreate, empty) as { missing?: unknown }).missing,
    { kind: 'instance', names: ['11111111-1111-1111-1111-111111111111'] },
    'and the refusal names the missing key, for a lookup in the shards before it reaches the client',
  )
  const svc = plan(NOVA.serviceCreate.replace("'cmp1'", "'cmp9'"))
  const h = placeHost('cmp9', shardMap())
  t.match(svc, { kind: 'single', shard: h, records: [{ kind: 'host', host: 'cmp9', shard: h }] }, 'a new host is placed by rendezvous and recorded')
  t.equal(placeHost('cmp9', shardMap()), h, 'deterministic')
})

t.test('session, transaction, reflection and DDL statements', async (t) => {
  const table: Array<[string, Record<string, unknown>]> = [
    ['SET NAMES utf8', { kind: 'session', statement: 'set' }],
    ['SET AUTOCOMMIT = 0', { kind: 'session' }],
    ["SET SESSION sql_mode = 'TRADITIONAL'", { kind: 'session' }],
    ['USE nova', { kind: 'session', statement: 'use' }],
    ["SHOW VARIABLES LIKE 'sql_mode'", { kind: 'single', shard: 's2', statement: 'show' }],
    ['SHOW CREATE TABLE instances', { kind: 'single', statement: 'show' }],
    ['SHOW FULL TABLES', { kind: 'single' }],
    ['SHOW WARNINGS', { kind: 'single', shard: 's2', reason: /previous statement/ }],
    ['SELECT VERSION()', { kind: 'single', shard: 's2', write: false }],
    ['SELECT DATABASE()', { kind: 'single' }],
    ['SELECT @@tx_isolation', { kind: 'single' }],
    ['SELECT @@sql_mode', { kind: 'single' }],
    ['SELECT @@lower_case_table_names', { kind: 'single' }],
    ['SELECT 1', { kind: 'single', reason: /no table data/ }],
    ['DESCRIBE instances', { kind: 'single' }],
    ["SELECT table_name FROM information_schema.tables WHERE table_schema = 'nova'", { kind: 'single' }],
    ['SELECT alembic_version.version_num FROM alembic_version', { kind: 'single', reason: /reference/ }],
    ["UPDATE alembic_version SET version_num='b' WHERE alembic_version.version_num = 'a'", { kind: 'all-in-order', reference: true }],
    ["INSERT INTO alembic_version (version_num) VALUES ('a')", { kind: 'all-in-order', reference: true, sequence: null }],
    ['DELETE FROM security_group_rules WHERE id = 4', { kind: 'all-in-order', reference: true }],
    ["SELECT GET_LOCK('nova-x', 10)", { kind: 'single', shard: 's0', reason: /first shard/ }],
    ['BEGIN', { kind: 'transaction', verb: 'begin' }],
    ['START TRANSACTION', { kind: 'transaction', verb: 'begin' }],
    ['COMMIT', { kind: 'transaction', verb: 'commit', statement: 'commit' }],
    ['ROLLBACK', { kind: 'transaction', verb: 'rollback' }],
    ['SAVEPOINT sa_savepoint_1', { kind: 'transaction', verb: 'savepoint', savepoint: 'sa_savepoint_1' }],
    ['RELEASE SAVEPOINT sa_savepoint_1', { kind: 'transaction', verb: 'release', savepoint: 'sa_savepoint_1' }],
    ['ROLLBACK TO SAVEPOINT sa_savepoint_1', { kind: 'transaction', verb: 'rollback-to', savepoint: 'sa_savepoint_1' }],
    ['ROLLBACK WORK TO `sp`', { kind: 'transaction', verb: 'rollback-to', savepoint: 'sp' }],
    ['CREATE TABLE shares (id INT NOT NULL AUTO_INCREMENT, PRIMARY KEY (id)) ENGINE=InnoDB CHARSET=utf8', { kind: 'all-in-order', reference: false, statement: 'ddl' }],
    ['ALTER TABLE instances ADD COLUMN foo VARCHAR(255)', { kind: 'all-in-order', statement: 'ddl' }],
    ['CREATE INDEX ix ON instances (host)', { kind: 'all-in-order' }],
    ['DROP TABLE shadow_x', { kind: 'all-in-order' }],
    ['TRUNCATE TABLE task_log', { kind: 'all-in-order' }],
    ['ANALYZE TABLE instances', { kind: 'all-in-order' }],
  ]
  for (const [sql, want] of table) t.match(plan(sql, shardMap(), { writeShard: null, lastShard: 's2' }), want, sql)
  t.match(plan('SELECT VERSION()', shardMap(), { writeShard: 's1', lastShard: 's2' }), { shard: 's1' }, 'inside a write transaction, its shard')
  t.match(plan('SELECT 1'), { kind: 'single', shard: 's0' }, 'fresh session: the first shard')
})

t.test('refused statements say why', async (t) => {
  const table: Array<[string, number, RegExp]> = [
    ['SET SESSION auto_increment_increment = 1', 9102, /auto_increment_increment and auto_increment_offset are fixed/],
    ['SET @@auto_increment_offset = 2', 9102, /auto_increment/],
    ["XA START 'x'", 9102, /XA/],
    ['CREATE DATABASE foo', 9102, /CREATE DATABASE/],
    ['DROP SCHEMA foo', 9102, /DATABASE/],
    ['CREATE TEMPORARY TABLE t (a INT)', 9102, /temporary tables/],
    ['LOCK TABLES instances WRITE', 9102, /LOCK TABLES/],
    ['KILL 12', 9102, /KILL/],
    ['CALL p()', 9102, /CALL statements are not supported/],
    ["LOAD DATA INFILE 'x' INTO TABLE instances", 9102, /LOAD/],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 9102, /WITH/],
    ['SELECT AVG(vcpus) FROM instances', 9102, /AVG\(\) across shards \(the statement needs several shards\)/],
    ['SELECT count(DISTINCT project_id) FROM instances', 9102, /COUNT\(DISTINCT/],
    ['SELECT project_id, count(*) FROM instances GROUP BY project_id HAVING count(*) > 1', 9102, /HAVING/],
    ['SELECT * FROM instances WHERE id = (SELECT max(id) FROM instances)', 9102, /aggregate inside a subquery/],
    ['SELECT * FROM instances WHERE uuid IN (SELECT instance_uuid FROM migrations LIMIT 3)', 9102, /LIMIT inside a subquery/],
    ['SELECT * FROM instances ORDER BY 1', 9102, /column position/],
    ['SELECT coalesce(sum(vcpus), 0) FROM instances', 9102, /expression over an aggregate/],
    ['SELECT i.uuid FROM instances i JOIN compute_nodes c ON c.host = i.host', 9102, /join of instances \(instance-keyed\) and compute_nodes \(host-keyed\) is not shard-local/],
    ["UPDATE instances SET uuid = 'x' WHERE id = 4", 9102, /UPDATE of the shard key uuid/],
    ["UPDATE services SET host = 'x' WHERE id = 4", 9102, /shard key host/],
    ['DELETE FROM instances WHERE deleted != 0 LIMIT 10', 9102, /ORDER BY\/LIMIT in a multi-shard write/],
    ["INSERT INTO instances (display_name) VALUES ('x')", 9102, /without a shard key value/],
    ['INSERT INTO instances VALUES (1)', 9102, /without a column list/],
    ["INSERT INTO security_groups VALUES (1, 'x')", 9102, /needs a column list/],
    ["INSERT INTO widgets (a) VALUES ('x')", 9102, /table the shard map does not know/],
    ["INSERT INTO instance_faults (instance_uuid, code) VALUES ('33333333-3333-3333-3333-333333333333', 500)", 9103, /instance 3333.* is not placed on any shard/],
    ["UPDATE security_groups sg JOIN security_group_instance_association a ON a.security_group_id = sg.id SET sg.name = 'x'", 9102, /reference and sharded/],
    ['SELECT * FROM instances WINDOW w AS (PARTITION BY host)', 9102, /not understood by the shard router \(window clauses/],
    ['SELECT a FROM instances INTO @x', 9102, /INTO/],
    ['SELECT 1 FROM instances WHERE MATCH (a) AGAINST (\'x\')', 9102, /MATCH/],
    ['', 1065, /Query was empty/],
    ['  -- only a comment', 1065, /Query was empty/],
    ["SELECT 'unterminated", 1064, /unterminated string/],
  ]
  for (const [sql, code, why] of table) {
    const p = plan(sql)
    t.match(p, { kind: 'error', code, message: why }, sql || '(empty)')
    if (p.kind === 'error') t.match(p.sqlState, /^(HY000|42000)$/)
  }
  t.match(plan(`SELECT AVG(vcpus) FROM instances WHERE uuid = '${U1}'`), { kind: 'single', shard: 's1' }, 'unmergeable but single-shard: fine')
  t.match(plan(`SELECT * FROM instances WHERE id = (SELECT max(id) FROM instances WHERE uuid = '${U1}') AND uuid = '${U1}'`), { kind: 'single' })
})

t.test('key conditions', async (t) => {
  const table: Array<[string, Record<string, unknown>]> = [
    [`SELECT * FROM instances WHERE uuid = '${U1}' OR uuid = '${U2}'`, { kind: 'shards', shards: ['s1', 's2'] }],
    [`SELECT * FROM instances WHERE uuid = '${U1}' OR host = 'cmp1'`, { kind: 'all' }],
    [`SELECT * FROM instances WHERE uuid = '${U1}' AND id = 5`, { kind: 'single', shard: 's1' }],
    [`SELECT * FROM instances WHERE uuid = '${U1}' AND id = 4`, { kind: 'single', reason: /no row can match/ }],
    ['SELECT * FROM instances WHERE id IN (1, 2, 4)', { kind: 'shards', shards: ['s0', 's1'] }],
    ['SELECT * FROM instances WHERE id = 3', { kind: 'single', shard: 's2' }],
    ["SELECT * FROM instances WHERE uuid = '99999999-0000-0000-0000-000000000000'", { kind: 'all' }],
    ['SELECT * FROM instances WHERE instances.uuid IN (NULL) AND (1 != 1)', { kind: 'single', reason: /no row can match/ }],
    [`SELECT * FROM instances WHERE NOT uuid = '${U1}'`, { kind: 'all' }],
    [`SELECT * FROM instances WHERE uuid != '${U1}'`, { kind: 'all' }],
    [`SELECT * FROM instances i INNER JOIN instance_extra e ON e.instance_uuid = i.uuid AND i.uuid = '${U1}'`, { kind: 'single', shard: 's1' }],
    [`SELECT * FROM instances i LEFT JOIN instance_extra e ON e.instance_uuid = i.uuid AND e.instance_uuid = '${U1}'`, { kind: 'all' }],
    [`SELECT * FROM instance_extra WHERE instance_uuid = '${U2}' FOR UPDATE`, { kind: 'single', shard: 's2', write: true }],
    [`SELECT * FROM instances WHERE \`uuid\` = _utf8mb4'${U1}' COLLATE utf8mb4_bin`, { kind: 'all' }],
    [`SELECT * FROM instances WHERE \`uuid\` = _utf8mb4'${U1}'`, { kind: 'single', shard: 's1' }],
    [`/* nova */ SELECT * FROM nova.instances WHERE instances.uuid = '${U1}'`, { kind: 'single', shard: 's1' }],
    ["SELECT * FROM services WHERE host = 'cmp1' AND `binary` = 'nova-compute'", { kind: 'single', shard: 's0' }],
    ['SELECT * FROM pci_devices WHERE compute_node_id = 2', { kind: 'single', shard: 's1' }],
    [`SELECT * FROM pci_devices WHERE instance_uuid = '${U1}'`, { kind: 'all' }],
    [`SELECT * FROM shadow_instances WHERE uuid = '${U1}'`, { kind: 'single', shard: 's1' }],
    [`UPDATE instances SET host = 'cmp2' WHERE uuid = '${U1}'`, { kind: 'single', shard: 's1', write: true }],
    ["UPDATE instances SET task_state = NULL WHERE host = 'cmp1'", { kind: 'all', write: true, merge: { kind: 'write' } }],
    [`DELETE FROM instance_metadata WHERE instance_uuid IN ('${U1}', '${U2}')`, { kind: 'shards', shards: ['s1', 's2'], write: true }],
    [`INSERT INTO shadow_instances SELECT * FROM instances WHERE id IN (1, 4)`, { kind: 'single', shard: 's0', write: true }],
    ['INSERT INTO shadow_instances SELECT * FROM instances WHERE deleted != 0', { kind: 'all', write: true }],
    [`INSERT INTO tags (resource_id, tag) VALUES ('${U1}', 'a') ON DUPLICATE KEY UPDATE tag = VALUES(tag)`, { kind: 'single', shard: 's1' }],
  ]
  for (const [sql, want] of table) t.match(plan(sql), want, sql)
})

t.test('scatter reads: ORDER BY / LIMIT / OFFSET pushed down, hidden sort columns', async (t) => {
  const p = plan('SELECT uuid, display_name FROM instances WHERE deleted = 0 ORDER BY created_at DESC, id DESC LIMIT 5 OFFSET 10')
  t.match(p, { kind: 'all', merge: { kind: 'rows', orderBy: [{ column: -2, desc: true }, { column: -1, desc: true }], limit: 5, offset: 10, hiddenColumns: 2 } })
  t.equal(p.kind === 'all' ? p.sql : null, 'SELECT uuid, display_name , created_at AS __cellgate_k0, id AS __cellgate_k1 FROM instances WHERE deleted = 0 ORDER BY created_at DESC, id DESC LIMIT 15 OFFSET 0')
  const q = plan('SELECT uuid AS u, created_at FROM instances ORDER BY u, instances.created_at LIMIT 10, 5')
  t.match(q, { kind: 'all', merge: { orderBy: [{ column: 0 }, { column: -1 }], limit: 5, offset: 10, hiddenColumns: 1 } }, 'an alias matches; a differently written expression is added hidden')
  t.equal(q.kind === 'all' ? q.sql : null, 'SELECT uuid AS u, created_at , instances.created_at AS __cellgate_k0 FROM instances ORDER BY u, instances.created_at LIMIT 0, 15')
  t.match(plan('SELECT DISTINCT host FROM instances'), { kind: 'all', merge: { distinct: true } })
  t.match(plan('SELECT DISTINCT host FROM instances ORDER BY created_at'), { kind: 'error', message: /DISTINCT with ORDER BY/ })
  t.match(plan('SELECT count(*) FROM instances'), { kind: 'all', merge: { aggregates: ['count'], groupBy: [] } })
  t.match(plan('SELECT count(*), max(id) FROM instances GROUP BY project_id ORDER BY max(id) DESC'), { kind: 'all', merge: { aggregates: ['count', 'max', 'key'], groupBy: [-1], orderBy: [{ column: 1, desc: true }], hiddenColumns: 1 } })
  const j = plan("SELECT anon_1.a, x.b FROM (SELECT instances.id AS a FROM instances ORDER BY instances.id LIMIT 20 OFFSET 40) AS anon_1 LEFT OUTER JOIN instance_extra AS x ON x.instance_uuid = anon_1.a ORDER BY anon_1.a")
  t.match(j, { kind: 'all', merge: { parents: { limit: 20, offset: 40 }, limit: null, offset: 0, orderBy: [{ column: 0 }] } }, 'joinedload: the derived LIMIT counts parents')
  t.match(j.kind === 'all' ? j.sql : '', /LIMIT 60 OFFSET 0\) AS anon_1/)
})

t.test('multi-row INSERT split by shard', async (t) => {
  const sql = `INSERT INTO instance_metadata (instance_uuid, \`key\`, value) VALUES ('${U1}', 'a', 'b'), ('${U2}', 'c', 'd'), ('${U1}', 'e', 'f')`
  const p = plan(sql)
  t.match(p, { kind: 'shards', shards: ['s1', 's2'], write: true, merge: { kind: 'write' } })
  if (p.kind === 'shards') {
    t.equal(p.perShard?.get('s1'), `INSERT INTO instance_metadata (instance_uuid, \`key\`, value) VALUES ('${U1}', 'a', 'b'), ('${U1}', 'e', 'f')`)
    t.equal(p.perShard?.get('s2'), `INSERT INTO instance_metadata (instance_uuid, \`key\`, value) VALUES ('${U2}', 'c', 'd')`)
  }
  t.match(plan(`INSERT INTO instance_metadata (instance_uuid, \`key\`, value) VALUES ('${U1}', 'a', 'b'), ('${U1}', 'c', 'd')`), { kind: 'single', shard: 's1' })
})

t.test('plan cache: one analysis per digest, values bound per statement, LRU bound', async (t) => {
  const cache = new PlanCache(2)
  t.match(plan(NOVA.bdmByInstance, shardMap(), idle, cache), { kind: 'single', shard: 's1' })
  t.match(plan(NOVA.bdmByInstance.replace(U1, U2), shardMap(), idle, cache), { kind: 'single', shard: 's2' }, 'cached shape, new value')
  t.same([cache.misses, cache.hits, cache.size], [1, 1, 1])
  plan(NOVA.bdmByInstances, shardMap(), idle, cache)
  plan(NOVA.bdmByInstance, shardMap(), idle, cache) // refreshes the first entry
  plan('SELECT 1', shardMap(), idle, cache) // evicts bdmByInstances
  t.equal(cache.size, 2)
  const misses = cache.misses
  plan(NOVA.bdmByInstance, shardMap(), idle, cache)
  t.equal(cache.misses, misses, 'the recently used entry survived')
  plan(NOVA.bdmByInstances, shardMap(), idle, cache)
  t.equal(cache.misses, misses + 1, 'the least recently used entry was evicted')
  t.throws(() => new PlanCache(0), RangeError)
  // Cached planning cost: a sanity bound (the goal is ≤ 20 µs per cached statement).
  const big = new PlanCache(100)
  for (let i = 0; i < 3000; i++) plan(NOVA.bdmByInstance, shardMap(), idle, big)
  const n = 5000
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) plan(NOVA.bdmByInstance, shardMap(), idle, big)
  const us = Number(process.hrtime.bigint() - t0) / n / 1000
  t.ok(us < 200, `cached plan of a ${NOVA.bdmByInstance.length}-char SELECT: ${us.toFixed(1)} µs`)
})

t.test('unknown key values are named, for a lookup in the shards (several cellgate processes)', async (t) => {
  const U9 = '99999999-9999-9999-9999-999999999999'
  const U8 = '88888888-8888-8888-8888-888888888888'
  const unknownOf = (p: Plan): unknown => (p.kind === 'all' ? p.unknown : p.kind === 'error' ? p.missing : undefined)
  const point = plan(`SELECT uuid FROM instances WHERE uuid = '${U9}' AND deleted = 0`)
  t.match(point, { kind: 'all' }, 'a read by an unknown uuid scatters')
  t.same(unknownOf(point), { kind: 'instance', names: [U9] }, 'and names the uuid')
  t.same(unknownOf(plan(`SELECT uuid FROM instances WHERE uuid IN ('${U1}', '${U9}', '${U8}')`)), { kind: 'instance', names: [U9, U8] }, 'an IN list names only its unknown values')
  t.same(unknownOf(plan(`SELECT uuid FROM instances WHERE uuid = '${U9}' OR uuid = '${U1}'`)), { kind: 'instance', names: [U9] }, 'so does an OR')
  t.same(unknownOf(plan(`UPDATE instances SET task_state = NULL WHERE uuid = '${U9}'`)), { kind: 'instance', names: [U9] }, 'and a write by an unknown uuid')
  t.same(unknownOf(plan("SELECT * FROM compute_nodes WHERE host = 'cmp7'")), { kind: 'host', names: ['cmp7'] }, 'an unknown host too')
  const narrowed = plan(`SELECT uuid FROM instances WHERE uuid = '${U9}' AND uuid IN ('${U1}', '${U2}')`)
  t.match(narrowed, { kind: 'shards', shards: ['s1', 's2'] }, 'a known key ANDed beside it still narrows the shards')
  t.equal(unknownOf(narrowed), undefined, 'with nothing to look up')
  t.equal(unknownOf(plan(`SELECT uuid FROM instances WHERE uuid = '${U1}'`)), undefined, 'a known uuid: nothing to look up')
  t.equal(unknownOf(plan('SELECT uuid FROM instances WHERE deleted = 0')), undefined, 'a read with no key at all scatters with nothing to look up')
  t.equal(unknownOf(plan('SELECT * FROM instance_extra WHERE id = 7')), undefined, 'an id names its shard arithmetically: never unknown')
  const multi = plan(
    `INSERT INTO instance_extra (instance_uuid, flavor) VALUES ('${U1}', 'a'), ('${U9}', 'b'), ('${U8}', 'c')`,
  )
  t.match(multi, { kind: 'error', code: 9103 }, 'a multi-row child INSERT with unknown instances is refused')
  t.same(unknownOf(multi), { kind: 'instance', names: [U9, U8] }, 'naming all its unknown instances at once')
})
