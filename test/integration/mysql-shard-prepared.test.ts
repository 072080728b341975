// Prepared statements (binary protocol) in shard mode, through mysql2's execute() and a raw
// client: each execution routed as its text form would be (checked on the shard databases),
// binary result sets equal to MariaDB's own, typed parameters (NULL, int, bigint, double, string,
// date, blob, long data), re-execution without re-bound types, 1243 after close, the one-shard
// write rule of transactions (9101), multi-shard reads merged into binary rows equal to one plain
// database's, one the merge cannot do refused (9102), a multi-shard write run, and no shard-side
// statement left on a pooled connection.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER, MARIADB } from '../helpers/mysql-env.js'
import { startShards, type Shards } from '../helpers/mysql-shards.js'
import { errOf, rawCommand, rawSession } from '../helpers/mysql-raw.js'
import { PayloadBuilder, PayloadReader } from '../../adapters/mysql/wire-codec.js'

const DDL =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255), vcpus INT, ' +
  'memory_mb BIGINT, price DOUBLE, launched_on DATE, user_data BLOB, deleted INT NOT NULL DEFAULT 0, UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

type Err = { errno?: number; sqlState?: string; message?: string }
const failure = (p: Promise<unknown>): Promise<Err> => p.then(
  () => ({}),
  (e: unknown) => e as Err,
)

async function shardOf(sh: Shards, uuid: string): Promise<number[]> {
  const rows = await sh.perShard<{ n: number }>(`SELECT COUNT(*) AS n FROM instances WHERE uuid = '${uuid}'`)
  return rows.flatMap((r, i) => (Number(r[0]!.n) > 0 ? [i] : []))
}

async function preparedCount(admin: mysql.Connection): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")
  return Number(rows[0]!.Value)
}

t.test('prepared statements in shard mode (mysql2 execute)', async (t) => {
  const sh = await startShards(t, 3, { extra: 1 })
  const baseline = await preparedCount(sh.admin)
  const c = await mysql.createConnection({ host: '127.0.0.1', port: sh.front.port, ...APP_USER, database: sh.logical, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })
  t.teardown(() => c.end().catch(() => {}))
  await c.query(DDL)

  // ---- INSERT: every row placed on one shard, values as bound ----
  const uuids = Array.from({ length: 9 }, () => randomUUID())
  const blob = (i: number): Buffer => Buffer.from([0, 0xff, i, 0x27, 0x5c, 0x80])
  for (const [i, u] of uuids.entries()) {
    const [ok] = await c.execute<mysql.ResultSetHeader>(
      'INSERT INTO instances (uuid, hostname, vcpus, memory_mb, price, launched_on, user_data) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [u, i % 3 === 0 ? null : `host-'${i}\\`, i + 1, BigInt(2 ** 40) + BigInt(i), i * 1.5, `2024-03-0${1 + i}`, blob(i)],
    )
    t.equal(ok.affectedRows, 1, `insert ${i}`)
  }
  const placed = await Promise.all(uuids.map((u) => shardOf(sh, u)))
  t.ok(placed.every((s) => s.length === 1), 'each prepared INSERT put its row on exactly one shard')
  t.same(new Set(placed.map((s) => s[0])).size, 3, 'rows spread over all three shards')
  const stored = (await sh.perShard<Record<string, unknown>>("SELECT uuid, hostname, vcpus, memory_mb, price, DATE_FORMAT(launched_on, '%Y-%m-%d') AS d, HEX(user_data) AS ud FROM instances")).flat()
  const byUuid = new Map(stored.map((r) => [r.uuid as string, r]))
  for (const [i, u] of uuids.entries()) {
    t.same(
      byUuid.get(u),
      { uuid: u, hostname: i % 3 === 0 ? null : `host-'${i}\\`, vcpus: i + 1, memory_mb: 2 ** 40 + i, price: i * 1.5, d: `2024-03-0${1 + i}`, ud: blob(i).toString('hex').toUpperCase() },
      `row ${i} stored with the bound values (NULL, string with quote and backslash, int, bigint, double, date, blob)`,
    )
  }

  // ---- point SELECT: on the row's shard, binary rows as MariaDB sends them ----
  const q = 'SELECT uuid, hostname, vcpus, memory_mb, price, launched_on, user_data, DATABASE() AS db FROM instances WHERE uuid = ?'
  for (const k of [0, 1, 2, 4]) {
    const [viaCg] = await c.execute<mysql.RowDataPacket[]>(q, [uuids[k]!])
    const d = await mysql.createConnection({ ...MARIADB, database: sh.databases[placed[k]![0]!], dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })
    const [viaDb] = await d.execute<mysql.RowDataPacket[]>(q, [uuids[k]!])
    await d.end()
    t.equal(viaCg[0]?.db, sh.databases[placed[k]![0]!], `select ${k} ran on the row's shard`)
    t.same(viaCg, viaDb, `select ${k}: binary result set equal to the shard's own`)
  }

  // ---- point UPDATE by uuid ----
  const [up] = await c.execute<mysql.ResultSetHeader>('UPDATE instances SET hostname = ? WHERE uuid = ?', ['renamed', uuids[1]!])
  t.equal(up.affectedRows, 1, 'prepared UPDATE by uuid changed one row')
  const after = await sh.perShard<{ hostname: string }>(`SELECT hostname FROM instances WHERE uuid = '${uuids[1]}'`)
  t.same(after[placed[1]![0]!], [{ hostname: 'renamed' }], 'the update landed on the row shard')

  // ---- several shards ----
  // Reads without a shard key scatter: merged, then sent as binary rows. The same statements on
  // one plain database holding the same rows are the reference.
  const plain = sh.extraDbs[0]!
  await sh.admin.query(`USE \`${plain}\``)
  await sh.admin.query(DDL)
  for (const db of sh.databases) await sh.admin.query(`INSERT INTO \`${plain}\`.instances SELECT * FROM \`${db}\`.instances`)
  const p = await mysql.createConnection({ ...MARIADB, database: plain, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })
  const scatter: Array<[string, unknown[]]> = [
    ['SELECT uuid, hostname, vcpus, memory_mb, price, launched_on, user_data FROM instances WHERE vcpus > ? ORDER BY vcpus DESC LIMIT 4 OFFSET 1', [2]],
    ['SELECT id, uuid FROM instances WHERE hostname IS NULL OR hostname <> ? ORDER BY launched_on, id', ['renamed']],
    ['SELECT COUNT(*) AS n, SUM(vcpus) AS v, MIN(price) AS lo, MAX(launched_on) AS last, MAX(memory_mb) AS mb FROM instances WHERE deleted = ?', [0]],
    ['SELECT vcpus % 2 AS odd, COUNT(*) AS n, MAX(price) AS p FROM instances WHERE vcpus >= ? GROUP BY vcpus % 2 ORDER BY odd', [1]],
    ['SELECT DISTINCT hostname IS NULL AS unnamed FROM instances WHERE memory_mb > ? ORDER BY unnamed', [0]],
  ]
  for (const [sql, args] of scatter) {
    const [viaCg] = await c.execute<mysql.RowDataPacket[]>(sql, args as mysql.ExecuteValues)
    const [viaDb] = await p.execute<mysql.RowDataPacket[]>(sql, args as mysql.ExecuteValues)
    t.ok(viaDb.length > 0, `reference has rows: ${sql}`)
    t.same(viaCg, viaDb, `prepared scatter read merged into binary rows equal to one database: ${sql}`)
  }
  await p.end() // its own prepared statements would count below
  const avg = await failure(c.execute('SELECT AVG(vcpus) FROM instances WHERE deleted = ?', [0]))
  t.equal(avg.errno, 9102, 'a prepared scatter read the merge cannot do is refused with 9102, as its text form is')
  const [multiWrite] = await c.execute<mysql.ResultSetHeader>('UPDATE instances SET deleted = ? WHERE vcpus <= ?', [1, 3])
  t.equal(multiWrite.affectedRows, 3, 'a prepared multi-shard write (autocommit) runs on every shard; affected rows add up')
  const deleted = await sh.perShard<{ n: number }>('SELECT COUNT(*) AS n FROM instances WHERE deleted = 1')
  t.same(deleted.map((r) => Number(r[0]!.n)).reduce((a, b) => a + b, 0), 3, 'the three rows are marked on their shards')

  // ---- transactions: writes pinned to one shard ----
  const [a, b] = [0, 1].map((k) => uuids.find((_, i) => placed[i]![0] === k)!) as [string, string]
  await c.beginTransaction()
  await c.execute('UPDATE instances SET hostname = ? WHERE uuid = ?', ['tx-a', a])
  const [readB] = await c.execute<mysql.RowDataPacket[]>('SELECT uuid FROM instances WHERE uuid = ?', [b])
  t.equal(readB.length, 1, 'a read on another shard inside the transaction is allowed')
  const cross = await failure(c.execute('UPDATE instances SET hostname = ? WHERE uuid = ?', ['tx-b', b]))
  t.equal(cross.errno, 9101, 'a prepared write to a second shard in the transaction is error 9101')
  await c.rollback()
  const hostA = await sh.perShard<{ hostname: string | null }>(`SELECT hostname FROM instances WHERE uuid = '${a}'`)
  t.not(hostA[0]![0]?.hostname, 'tx-a', 'the transaction was rolled back on shard A')
  await c.beginTransaction()
  await c.execute('UPDATE instances SET hostname = ? WHERE uuid = ?', ['tx-a2', a])
  await c.commit()
  const hostA2 = await sh.perShard<{ hostname: string }>(`SELECT hostname FROM instances WHERE uuid = '${a}'`)
  t.same(hostA2[0], [{ hostname: 'tx-a2' }], 'a prepared write in a committed transaction persists')

  // ---- close, then execute ----
  const st = await c.prepare('SELECT vcpus FROM instances WHERE uuid = ?')
  const [one] = (await st.execute([uuids[2]!])) as unknown as [mysql.RowDataPacket[]]
  t.same(one, [{ vcpus: 3 }], 'an explicitly prepared statement executes')
  st.close()
  const closed = await failure(st.execute([uuids[2]!]) as Promise<unknown>)
  t.equal(closed.errno, 1243, 'executing a closed statement is 1243 (unknown statement handler)')

  // ---- no shard-side statement outlives its session's use of a connection ----
  let left = -1
  for (let i = 0; i < 40 && left !== baseline; i++) {
    await new Promise((r) => setTimeout(r, 50))
    left = await preparedCount(sh.admin)
  }
  t.equal(left, baseline, 'pooled shard connections carry no prepared statements (closed before going back to the pool)')
})

const TYPE = { LONG: 3, DOUBLE: 5, NULL: 6, LONGLONG: 8, DATE: 10, BLOB: 252, VAR_STRING: 253 }

function lenenc(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from([b.length]), b])
}

function executePayload(id: number, values: Array<{ type: number; value: Buffer | null }>, bind: boolean): Buffer {
  const bitmap = Buffer.alloc((values.length + 7) >> 3)
  values.forEach((v, i) => {
    if (v.value === null) bitmap[i >> 3]! |= 1 << (i & 7)
  })
  const b = new PayloadBuilder().u8(0x17).u32(id).u8(0).u32(1).bytes(bitmap).u8(bind ? 1 : 0)
  if (bind) for (const v of values) b.u8(v.type).u8(0)
  for (const v of values) if (v.value !== null) b.bytes(v.value)
  return b.build()
}

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32LE(n)
  return b
}
const int64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(n)
  return b
}
const double = (n: number): Buffer => {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(n)
  return b
}
const date = (y: number, m: number, d: number): Buffer => Buffer.from([4, y & 0xff, y >> 8, m, d])

/** Lenenc text of a binary-protocol row's string columns, in order (the first value after the NULL bitmap). */
function binaryRowStrings(row: Buffer, columns: number): Array<string | null> {
  const bitmap = row.subarray(1, 1 + ((columns + 7 + 2) >> 3))
  const r = new PayloadReader(row, 1 + bitmap.length)
  const out: Array<string | null> = []
  for (let i = 0; i < columns; i++) {
    const bit = i + 2
    if (bitmap[bit >> 3]! & (1 << (bit & 7))) out.push(null)
    else out.push(r.lenencBytes().toString('utf8'))
  }
  return out
}

t.test('prepared statements in shard mode (raw client: typed params, new-params-bound = 0, long data, close, reset)', async (t) => {
  const sh = await startShards(t, 3)
  await sh.admin.query(`USE \`${sh.databases[0]}\``)
  const r = await rawSession(sh.front.port, APP_USER.user, APP_USER.password, sh.logical)
  t.teardown(() => r.close())
  const [ddl] = await rawCommand(r, Buffer.concat([Buffer.from([0x03]), Buffer.from(DDL)]), 'query')
  t.equal(ddl![0], 0, 'DDL through the raw client')

  const prepare = async (sql: string): Promise<{ id: number; packets: Buffer[] }> => {
    const packets = await rawCommand(r, Buffer.concat([Buffer.from([0x16]), Buffer.from(sql)]), 'prepare')
    if (packets[0]![0] !== 0) throw new Error(`prepare failed: ${JSON.stringify(errOf(packets[0]))}`)
    return { id: packets[0]!.readUInt32LE(1), packets }
  }

  const ins = await prepare('INSERT INTO instances (uuid, hostname, vcpus, memory_mb, price, launched_on, user_data) VALUES (?, ?, ?, ?, ?, ?, ?)')
  t.equal(ins.packets[0]!.readUInt16LE(7), 7, 'PREPARE reports the shard server\'s parameter count')
  const uuids = [randomUUID(), randomUUID(), randomUUID()]
  const row = (u: string, i: number): Array<{ type: number; value: Buffer | null }> => [
    { type: TYPE.VAR_STRING, value: lenenc(Buffer.from(u)) },
    { type: TYPE.NULL, value: null },
    { type: TYPE.LONG, value: int32(-7 - i) },
    { type: TYPE.LONGLONG, value: int64(9_007_199_254_740_993n + BigInt(i)) },
    { type: TYPE.DOUBLE, value: double(0.1 + i) },
    { type: TYPE.DATE, value: date(2025, 12, 1 + i) },
    { type: TYPE.BLOB, value: lenenc(Buffer.from([1, 2, 3, i])) },
  ]
  const [first] = await rawCommand(r, executePayload(ins.id, row(uuids[0]!, 0), true), 'execute')
  t.equal(first![0], 0, 'execute with bound types: OK')
  for (const [i, u] of uuids.entries()) {
    if (i === 0) continue
    // Types not sent again (new-params-bound = 0): the statement's previous types apply.
    const [ok] = await rawCommand(r, executePayload(ins.id, row(u, i), false).subarray(0), 'execute')
    t.equal(ok![0], 0, `re-execute ${i} with new-params-bound = 0: OK`, { err: errOf(ok) })
  }
  const stored = (await sh.perShard<Record<string, unknown>>(
    "SELECT uuid, hostname, vcpus, CAST(memory_mb AS CHAR) AS mb, price, DATE_FORMAT(launched_on, '%Y-%m-%d') AS d, HEX(user_data) AS ud FROM instances",
  ))
  const flat = stored.flat()
  t.equal(flat.length, 3, 'three rows stored')
  t.ok(stored.every((s) => s.length === 1), 'one per shard (least-loaded placement of each new instance)')
  for (const [i, u] of uuids.entries()) {
    t.same(
      flat.find((x) => x.uuid === u),
      { uuid: u, hostname: null, vcpus: -7 - i, mb: String(9_007_199_254_740_993n + BigInt(i)), price: 0.1 + i, d: `2025-12-0${1 + i}`, ud: `0102030${i}` },
      `typed values of row ${i} stored exactly (NULL, LONG, LONGLONG beyond 2^53, DOUBLE, DATE, BLOB)`,
    )
  }

  // A point SELECT re-executed on other shards without re-bound types.
  const sel = await prepare('SELECT uuid, DATABASE() FROM instances WHERE uuid = ?')
  for (const [i, u] of uuids.entries()) {
    const reply = await rawCommand(r, executePayload(sel.id, [{ type: TYPE.VAR_STRING, value: lenenc(Buffer.from(u)) }], i === 0), 'execute')
    // column count, 2 defs, EOF, one binary row, EOF
    t.equal(reply.length, 6, `select ${i}: one row`, { err: errOf(reply[0]) })
    const [gotUuid, db] = binaryRowStrings(reply[4]!, 2)
    t.equal(gotUuid, u, `select ${i} found its row`)
    t.equal(db, sh.databases[stored.findIndex((s) => s[0]!.uuid === u)], `select ${i} ran on the row's shard`)
  }

  // COM_STMT_SEND_LONG_DATA: chunks reach the shard as one value.
  const echo = await prepare('SELECT CONCAT(?, ?)')
  const sendLong = (param: number, data: string): void => {
    r.sendPacket(0, new PayloadBuilder().u8(0x18).u32(echo.id).u16(param).bytes(Buffer.from(data)).build())
  }
  sendLong(0, 'long-')
  sendLong(0, 'data')
  const echoed = await rawCommand(r, executePayload(echo.id, [{ type: TYPE.VAR_STRING, value: null }, { type: TYPE.VAR_STRING, value: lenenc(Buffer.from('!')) }].map((v, i) => (i === 0 ? { type: v.type, value: Buffer.alloc(0) } : v)), true), 'execute')
  t.same(binaryRowStrings(echoed[3]!, 1), ['long-data!'], 'long data chunks are sent as the parameter value')

  // COM_STMT_RESET drops pending long data.
  sendLong(0, 'stale')
  const [reset] = await rawCommand(r, new PayloadBuilder().u8(0x1a).u32(echo.id).build(), 'simple')
  t.equal(reset![0], 0, 'COM_STMT_RESET: OK')
  const fresh = await rawCommand(r, executePayload(echo.id, [{ type: TYPE.VAR_STRING, value: lenenc(Buffer.from('a')) }, { type: TYPE.VAR_STRING, value: lenenc(Buffer.from('b')) }], true), 'execute')
  t.same(binaryRowStrings(fresh[3]!, 1), ['ab'], 'after reset the long data is gone')

  // COM_STMT_CLOSE, then execute / reset: 1243.
  r.sendPacket(0, new PayloadBuilder().u8(0x19).u32(sel.id).build())
  const [gone] = await rawCommand(r, executePayload(sel.id, [{ type: TYPE.VAR_STRING, value: lenenc(Buffer.from(uuids[0]!)) }], true), 'execute')
  t.match(errOf(gone), { code: 1243, sqlState: 'HY000' }, 'execute after close: 1243')
  const [goneReset] = await rawCommand(r, new PayloadBuilder().u8(0x1a).u32(sel.id).build(), 'simple')
  t.equal(errOf(goneReset)?.code, 1243, 'reset after close: 1243')
  const [cursor] = await rawCommand(r, new PayloadBuilder().u8(0x17).u32(ins.id).u8(1).u32(1).build(), 'execute')
  t.equal(errOf(cursor)?.code, 9102, 'an execute asking for a cursor is refused with 9102')
  const [ping] = await rawCommand(r, Buffer.from([0x0e]), 'simple')
  t.equal(ping![0], 0, 'the session keeps working')
})
