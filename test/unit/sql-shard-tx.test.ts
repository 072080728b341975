// The transaction tracker: state from server status flags (PyMySQL never sends BEGIN), one write
// shard per transaction, error 9101 (never 1213/1205) for a write to a second shard, reference-table
// writes, scatter writes settled by matched rows, savepoints replayed on shards that join later.
import t from 'tap'
import { TxTracker, SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS } from '../../router/sql/tx-tracker.js'
import { planStatement, type Plan, type ShardMap } from '../../router/sql/plan.js'
import { novaShardSchema } from '../../router/sql/shard-schema.js'
import { CROSS_SHARD_WRITE } from '../../router/sql/shard-errors.js'

const U1 = '11111111-1111-1111-1111-111111111111'
const U2 = '22222222-2222-2222-2222-222222222222'
const map: ShardMap = {
  shards: ['s0', 's1', 's2'].map((id, i) => ({ id, offset: i + 1, enabled: true })),
  increment: 3,
  instanceShard: (u) => ({ [U1]: 's1', [U2]: 's2' })[u],
  hostShard: () => undefined,
}
const SHARDS = ['s0', 's1', 's2']
const IN_TRANS = SERVER_STATUS_IN_TRANS
const IDLE = 0 // autocommit=0, no transaction: PyMySQL's default session

function session() {
  const tx = new TxTracker(SHARDS)
  let last: string | null = null
  const plan = (sql: string): Plan => planStatement(sql, { schema: novaShardSchema, map, session: { writeShard: tx.writeShard, lastShard: last } })
  /** Admits a statement and reports the flags every targeted shard answers with. */
  const run = (sql: string, flags = IN_TRANS) => {
    const p = plan(sql)
    const a = tx.admit(p)
    if (a.ok) {
      const targets = p.kind === 'single' ? [p.shard] : p.kind === 'shards' ? p.shards : p.kind === 'all' || p.kind === 'all-in-order' ? SHARDS : p.kind === 'transaction' ? tx.endpoints(p) : []
      for (const s of targets) tx.observe(s, flags)
      if (p.kind === 'single') last = p.shard
    }
    return { plan: p, admission: a }
  }
  return { tx, plan, run }
}

t.test('a nova unit of work: reads open transactions, one write shard, COMMIT ends it', async (t) => {
  const { tx, run, plan } = session()
  t.same(tx.endpoints(plan('ROLLBACK') as Plan & { kind: 'transaction' }), [], 'nothing open: SQLAlchemy’s pool-return ROLLBACK is answered locally')
  run('SELECT 1', IDLE)
  t.same(tx.participants(), [])
  run(`SELECT * FROM instances WHERE uuid = '${U2}'`)
  t.same(tx.participants(), ['s2'], 'an InnoDB read with autocommit=0 opened a transaction (flags)')
  t.equal(tx.writeShard, null)
  t.match(run(`UPDATE instances SET host = 'x' WHERE uuid = '${U1}'`).admission, { ok: true })
  t.equal(tx.writeShard, 's1')
  t.match(run(`UPDATE instance_extra SET numa_topology = NULL WHERE instance_uuid = '${U1}'`).admission, { ok: true }, 'same shard again')
  t.match(run(`SELECT * FROM block_device_mapping WHERE instance_uuid = '${U2}'`).admission, { ok: true }, 'reads elsewhere are fine')
  const commit = plan('COMMIT') as Plan & { kind: 'transaction' }
  t.same(tx.endpoints(commit), ['s2', 's1'], 'COMMIT: read-only participants first, the write shard last')
  tx.admit(commit)
  for (const s of tx.endpoints(commit)) tx.observe(s, IDLE)
  t.same(tx.participants(), [])
  t.equal(tx.writeShard, null, 'the next transaction may write anywhere')
  t.match(run(`UPDATE instances SET host = 'x' WHERE uuid = '${U2}'`).admission, { ok: true })
  t.equal(tx.writeShard, 's2')
})

t.test('a write to a second shard gets 9101, not a deadlock code', async (t) => {
  const { tx, run } = session()
  run(`INSERT INTO tags (resource_id, tag) VALUES ('${U1}', 'a')`)
  const r = run(`INSERT INTO tags (resource_id, tag) VALUES ('${U2}', 'b')`)
  t.match(r.admission, { ok: false, error: { code: CROSS_SHARD_WRITE, sqlState: 'HY000', message: /already writes to shard s1; this write needs shard s2/ } })
  t.not(r.admission.ok ? 0 : r.admission.error.code, 1213)
  t.not(r.admission.ok ? 0 : r.admission.error.code, 1205)
  t.match(run(`SELECT * FROM tags WHERE resource_id = '${U2}' FOR UPDATE`).admission, { ok: false }, 'FOR UPDATE counts as a write')
  t.match(run("UPDATE instances SET task_state = NULL WHERE host = 'cmp1'").admission, { ok: false }, 'a scatter write inside a pinned transaction')
  t.match(run("INSERT INTO alembic_version (version_num) VALUES ('x')").admission, { ok: false }, 'a reference write after a sharded write')
  t.equal(tx.writeShard, 's1', 'the pin is unchanged by refused statements')
  const rb = { statement: 'rollback', tables: [], kind: 'transaction', verb: 'rollback', savepoint: null } as const
  t.same(tx.endpoints(rb), ['s1'])
})

t.test('reference-table writes: first write of a transaction, then only reference writes', async (t) => {
  const { tx, run } = session()
  run("SELECT * FROM security_groups WHERE project_id = 'p'")
  t.match(run("INSERT INTO security_groups (name, project_id) VALUES ('default', 'p')").admission, { ok: true })
  t.equal(tx.writeShard, null, 'several write shards')
  t.same(tx.participants(), SHARDS)
  t.match(run("INSERT INTO security_group_rules (parent_group_id, protocol) VALUES (1, 'tcp')").admission, { ok: true })
  t.match(run(`INSERT INTO tags (resource_id, tag) VALUES ('${U1}', 'a')`).admission, { ok: false, error: { code: 9101 } })
})

t.test('autocommit sessions: multi-shard writes commit per shard, nothing pins', async (t) => {
  const { tx, run } = session()
  run('SELECT 1', SERVER_STATUS_AUTOCOMMIT)
  t.match(run("UPDATE instances SET task_state = NULL WHERE host = 'cmp1'", SERVER_STATUS_AUTOCOMMIT).admission, { ok: true })
  t.equal(tx.writeShard, null)
  t.match(run(`INSERT INTO tags (resource_id, tag) VALUES ('${U1}', 'a')`, SERVER_STATUS_AUTOCOMMIT).admission, { ok: true })
  t.match(run(`INSERT INTO tags (resource_id, tag) VALUES ('${U2}', 'a')`, SERVER_STATUS_AUTOCOMMIT).admission, { ok: true }, 'each statement was its own transaction')
})

t.test('scatter write in a transaction: shards that matched nothing are released', async (t) => {
  const { tx, run } = session()
  t.match(run("UPDATE instances SET task_state = NULL WHERE host = 'cmp1'").admission, { ok: true })
  const settled = tx.settleScatterWrite(new Map([['s0', 0], ['s1', 2], ['s2', 0]]))
  t.same(settled, { release: ['s0', 's2'], error: null })
  tx.observe('s0', IDLE)
  tx.observe('s2', IDLE)
  t.equal(tx.writeShard, 's1', 'only the shard with matched rows stays the write shard')
  t.match(run(`UPDATE instances SET host = 'y' WHERE uuid = '${U2}'`).admission, { ok: false, error: { code: 9101 } })
  const two = session()
  two.run("UPDATE instances SET task_state = NULL WHERE host = 'cmp1'")
  t.match(two.tx.settleScatterWrite(new Map([['s0', 1], ['s1', 2], ['s2', 0]])), { release: [], error: { code: 9101 } }, 'rows on two shards: refused')
})

t.test('savepoints and BEGIN are replayed on shards that join later', async (t) => {
  const { tx, run, plan } = session()
  run("SELECT * FROM security_groups WHERE project_id = 'p'")
  t.same(tx.participants(), ['s0'])
  t.match(run('SAVEPOINT sa_savepoint_1').admission, { ok: true })
  t.same(tx.endpoints(plan('SAVEPOINT sa_savepoint_1') as Plan & { kind: 'transaction' }), ['s0'])
  const w = run(`INSERT INTO tags (resource_id, tag) VALUES ('${U1}', 'a')`)
  t.match(w.admission, { ok: true })
  t.same(w.admission.ok ? [...w.admission.prelude] : [], [['s1', ['SAVEPOINT `sa_savepoint_1`']]], 's1 joins after the savepoint: it is set there first')
  t.same(tx.endpoints(plan('RELEASE SAVEPOINT sa_savepoint_1') as Plan & { kind: 'transaction' }), ['s0', 's1'])
  run('RELEASE SAVEPOINT sa_savepoint_1')
  const r = run(`SELECT * FROM tags WHERE resource_id = '${U2}'`)
  t.same(r.admission.ok ? [...r.admission.prelude] : null, [], 'released: nothing to replay')

  const b = session()
  b.run('SET AUTOCOMMIT = 1', SERVER_STATUS_AUTOCOMMIT)
  b.run('BEGIN')
  const first = b.run(`UPDATE instances SET host = 'x' WHERE uuid = '${U1}'`)
  t.same(first.admission.ok ? [...first.admission.prelude] : null, [['s1', ['BEGIN']]], 'an explicit BEGIN opens the transaction on the shard it first touches')
  t.equal(b.tx.writeShard, 's1')
})

t.test('DDL is admitted (it commits implicitly, as on a single server)', async (t) => {
  const { tx, run } = session()
  run(`UPDATE instances SET host = 'x' WHERE uuid = '${U1}'`)
  t.match(run('ALTER TABLE instances ADD COLUMN z INT', IDLE).admission, { ok: true })
  t.equal(tx.writeShard, null, 'every shard reported no transaction afterwards')
})
