// Differential tests of the SQL front end: the same PyMySQL session run directly against MariaDB
// and through cellgate must produce the same decoded values, types, column descriptions, row
// counts, insert ids, status flags and errors.
import t from 'tap'
import type { PyEvent } from '../helpers/python.js'
import { direct, pymysqlSession, startFront, testDatabases, viaDirect, viaFront, type PyStep } from '../helpers/mysql-env.js'

/** The parts of an event that must match (thread ids legitimately differ). */
const comparable = (evs: PyEvent[]): unknown[] => evs.filter((e) => e.event !== 'connected').map(({ t: _t, ...rest }) => rest)

const CREATE_TYPES = `CREATE TABLE types (
  id INT AUTO_INCREMENT PRIMARY KEY,
  i_tiny TINYINT, i_small SMALLINT UNSIGNED, i_big BIGINT, i_ubig BIGINT UNSIGNED,
  d_dec DECIMAL(20,6), d_float FLOAT, d_double DOUBLE,
  t_date DATE, t_dt DATETIME, t_dt6 DATETIME(6), t_ts TIMESTAMP(3) NULL, t_time TIME(6), t_year YEAR,
  s_char CHAR(5), s_var VARCHAR(100), s_text TEXT, s_long LONGTEXT, s_latin VARCHAR(20) CHARACTER SET latin1,
  b_bin VARBINARY(16), b_blob BLOB, b_bit BIT(10), j JSON, e ENUM('a','b'), st SET('x','y'),
  n_null INT
)`

const INSERT_TYPES = `INSERT INTO types VALUES
  (NULL, -128, 65535, -9223372036854775808, 18446744073709551615,
   '12345678901234.123456', 1.5, 2.718281828459045,
   '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59.123456', '2001-01-01 00:00:00.5', '-838:59:59.000001', 2155,
   'ab', 'héllo 🌍 utf8mb4', REPEAT('long text ', 1000), REPEAT('x', 70000), 'café',
   X'00FF10', X'DEADBEEF00', b'1010101010', '{"a": [1, 2.5, null]}', 'b', 'x,y',
   NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

t.test('result sets of every common column type decode identically', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query(CREATE_TYPES)
  await admin.query(INSERT_TYPES)
  const front = await startFront(t)
  const steps: PyStep[] = [
    { sql: 'SELECT * FROM types ORDER BY id' },
    { sql: "SELECT 1 AS one, NULL AS nothing, 'x' AS s, 1.5 AS d, NOW(6) > '2000-01-01' AS cmp, CAST('2020-01-01' AS DATE) AS dt" },
    { sql: 'SELECT id, s_var FROM types WHERE id < 0' },
    { sql: 'SELECT COUNT(*), SUM(i_big), MAX(t_dt6), GROUP_CONCAT(s_char) FROM types' },
    { sql: 'SHOW CREATE TABLE types' },
    { sql: 'SELECT VERSION() LIKE \'%MariaDB%\', DATABASE(), @@sql_mode, @@character_set_client, @@collation_connection' },
  ]
  for (const charset of ['utf8mb4', 'utf8']) {
    const conn = { database: db, charset }
    const viaCg = await pymysqlSession(t, viaFront(front, conn), steps)
    const viaDb = await pymysqlSession(t, viaDirect(conn), steps)
    t.equal(viaCg.filter((e) => e.event === 'result').length, steps.length, `every step returned a result (${charset})`)
    t.same(comparable(viaCg), comparable(viaDb), `same decoded rows, types and descriptions (${charset})`)
  }
})

t.test('affected rows, insert ids and CLIENT_FOUND_ROWS', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query('CREATE TABLE w (id INT AUTO_INCREMENT PRIMARY KEY, v INT)')
  const front = await startFront(t)
  const steps: PyStep[] = [
    { sql: 'INSERT INTO w (v) VALUES (1), (2), (3)' },
    { sql: 'UPDATE w SET v = 1 WHERE v = 1' }, // matches 1 row, changes none
    { sql: 'UPDATE w SET v = v + 10' },
    { sql: 'INSERT INTO w (v) VALUES (7)' },
    { sql: 'DELETE FROM w WHERE v > 100' },
    { sql: 'INSERT IGNORE INTO w (id, v) VALUES (1, 5)' },
    { op: 'commit' },
  ]
  for (const foundRows of [true, false]) {
    await admin.query('TRUNCATE w')
    const flag = foundRows ? 2 : 0
    const viaCg = await pymysqlSession(t, viaFront(front, { database: db, client_flag: flag }), steps)
    await admin.query('TRUNCATE w')
    const viaDb = await pymysqlSession(t, viaDirect({ database: db, client_flag: flag }), steps)
    t.same(comparable(viaCg), comparable(viaDb), `same counts and ids (FOUND_ROWS ${foundRows ? 'on' : 'off'})`)
    const noop = viaCg.find((e) => e.event === 'result' && e.i === 1)
    t.equal(noop?.rowcount, foundRows ? 1 : 0, 'a no-op UPDATE counts matched rows only with CLIENT_FOUND_ROWS')
    t.equal(viaCg.find((e) => e.i === 3)?.lastrowid, 4, 'the insert id comes from the OK packet')
  }
})

t.test('errors keep their code and message (PyMySQL)', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query('CREATE TABLE u (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL)')
  const front = await startFront(t)
  const steps: PyStep[] = [
    { sql: "INSERT INTO u VALUES (1, 'a')" },
    { sql: "INSERT INTO u VALUES (1, 'b')" },
    { sql: 'SELEC 1' },
    { sql: 'SELECT * FROM no_such_table' },
    { sql: "SET SESSION sql_mode = 'TRADITIONAL'" },
    { sql: "INSERT INTO u VALUES (2, 'much too long for ten')" },
    { sql: 'SELECT 1' },
    { op: 'rollback' },
  ]
  const viaCg = await pymysqlSession(t, viaFront(front, { database: db }), steps)
  await admin.query('DELETE FROM u')
  const viaDb = await pymysqlSession(t, viaDirect({ database: db }), steps)
  t.same(comparable(viaCg), comparable(viaDb), 'same errors, and the session goes on after them')
  const codes = viaCg.filter((e) => e.event === 'error').map((e) => (e.args as unknown[])[0])
  t.same(codes, [1062, 1064, 1146, 1406], 'duplicate key, syntax, unknown table, data too long')
})

t.test('autocommit off: commit and rollback, transaction status flags', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query('CREATE TABLE tx (id INT PRIMARY KEY) ENGINE=InnoDB')
  const front = await startFront(t)
  const steps: PyStep[] = [
    { sql: 'SELECT COUNT(*) FROM tx' },
    { sql: 'INSERT INTO tx VALUES (1)' },
    { op: 'rollback' },
    { sql: 'SELECT COUNT(*) FROM tx' },
    { sql: 'INSERT INTO tx VALUES (2)' },
    { op: 'commit' },
    { sql: 'SELECT id FROM tx' },
    { op: 'autocommit', on: true },
    { sql: 'INSERT INTO tx VALUES (3)' },
    { sql: 'SELECT 1' },
  ]
  const viaCg = await pymysqlSession(t, viaFront(front, { database: db, autocommit: false }), steps)
  const [rows] = await admin.query('SELECT id FROM tx ORDER BY id')
  t.same(rows, [{ id: 2 }, { id: 3 }], 'only the committed rows are there')
  await admin.query('DELETE FROM tx')
  const viaDb = await pymysqlSession(t, viaDirect({ database: db, autocommit: false }), steps)
  t.same(comparable(viaCg), comparable(viaDb), 'same results and status flags as direct')
  t.ok(Number(viaCg.find((e) => e.i === 1)?.status) & 1, 'IN_TRANS after the INSERT')
  t.notOk(Number(viaCg.find((e) => e.i === 5)?.status) & 1, 'no transaction after COMMIT')
})
