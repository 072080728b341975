// ALTER DATABASE in shard mode: nova's initial migration ends with
// `ALTER DATABASE <db> DEFAULT CHARACTER SET utf8`; the logical database is every shard's
// database, so it is broadcast and the named database is marked for per-shard replacement.
import t from 'tap'
import { planStatement, type Plan, type ShardMap } from '../../router/sql/plan.js'
import { novaShardSchema } from '../../router/sql/shard-schema.js'

const map: ShardMap = {
  shards: ['s0', 's1'].map((id, i) => ({ id, offset: i + 1, enabled: true })),
  increment: 2,
  instanceShard: () => undefined,
  hostShard: () => undefined,
}
const plan = (sql: string): Plan => planStatement(sql, { schema: novaShardSchema, map, session: { writeShard: null, lastShard: null } })

t.test('ALTER DATABASE runs on every shard under its own name', async (t) => {
  const rows: Array<[string, string | null]> = [
    ['ALTER DATABASE `nova` DEFAULT CHARACTER SET utf8', 'nova'],
    ['ALTER SCHEMA nova CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci', 'nova'],
    ['ALTER DATABASE DEFAULT CHARACTER SET utf8', null],
    ['alter database collate utf8mb4_bin', null],
  ]
  for (const [sql, name] of rows) {
    const p = plan(sql)
    t.match(p, { kind: 'all-in-order', statement: 'ddl', reference: false }, sql)
    if (p.kind !== 'all-in-order') continue
    t.equal(p.database?.name ?? null, name, `${sql}: named database`)
    if (p.database) t.equal(sql.slice(p.database.start, p.database.end).replace(/`/g, ''), name, `${sql}: the span covers the name`)
  }
  t.match(plan('ALTER DATABASE `#mysql50#nova` UPGRADE DATA DIRECTORY NAME'), { kind: 'error', code: 9102, message: /UPGRADE DATA DIRECTORY NAME/ })
  t.match(plan('CREATE DATABASE nova'), { kind: 'error', code: 9102 }, 'CREATE DATABASE stays refused')
  t.match(plan('DROP DATABASE nova'), { kind: 'error', code: 9102 }, 'DROP DATABASE stays refused')
})
