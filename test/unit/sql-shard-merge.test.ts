// Merging per-shard result sets: k-way ORDER BY merge with ties and NULLs (MySQL order), LIMIT and
// OFFSET applied once, COUNT/SUM/MIN/MAX and GROUP BY re-aggregation, DISTINCT, joinedload's
// parent limit, hidden sort columns, and the utf8mb4_general_ci approximation.
import t from 'tap'
import { mergeRows, collationKey, type ColumnMeta, type Row, type ShardRows } from '../../router/sql/merge.js'
import type { RowMerge } from '../../router/sql/plan.js'

const base: RowMerge = { kind: 'rows', orderBy: [], limit: null, offset: 0, aggregates: null, groupBy: [], distinct: false, parents: null, hiddenColumns: 0 }
const cols = (...spec: Array<[string, ColumnMeta['type']]>): ColumnMeta[] => spec.map(([name, type]) => ({ name, type }))
const shard = (columns: ColumnMeta[], rows: Row[]): ShardRows => ({ columns, rows })
const rowsOf = (r: ReturnType<typeof mergeRows>): readonly Row[] => (r.ok ? r.rows : [['ERROR', r.reason]])

t.test('ORDER BY … LIMIT/OFFSET: k-way merge, offset once, ties in shard order', async (t) => {
  const c = cols(['id', 'numeric'], ['name', 'text'])
  const shards = [
    shard(c, [['1', 'a'], ['4', 'd'], ['7', 'g'], ['10', 'j']]),
    shard(c, [['2', 'b'], ['5', 'e'], ['8', 'h']]),
    shard(c, [['3', 'c'], ['6', 'f'], ['9', 'i'], ['10', 'j2']]),
  ]
  const asc = { ...base, orderBy: [{ column: 0, desc: false }] }
  t.same(rowsOf(mergeRows(shards, asc)).map((r) => r[1]), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'j2'], 'numeric order (10 after 9), tie 10 in shard order')
  t.same(rowsOf(mergeRows(shards, { ...asc, limit: 3, offset: 4 })).map((r) => r[0]), ['5', '6', '7'])
  t.same(rowsOf(mergeRows(shards, { ...asc, limit: 0 })), [])
  t.same(rowsOf(mergeRows(shards, { ...asc, limit: 5, offset: 100 })), [])
  const desc = [
    shard(c, [['10', 'j'], ['7', 'g'], ['1', 'a']]),
    shard(c, [['8', 'h'], ['2', 'b']]),
    shard(c, []),
  ]
  t.same(rowsOf(mergeRows(desc, { ...base, orderBy: [{ column: 0, desc: true }], limit: 4 })).map((r) => r[0]), ['10', '8', '7', '2'])
  t.same(rowsOf(mergeRows([shard(c, [['1', 'x']]), shard(c, [['2', 'y']])], base)).map((r) => r[0]), ['1', '2'], 'no ORDER BY: shard after shard')
  t.same(rowsOf(mergeRows([shard(c, [['1', 'x'], ['2', 'y']]), shard(c, [['3', 'z']])], { ...base, limit: 2 })).map((r) => r[0]), ['1', '2'])
})

t.test('NULLs first ascending, last descending; multi-key with mixed directions', async (t) => {
  const c = cols(['created_at', 'temporal'], ['id', 'numeric'])
  const shards = [
    shard(c, [[null, '5'], ['2024-01-01 00:00:00', '9'], ['2024-01-02 00:00:00', '3']]),
    shard(c, [[null, '7'], ['2024-01-01 00:00:00', '11'], ['2024-01-03 00:00:00', '1']]),
  ]
  const asc = rowsOf(mergeRows(shards, { ...base, orderBy: [{ column: 0, desc: false }, { column: 1, desc: true }] }))
  t.same(asc.map((r) => r[1]), ['7', '5', '11', '9', '3', '1'])
  const descShards = shards.map((s) => shard(c, [...s.rows].reverse()))
  const desc = rowsOf(mergeRows(descShards, { ...base, orderBy: [{ column: 0, desc: true }, { column: 1, desc: false }] }))
  t.same(desc.map((r) => r[1]), ['1', '3', '9', '11', '5', '7'], 'DESC: NULL rows last')
})

t.test('value types: big integers, decimals, floats, text collation, binary', async (t) => {
  const n = cols(['v', 'numeric'])
  const big = [shard(n, [['-5'], ['9007199254740993']]), shard(n, [['9007199254740992'], ['18446744073709551615']])]
  t.same(rowsOf(mergeRows(big, { ...base, orderBy: [{ column: 0, desc: false }] })).map((r) => r[0]), ['-5', '9007199254740992', '9007199254740993', '18446744073709551615'])
  const dec = [shard(n, [['-1.50'], ['0.05'], ['10.001']]), shard(n, [['-1.5000001'], ['0.5'], ['1e3']])]
  t.same(rowsOf(mergeRows(dec, { ...base, orderBy: [{ column: 0, desc: false }] })).map((r) => r[0]), ['-1.5000001', '-1.50', '0.05', '0.5', '10.001', '1e3'])
  t.same(rowsOf(mergeRows([shard(n, [[1], [5]]), shard(n, [[2n], [3]])], { ...base, orderBy: [{ column: 0, desc: false }] })).map(String), ['1', '2', '3', '5'], 'JS numbers and bigints')
  const s = cols(['name', 'text'])
  const texts = [shard(s, [['apple'], ['Banana'], ['étoile']]), shard(s, [['Apple '], ['banana'], ['zèbre']])]
  t.same(rowsOf(mergeRows(texts, { ...base, orderBy: [{ column: 0, desc: false }] })).map((r) => r[0]), ['apple', 'Apple ', 'Banana', 'banana', 'étoile', 'zèbre'], 'case- and accent-insensitive, trailing spaces ignored, ties in shard order')
  t.equal(collationKey('Élan  '), 'ELAN')
  t.equal(collationKey('ñandú'), 'NANDU')
  const buf = [shard(s, [[Buffer.from('b')], [Buffer.from('d')]]), shard(s, [[Buffer.from('a')], [Buffer.from('c')]])]
  t.same(rowsOf(mergeRows(buf, { ...base, orderBy: [{ column: 0, desc: false }] })).map((r) => String(r[0])), ['a', 'b', 'c', 'd'], 'text values as Buffers (typeCast:false)')
  const b = cols(['h', 'binary'])
  const bin = [shard(b, [[Uint8Array.of(0x00, 0xff)], [Uint8Array.of(0x61)]]), shard(b, [[Uint8Array.of(0x00)], [Uint8Array.of(0x41)]])]
  t.same(rowsOf(mergeRows(bin, { ...base, orderBy: [{ column: 0, desc: false }] })).map((r) => [...(r[0] as Uint8Array)]), [[0], [0, 0xff], [0x41], [0x61]], 'binary: bytewise, case-sensitive')
})

t.test('aggregates without GROUP BY: one row', async (t) => {
  const c = cols(['count_1', 'numeric'], ['sum_1', 'numeric'], ['sum_2', 'numeric'], ['min', 'numeric'], ['max', 'text'])
  const shards = [
    shard(c, [['3', '12', '2048.5', '4', 'b']]),
    shard(c, [['0', null, null, null, null]]),
    shard(c, [['2', '7', '1024.25', '2', 'C']]),
  ]
  const r = mergeRows(shards, { ...base, aggregates: ['count', 'sum', 'sum', 'min', 'max'], limit: 1 })
  t.same(rowsOf(r), [['5', '19', '3072.75', '2', 'C']], 'COUNT and SUM add (exact decimals, NULL sums skipped), MIN/MAX combine (collation order for text)')
  const empty = mergeRows([shard(c, [['0', null, null, null, null]]), shard(c, [['0', null, null, null, null]])], { ...base, aggregates: ['count', 'sum', 'sum', 'min', 'max'] })
  t.same(rowsOf(empty), [['0', null, null, null, null]], 'no rows anywhere: COUNT 0, SUM/MIN/MAX NULL')
  const nums = cols(['n', 'numeric'])
  t.same(rowsOf(mergeRows([shard(nums, [[1.5]]), shard(nums, [[2]])], { ...base, aggregates: ['sum'] })), [[3.5]], 'JS numbers add as numbers')
  t.same(rowsOf(mergeRows([shard(nums, [['-0.5']]), shard(nums, [['0.25']])], { ...base, aggregates: ['sum'] })), [['-0.25']], 'negative decimals')
})

t.test('GROUP BY: merged groups, sorted by the group keys unless ORDER BY says otherwise', async (t) => {
  const c = cols(['binary', 'text'], ['min_1', 'numeric'], ['count', 'numeric'])
  const shards = [
    shard(c, [['nova-compute', '61', '3'], ['nova-conductor', '66', '1']]),
    shard(c, [['nova-compute', '60', '2'], ['nova-scheduler', '66', '1']]),
    shard(c, [['NOVA-COMPUTE', '62', '1']]),
  ]
  const plan: RowMerge = { ...base, aggregates: ['key', 'min', 'count'], groupBy: [0] }
  t.same(rowsOf(mergeRows(shards, plan)), [['nova-compute', '60', '6'], ['nova-conductor', '66', '1'], ['nova-scheduler', '66', '1']], 'service_get_minimum_version across shards; _ci grouping')
  t.same(rowsOf(mergeRows(shards, { ...plan, orderBy: [{ column: 2, desc: true }], limit: 2 })).map((r) => r[0]), ['nova-compute', 'nova-conductor'], 'ORDER BY an aggregate, LIMIT after merging')
  t.same(rowsOf(mergeRows(shards, { ...plan, orderBy: [{ column: 2, desc: true }], limit: 2, offset: 2 })).map((r) => r[0]), ['nova-scheduler'])
  const hidden = cols(['count', 'numeric'], ['__k', 'text'])
  const h = mergeRows([shard(hidden, [['2', 'p1'], ['1', 'p2']]), shard(hidden, [['5', 'p1']])], { ...base, aggregates: ['count', 'key'], groupBy: [-1], hiddenColumns: 1 })
  t.same(rowsOf(h), [['7'], ['1']], 'group key added by cellgate is used, then dropped')
  t.same(h.ok ? h.columns.map((x) => x.name) : [], ['count'])
})

t.test('DISTINCT across shards', async (t) => {
  const c = cols(['host', 'text'])
  const r = mergeRows([shard(c, [['cmp1'], ['cmp2']]), shard(c, [['CMP1'], ['cmp3']]), shard(c, [[null], ['cmp2']])], { ...base, distinct: true })
  t.same(rowsOf(r), [['cmp1'], ['cmp2'], ['cmp3'], [null]])
  const sorted = mergeRows([shard(c, [['a'], ['c']]), shard(c, [['a'], ['b']])], { ...base, distinct: true, orderBy: [{ column: 0, desc: false }], limit: 2 })
  t.same(rowsOf(sorted), [['a'], ['b']], 'duplicates do not count towards the limit')
})

t.test('joinedload: the limit counts parents, not parent×child rows', async (t) => {
  // anon_1.created_at DESC, anon_1.id DESC; each parent has 0..n child rows (info_cache, sg).
  const c = cols(['created_at', 'temporal'], ['id', 'numeric'], ['child', 'text'])
  const shards = [
    shard(c, [['2024-01-05', '4', 'a'], ['2024-01-05', '4', 'b'], ['2024-01-03', '1', 'c']]),
    shard(c, [['2024-01-05', '5', 'd'], ['2024-01-04', '2', null], ['2024-01-04', '2', 'e'], ['2024-01-04', '2', 'f']]),
  ]
  const plan: RowMerge = { ...base, orderBy: [{ column: 0, desc: true }, { column: 1, desc: true }], parents: { limit: 2, offset: 0 } }
  t.same(rowsOf(mergeRows(shards, plan)).map((r) => `${r[1]}${r[2] ?? '-'}`), ['5d', '4a', '4b'], 'two parents with all their children')
  t.same(rowsOf(mergeRows(shards, { ...plan, parents: { limit: 2, offset: 1 } })).map((r) => `${r[1]}${r[2] ?? '-'}`), ['4a', '4b', '2-', '2e', '2f'], 'parent offset')
  t.same(rowsOf(mergeRows(shards, { ...plan, parents: { limit: 10, offset: 0 } })).length, 7)
})

t.test('mismatched shards are an error, not a wrong answer', async (t) => {
  const r = mergeRows([shard(cols(['a', 'text']), []), shard(cols(['a', 'text'], ['b', 'text']), [])], base)
  t.match(r, { ok: false, reason: /1 and 2 columns/ })
  t.match(mergeRows([shard(cols(['a', 'text']), [])], { ...base, orderBy: [{ column: 3, desc: false }] }), { ok: false })
  t.same(mergeRows([], base), { ok: true, columns: [], rows: [] })
})
