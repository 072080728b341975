// joinedload of a collection with LIMIT: SQLAlchemy orders the outer rows by the parent's keys
// (qualified by the derived table) and then by the child's. Only the parent keys count parents;
// before, a parent with two children of different sort values counted as two parents.
import t from 'tap'
import { mergeRows, type ColumnMeta, type Row } from '../../router/sql/merge.js'
import { planStatement, type ShardMap } from '../../router/sql/plan.js'
import { novaShardSchema } from '../../router/sql/shard-schema.js'

const map: ShardMap = {
  shards: ['s0', 's1'].map((id, i) => ({ id, offset: i + 1, enabled: true })),
  increment: 2,
  instanceShard: () => undefined,
  hostShard: () => undefined,
}

// What SQLAlchemy 1.4 sends for select(Instance).options(joinedload(Instance.info_caches))
// .order_by(created_at desc, id desc).limit(2).offset(1) (the relationship has its own order_by).
const SQL =
  'SELECT anon_1.id, anon_1.uuid, anon_1.created_at, instance_info_caches_1.id AS id_1, instance_info_caches_1.network_info ' +
  'FROM (SELECT instances.id AS id, instances.uuid AS uuid, instances.created_at AS created_at FROM instances ' +
  'ORDER BY instances.created_at DESC, instances.id DESC LIMIT 1, 2) AS anon_1 LEFT OUTER JOIN instance_info_caches AS instance_info_caches_1 ' +
  'ON anon_1.uuid = instance_info_caches_1.instance_uuid ORDER BY anon_1.created_at DESC, anon_1.id DESC, instance_info_caches_1.network_info'

t.test('parent limit counts parents by the derived table keys only', async (t) => {
  const p = planStatement(SQL, { schema: novaShardSchema, map, session: { writeShard: null, lastShard: null } })
  if (p.kind !== 'all' || p.merge.kind !== 'rows') return t.fail(`expected a scatter read, got ${p.kind}`)
  t.same(p.merge.parents, { limit: 2, offset: 1, keys: 2 }, 'two parent keys (created_at, id), then the child key')
  t.match(p.sql, /LIMIT 0, 3\)/, 'each shard returns offset+limit parents')
  const columns: ColumnMeta[] = [
    { name: 'id', type: 'numeric' },
    { name: 'uuid', type: 'text' },
    { name: 'created_at', type: 'temporal' },
    { name: 'id_1', type: 'numeric' },
    { name: 'network_info', type: 'text' },
  ]
  const r = (id: number, at: string, child: number | null, net: string | null): Row => [String(id), `u${id}`, at, child === null ? null : String(child), net]
  const s0 = { columns, rows: [r(5, '2024-01-05', 50, 'a'), r(5, '2024-01-05', 51, 'b'), r(3, '2024-01-03', null, null), r(1, '2024-01-01', 10, 'z')] }
  const s1 = { columns, rows: [r(4, '2024-01-04', 40, 'a'), r(4, '2024-01-04', 41, 'c'), r(4, '2024-01-04', 42, 'd'), r(2, '2024-01-02', 20, 'x')] }
  const m = mergeRows([s0, s1], p.merge)
  if (!m.ok) return t.fail(m.reason)
  t.same(
    m.rows.map((x) => [x[0], x[4]]),
    [
      ['4', 'a'],
      ['4', 'c'],
      ['4', 'd'],
      ['3', null],
    ],
    'offset 1 skips parent 5 (both children), then parents 4 (three children) and 3',
  )
})

t.test("an outer ORDER BY that does not start with the derived table's columns cannot be merged", async (t) => {
  const bad = SQL.replace('ORDER BY anon_1.created_at DESC, anon_1.id DESC, instance_info_caches_1.network_info', 'ORDER BY instance_info_caches_1.network_info, anon_1.id')
  const p = planStatement(bad, { schema: novaShardSchema, map, session: { writeShard: null, lastShard: null } })
  t.match(p, { kind: 'error', code: 9102, message: /does not start with the derived table/ })
})
