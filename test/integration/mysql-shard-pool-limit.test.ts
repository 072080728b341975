// Shard mode with the smallest pool (one backend connection per server, three shards on it): a
// session that spans shards must not wait for itself, and sessions that span shards must not wait
// for each other (hold-and-wait). Before BackendPool.acquire's mayWait, each of these hung.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'

const DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), ' +
  'UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

/** The promise's value, or a rejection naming `what` after `ms` (a hang fails the test instead of timing it out). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

t.test('shard mode, one backend connection per server', async (t) => {
  const sh = await startShards(t, 3, { front: { pool: { maxPerServer: 1, waitTimeoutMs: 1500 } } })
  await sh.onEveryShard(DDL)
  const client = (): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical })
  const c = await client()
  const uuids = Array.from({ length: 12 }, () => randomUUID())
  for (const u of uuids) await within(10_000, 'insert', c.query('INSERT INTO instances (uuid, hostname) VALUES (?, ?)', [u, 'h']))

  const [all] = await within(10_000, 'a scatter over three shards', c.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances'))
  t.equal(Number(all[0]!.n), 12, 'a scatter over three shards of one server answers with the pool at one')

  // A user variable pins the session to the shard connections it has; a scatter then needs the others.
  await c.query('SET @pinned = 1')
  await within(10_000, 'point select while pinned', c.query('SELECT hostname FROM instances WHERE uuid = ?', [uuids[0]]))
  const [pinned] = await within(10_000, 'a scatter from a pinned session', c.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n, @pinned AS p FROM instances'))
  t.equal(Number(pinned[0]!.n), 12, 'a pinned session reaches its other shards')

  // The pinned session holds the server's only connections: another session gets MySQL's own
  // "too many connections" after the pool's wait, not a hang.
  const d = await client()
  t.teardown(() => d.end())
  const started = Date.now()
  const refused = await within(10_000, 'a session while the pool is held', d.query('SELECT hostname FROM instances WHERE uuid = ?', [uuids[2]]).then(() => null, (e: { errno?: number; message?: string }) => e))
  t.equal(refused?.errno, 1040, 'error 1040 while every backend connection is held by a pinned session')
  t.match(refused?.message, /cellgate: all 1 backend connections to .* stayed in use for 1500 ms/, 'the error says why')
  t.ok(Date.now() - started >= 1400, 'after the pool wait')
  await c.end()

  // A transaction holds its shard; its reads of other shards must not wait for the pool.
  await d.beginTransaction()
  await d.query('UPDATE instances SET hostname = ? WHERE uuid = ?', ['tx', uuids[1]])
  const [inTx] = await within(10_000, 'a scatter inside a transaction', d.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances'))
  t.equal(Number(inTx[0]!.n), 12, 'a session in a transaction reads every shard')
  await d.commit()

  // Eight sessions scattering at once: none may hold a connection while waiting for another.
  const many = await Promise.all(Array.from({ length: 8 }, () => client()))
  t.teardown(() => Promise.all(many.map((m) => m.end())))
  const counts = await within(
    20_000,
    'eight concurrent scatters',
    Promise.all(many.map(async (m) => {
      const [r] = await m.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances')
      return Number(r[0]!.n)
    })),
  )
  t.same(counts, Array(8).fill(12), 'eight concurrent scatters all answer')
})
