// Schema-mode routing and pooling: the default database picks the backend, a down backend fails
// only the statements that need it, a client that vanishes mid-transaction leaves nothing behind,
// and session state follows a session across shared backend connections.
import t from 'tap'
import mysql from 'mysql2/promise'
import { freePort } from '../helpers/env.js'
import { APP_USER, MARIADB, direct, pymysqlSession, startFront, testDatabases, viaFront } from '../helpers/mysql-env.js'
import { startPy } from '../helpers/python.js'

t.test('USE / COM_INIT_DB switch backends by database name', async (t) => {
  const [dbA, dbB] = await testDatabases(t, 2)
  for (const [db, marker] of [[dbA, 'cell-a'], [dbB, 'cell-b']] as const) {
    const c = await direct(t, db)
    await c.query('CREATE TABLE marker (cell VARCHAR(20))')
    await c.query('INSERT INTO marker VALUES (?)', [marker])
  }
  const down = await freePort()
  // "cell1" and "cell2" are logical names: they exist on no server, so only the mapping can
  // bring a session to the right database; "cell9" maps to a server that is not running.
  const front = await startFront(t, {
    databases: {
      cell1: { ...MARIADB, database: dbA },
      cell2: { ...MARIADB, database: dbB },
      cell9: { host: '127.0.0.1', port: down, user: 'x', password: 'y', database: 'x' },
    },
    pool: { connectTimeoutMs: 2000 },
  })
  const evs = await pymysqlSession(t, viaFront(front, { database: 'cell1' }), [
    { sql: 'SELECT cell FROM marker' },
    { sql: 'USE cell2' },
    { sql: 'SELECT cell FROM marker' },
    { op: 'select_db', db: 'cell1' },
    { sql: 'SELECT cell FROM marker' },
    { op: 'select_db', db: 'cell9' },
    { op: 'rollback' },
    { op: 'select_db', db: 'cell2' },
    { sql: 'SELECT cell FROM marker' },
    { sql: `USE \`${dbA}\`` }, // not mapped: the default backend, under its own name
    { sql: 'SELECT cell FROM marker' },
    { sql: 'USE no_such_database_anywhere' },
    { sql: 'SELECT cell FROM marker' },
  ])
  const at = (i: number) => evs.find((e) => e.i === i)
  const cell = (i: number) => ((at(i)?.rows as string[][][] | undefined)?.[0]?.[0]?.[1])
  t.equal(cell(0), "'cell-a'", 'handshake database cell1 → database A')
  t.equal(cell(2), "'cell-b'", 'USE cell2 → database B')
  t.equal(cell(4), "'cell-a'", 'COM_INIT_DB cell1 → database A again')
  // PyMySQL runs with autocommit off: the SELECT opened a transaction on server A, which cannot
  // follow the session to another server.
  t.equal((at(5)?.args as unknown[])[0], 1105, 'switching servers inside a transaction is refused')
  t.match((at(5)?.args as unknown[])[1], /open transaction/, 'with the reason')
  t.equal(cell(8), "'cell-b'", 'the session survives and keeps working')
  t.equal(cell(10), "'cell-a'", 'an unmapped name goes to the default backend')
  t.equal((at(11)?.args as unknown[])[0], 1049, 'an unknown database is the backend’s own 1049')
  t.equal(cell(12), "'cell-a'", 'and leaves the previous database selected')
  const outside = await pymysqlSession(t, viaFront(front, { database: "cell1", autocommit: true }), [
    { sql: 'SELECT cell FROM marker' },
    { sql: 'USE cell9' },
    { sql: 'SELECT cell FROM marker' },
  ])
  t.equal((outside.find((e) => e.i === 1)?.args as unknown[])[0], 2003, "outside a transaction, a down backend is 2003 Can't connect")
  t.equal(((outside.find((e) => e.i === 2)?.rows as string[][][])[0]![0]![1]), "'cell-a'", 'and the session survives on its database')
})

t.test('a backend that is down: ERR for its statements, other sessions fine', async (t) => {
  const down = await freePort()
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, {
    databases: { dead: { host: '127.0.0.1', port: down, user: 'x', password: 'y' } },
    pool: { connectTimeoutMs: 2000 },
  })
  // With autocommit on, PyMySQL sends nothing after login, so the login itself succeeds.
  const evs = await pymysqlSession(t, viaFront(front, { database: 'dead', autocommit: true }), [{ sql: 'SELECT 1' }, { op: 'ping' }, { sql: 'SELECT 2' }])
  t.equal(evs[0]?.event, 'connected', 'login succeeds (cellgate authenticates the client itself)')
  t.same(evs.filter((e) => e.event === 'error').map((e) => (e.args as unknown[])[0]), [2003, 2003], 'each statement gets 2003')
  t.equal(evs.find((e) => e.i === 1)?.event, 'result', 'COM_PING is answered while not pinned')
  // With autocommit off, connect() itself runs SET AUTOCOMMIT = 0 and fails as against a down
  // server: 2003, which oslo.db treats as a connection error and retries.
  const off = await pymysqlSession(t, viaFront(front, { database: 'dead', autocommit: false }), [])
  t.match(off[0], { event: 'connect_error', args: [2003] }, 'a connect that needs the backend fails with 2003')
  const ok = await pymysqlSession(t, viaFront(front, { database: db }), [{ sql: 'SELECT 42' }])
  t.equal(ok.find((e) => e.i === 0)?.event, 'result', 'a session on a live backend is unaffected')
})

t.test('a client that disconnects mid-transaction: rolled back, the pooled connection is clean', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query('CREATE TABLE tx (id INT PRIMARY KEY) ENGINE=InnoDB')
  // One backend connection: the next session must get the very connection the first one left.
  const front = await startFront(t, { pool: { maxPerServer: 1 } })
  const spec = {
    conn: viaFront(front, { database: db, autocommit: false }),
    steps: [{ sql: 'INSERT INTO tx VALUES (1)' }, { sql: 'SELECT CONNECTION_ID()' }, { op: 'wait_stdin' }, { op: 'abort' }],
  }
  const p = startPy(t, 'sql_pymysql.py', [JSON.stringify(spec)])
  await p.waitEvent('waiting')
  const [inTx] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.innodb_trx')
  t.ok(Number(inTx[0]?.n) >= 1, 'the transaction is open on the backend')
  const firstThread = ((p.named('result').find((e) => e.i === 1)?.rows as string[][][])[0]![0]![1])
  p.kill('SIGKILL')
  await p.done()
  const evs = await pymysqlSession(t, viaFront(front, { database: db, autocommit: false }), [
    { sql: 'SELECT COUNT(*) FROM tx' },
    { sql: 'SELECT CONNECTION_ID()' },
    { sql: 'SELECT @@in_transaction' },
  ])
  const value = (i: number) => ((evs.find((e) => e.i === i)?.rows as string[][][])[0]![0]![1])
  t.equal(value(0), '0', 'the uncommitted row is gone')
  t.equal(value(1), firstThread, 'on the same pooled backend connection (rolled back, not leaked)')
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM tx')
  t.equal(Number(rows[0]?.n), 0, 'nothing was committed')
})

t.test('session state is replayed on shared backend connections', async (t) => {
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, { pool: { maxPerServer: 1 } })
  const connect = (user: string) =>
    mysql.createConnection({ host: '127.0.0.1', port: front.port, user, password: APP_USER.password, database: db })
  const a = await connect(APP_USER.user)
  const b = await connect(APP_USER.user)
  t.teardown(async () => {
    await a.end()
    await b.end()
  })
  const one = async (c: mysql.Connection, sql: string): Promise<unknown> => {
    const [rows] = await c.query<mysql.RowDataPacket[]>({ sql, rowsAsArray: true })
    return rows[0]?.[0]
  }
  await a.query("SET SESSION sql_mode = 'ANSI_QUOTES'")
  await b.query("SET SESSION sql_mode = 'NO_ZERO_DATE'")
  t.equal(await one(a, 'SELECT @@sql_mode'), 'ANSI_QUOTES', 'session A sees its sql_mode')
  t.equal(await one(b, 'SELECT @@sql_mode'), 'NO_ZERO_DATE', 'session B sees its own on the same backend connection')
  t.equal(await one(a, 'SELECT CONNECTION_ID()'), await one(b, 'SELECT CONNECTION_ID()'), 'both really share one backend connection')
  await b.query('SET SESSION time_zone = "+05:00"')
  t.equal(await one(a, 'SELECT @@time_zone'), 'SYSTEM', 'a variable only B set is reset to DEFAULT for A')
  t.equal(await one(b, 'SELECT @@time_zone'), '+05:00', 'and replayed for B')
  // SET NAMES cannot be undone with DEFAULT: the connection is replaced, still correctly.
  await a.query('SET NAMES latin1')
  t.equal(await one(a, 'SELECT @@character_set_client'), 'latin1', 'SET NAMES follows session A')
  t.equal(await one(b, 'SELECT @@character_set_client'), 'utf8mb4', 'and not session B')
  t.equal(await one(a, 'SELECT @@character_set_results'), 'latin1', 'back on A: all of SET NAMES replayed')
  // A user variable pins the session to its connection: with one backend connection, B must wait
  // and its query succeeds once A is gone.
  await a.query('SET @mine = 7')
  t.equal(await one(a, 'SELECT @mine'), 7, 'user variables survive between statements (pinned)')
  const bQuery = one(b, 'SELECT 5')
  await new Promise((r) => setTimeout(r, 200))
  await a.end()
  t.equal(await bQuery, 5, 'the waiting session proceeds once the pinned one closes')
})

t.test('prepared statements (mysql2 execute) are relayed on a pinned connection', async (t) => {
  const [db] = await testDatabases(t, 1)
  const admin = await direct(t, db)
  await admin.query('CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20), amount DECIMAL(10,2), at DATETIME(6), data BLOB)')
  const front = await startFront(t)
  const c = await mysql.createConnection({ host: '127.0.0.1', port: front.port, user: APP_USER.user, password: APP_USER.password, database: db })
  t.teardown(() => c.end())
  const d = await mysql.createConnection({ ...MARIADB, database: db })
  t.teardown(() => d.end())
  const [ins] = await c.execute<mysql.ResultSetHeader>('INSERT INTO p VALUES (?, ?, ?, ?, ?)', [1, 'ünï', '12.50', '2024-01-02 03:04:05.678901', Buffer.from([0, 1, 2])])
  t.equal(ins.affectedRows, 1, 'insert through a prepared statement')
  await c.execute('INSERT INTO p VALUES (?, ?, ?, ?, ?)', [2, null, null, null, null])
  const q = 'SELECT * FROM p WHERE id >= ? ORDER BY id'
  const [viaCg] = await c.execute(q, [1])
  const [viaDb] = await d.execute(q, [1])
  t.same(viaCg, viaDb, 'binary result rows decode the same as direct')
  const err = await c.execute('INSERT INTO p (id) VALUES (?)', [1]).catch((e: unknown) => e as { errno: number; sqlState: string })
  t.match(err, { errno: 1062, sqlState: '23000' }, 'errors from executed statements keep code and SQLSTATE')
  c.unprepare(q)
  const [again] = await c.execute(q, [2])
  t.equal((again as unknown[]).length, 1, 'a statement prepared again after close works')
})
