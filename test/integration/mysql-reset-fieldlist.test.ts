// COM_RESET_CONNECTION and COM_FIELD_LIST through cellgate, in schema and shard mode, with a raw
// client (no client library sends them on its own). Reset clears user variables, rolls back an
// open transaction (checked from a second connection), releases pins (one backend connection per
// server: another session gets it afterwards) and keeps the default database. FIELD_LIST returns
// the column definitions MariaDB returns directly for the same table.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import mysql from 'mysql2/promise'
import { APP_USER, MARIADB, startFront, testDatabases } from '../helpers/mysql-env.js'
import { startShards } from '../helpers/mysql-shards.js'
import { RawMysql, errOf, rawCommand, rawSession } from '../helpers/mysql-raw.js'
import { PayloadReader } from '../../adapters/mysql/wire-codec.js'

const TABLE =
  'CREATE TABLE instances (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARCHAR(36) NOT NULL, hostname VARCHAR(255) DEFAULT \'none\', ' +
  'price DECIMAL(10,2), created_at DATETIME, user_data BLOB, UNIQUE KEY uniq_uuid (uuid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'

const query = (r: RawMysql, sql: string): Promise<Buffer[]> => rawCommand(r, Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]), 'query')

/** The single value of a one-row, one-column text result set (null for SQL NULL). */
async function scalar(r: RawMysql, sql: string): Promise<string | null> {
  const reply = await query(r, sql)
  if (errOf(reply[0])) throw new Error(`${sql}: ${JSON.stringify(errOf(reply[0]))}`)
  const row = reply[3]!
  if (row[0] === 0xfb) return null
  return new PayloadReader(row).lenencBytes().toString('utf8')
}

const statusOf = (ok: Buffer): number => {
  const r = new PayloadReader(ok, 1)
  r.lenenc()
  r.lenenc()
  return r.u16()
}

const reset = async (r: RawMysql): Promise<Buffer> => (await rawCommand(r, Buffer.from([0x1f]), 'simple'))[0]!

/** Column definition fields of a COM_FIELD_LIST reply (without the schema, which differs per shard). */
function fieldList(reply: Buffer[]): Array<Record<string, unknown>> {
  return reply.slice(0, -1).map((p) => {
    const r = new PayloadReader(p)
    r.lenencBytes() // catalog
    r.lenencBytes() // schema
    const table = r.lenencBytes().toString()
    const orgTable = r.lenencBytes().toString()
    const name = r.lenencBytes().toString()
    const orgName = r.lenencBytes().toString()
    r.lenenc()
    const charset = r.u16()
    const length = r.u32()
    const type = r.u8()
    const flags = r.u16()
    const decimals = r.u8()
    r.u16()
    const dflt = r.remaining === 0 ? undefined : p[r.pos] === 0xfb ? null : r.lenencBytes().toString()
    return { table, orgTable, name, orgName, charset, length, type, flags, decimals, dflt }
  })
}

const fieldListPacket = (table: string, wild = ''): Buffer => Buffer.concat([Buffer.from([0x04]), Buffer.from(table + '\0' + wild)])

interface Mode {
  front: { port: number }
  /** The database a client names. */
  database: string
  /** A direct connection to the database that holds `uuid`'s row (schema mode: the one database). */
  directFor(uuid: string): Promise<mysql.Connection>
  /** The physical database a direct raw client compares FIELD_LIST with. */
  physical: string
  /** SELECT DATABASE() through cellgate in this mode. */
  databaseSeen(name: string): boolean
}

async function exercise(t: Test, m: Mode): Promise<void> {
  const r = await rawSession(m.front.port, APP_USER.user, APP_USER.password, m.database)
  t.teardown(() => r.close())
  // Opened first: later the only backend connection is pinned (insert id, user variable).
  const other = await rawSession(m.front.port, APP_USER.user, APP_USER.password, m.database)
  t.teardown(() => other.close())

  // ---- user variables ----
  await query(r, 'SET @x = 1')
  t.equal(await scalar(r, 'SELECT @x'), '1', 'the user variable is set')
  const ok = await reset(r)
  t.equal(ok[0], 0, 'COM_RESET_CONNECTION answers OK')
  t.equal(await scalar(r, 'SELECT @x'), null, 'after reset the user variable is NULL')

  // ---- open transaction: rolled back, its locks released ----
  const uuid = randomUUID()
  await query(r, 'SET autocommit = 0')
  const [ins] = await query(r, `INSERT INTO instances (uuid, hostname) VALUES ('${uuid}', 'in-tx')`)
  t.equal(ins![0], 0, 'insert inside a transaction', { err: errOf(ins) })
  t.ok(statusOf(ins!) & 1, 'the server reports the transaction open')
  const okTx = await reset(r)
  t.equal(statusOf(okTx) & 1, 0, 'the reset OK says no transaction is open')
  t.ok(statusOf(okTx) & 2, 'and autocommit is back on')
  const d = await m.directFor(uuid)
  await d.query('SET SESSION innodb_lock_wait_timeout = 2')
  const [seen] = await d.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM instances WHERE uuid = ?', [uuid])
  t.equal(Number(seen[0]!.n), 0, 'the uncommitted row is gone (rolled back)')
  const [again] = await d.query<mysql.ResultSetHeader>("INSERT INTO instances (uuid, hostname) VALUES (?, 'direct')", [uuid])
  t.equal(again.affectedRows, 1, 'its key is not locked: a direct insert of the same uuid succeeds at once')
  await d.query('DELETE FROM instances WHERE uuid = ?', [uuid])
  await d.end()
  const kept = randomUUID()
  const [afterInsert] = await query(r, `INSERT INTO instances (uuid, hostname) VALUES ('${kept}', 'autocommit')`)
  t.equal(statusOf(afterInsert!) & 1, 0, 'after reset statements autocommit again (SET autocommit = 0 forgotten)')

  // ---- pins released: with one backend connection per server another session gets it ----
  await query(r, 'SET @pin = 1')
  const pending = scalar(other, 'SELECT 41 + 1')
  const early = await Promise.race([pending.then(() => 'ran'), new Promise((res) => setTimeout(() => res('waiting'), 300))])
  t.equal(early, 'waiting', 'while the user variable pins the only backend connection, another session waits')
  await reset(r)
  t.equal(await pending, '42', 'after reset the pin is released and the other session runs')

  // ---- default database kept ----
  t.ok(m.databaseSeen((await scalar(r, 'SELECT DATABASE()'))!), 'the default database survives the reset')
  // A point query: a scatter would need a connection per shard, and this front has one in all.
  t.equal(await scalar(r, `SELECT hostname FROM instances WHERE uuid = '${kept}'`), 'autocommit', 'unqualified table names still resolve')

  // ---- COM_FIELD_LIST equals MariaDB direct ----
  const direct = await rawSession(MARIADB.port, MARIADB.user, MARIADB.password, m.physical)
  t.teardown(() => direct.close())
  const viaCg = await rawCommand(r, fieldListPacket('instances'), 'field-list')
  const viaDb = await rawCommand(direct, fieldListPacket('instances'), 'field-list')
  t.equal(viaCg[viaCg.length - 1]![0], 0xfe, 'FIELD_LIST ends with EOF')
  t.same(fieldList(viaCg), fieldList(viaDb), 'column definitions (names, types, flags, charsets, defaults) equal MariaDB direct')
  t.same(fieldList(viaCg).map((f) => f.name), ['id', 'uuid', 'hostname', 'price', 'created_at', 'user_data'], 'every column, in order')
  const wild = await rawCommand(r, fieldListPacket('instances', 'h%'), 'field-list')
  t.same(fieldList(wild).map((f) => f.name), ['hostname'], 'the wildcard filters columns')
  const [missing] = await rawCommand(r, fieldListPacket('no_such_table'), 'field-list')
  const [missingDb] = await rawCommand(direct, fieldListPacket('no_such_table'), 'field-list')
  t.equal(errOf(missing)?.code, errOf(missingDb)?.code, `an unknown table: the server's error (${errOf(missingDb)?.code})`)
  t.equal(await scalar(r, 'SELECT 7'), '7', 'the session keeps working')
}

t.test('schema mode', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await mysql.createConnection({ ...MARIADB, database: db })
  t.teardown(() => admin.end())
  await admin.query(TABLE)
  const front = await startFront(t, { pool: { maxPerServer: 1 } })
  await exercise(t, {
    front,
    database: db!,
    physical: db!,
    directFor: () => mysql.createConnection({ ...MARIADB, database: db }),
    databaseSeen: (name) => name === db,
  })
})

t.test('shard mode', async (t) => {
  const sh = await startShards(t, 3, { front: { pool: { maxPerServer: 1 } } })
  await sh.onEveryShard(TABLE)
  await exercise(t, {
    front: sh.front,
    database: sh.logical,
    physical: sh.databases[0]!,
    directFor: async (uuid) => {
      // The row is on the shard cellgate placed it on (its placement table says which).
      for (const db of sh.databases) {
        const c = await mysql.createConnection({ ...MARIADB, database: db })
        const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM cellgate_placement WHERE kind = 'instance' AND name = ?", [uuid])
        if (Number(rows[0]!.n) > 0) return c
        await c.end()
      }
      throw new Error(`instance ${uuid} is not placed on any shard`)
    },
    databaseSeen: (name) => sh.databases.includes(name),
  })
})
