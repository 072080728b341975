// Connection phase and bad input of the SQL front end: authentication with both plugins, TLS,
// wrong passwords, malformed and oversized packets, sequence errors and unknown commands. Every
// failure must be the ERR a MySQL server would send, and must not disturb other sessions.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { nativePasswordHash } from '../../adapters/mysql/auth.js'
import { APP_USER, MARIADB, pymysqlSession, startFront, testDatabases, viaFront } from '../helpers/mysql-env.js'
import { RawMysql, errOf } from '../helpers/mysql-raw.js'

const dir = mkdtempSync(join(tmpdir(), 'cg-sql-tls-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const cert = join(dir, 'cert.pem')
const key = join(dir, 'key.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })

/** A user configured only by its native hash: caching_sha2 then needs the full (TLS/RSA) path. */
const HASHED = { user: 'hashed', password: 'only-the-hash-is-stored' }
const users = {
  [APP_USER.user]: { password: APP_USER.password },
  [HASHED.user]: { nativePasswordHash: nativePasswordHash(HASHED.password) },
}

t.test('mysql_native_password: right and wrong passwords', async (t) => {
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, { users })
  const ok = await pymysqlSession(t, viaFront(front, { database: db }), [{ sql: 'SELECT DATABASE()' }])
  t.match(ok[0], { event: 'connected', tls: false }, 'PyMySQL logs in')
  t.match(String(ok[0]?.server_version), /MariaDB/, 'the greeting mirrors the backend’s version')
  const hashed = await pymysqlSession(t, viaFront(front, { user: HASHED.user, password: HASHED.password }), [{ sql: 'SELECT 1' }])
  t.equal(hashed[0]?.event, 'connected', 'a user stored as a native hash logs in')
  const bad = await pymysqlSession(t, viaFront(front, { password: 'wrong' }), [])
  t.match(bad[0], { event: 'connect_error', args: [1045, /^Access denied for user 'app'@'127\.0\.0\.1' \(using password: YES\)$/] }, 'wrong password → 1045')
  const nobody = await pymysqlSession(t, viaFront(front, { user: 'nobody' }), [])
  t.match(nobody[0], { event: 'connect_error', args: [1045] }, 'unknown user → 1045')
  const err = await mysql
    .createConnection({ host: '127.0.0.1', port: front.port, user: APP_USER.user, password: 'wrong' })
    .catch((e: unknown) => e as { errno: number; sqlState: string })
  t.match(err, { errno: 1045, sqlState: '28000' }, 'mysql2 sees 1045 with SQLSTATE 28000')
  const good = await mysql.createConnection({ host: '127.0.0.1', port: front.port, user: APP_USER.user, password: APP_USER.password })
  const [rows] = await good.query('SELECT 1 + 1 AS two')
  t.same(rows, [{ two: 2 }], 'mysql2 logs in and queries')
  await good.end()
})

t.test('caching_sha2_password: fast path, full path over TLS and over RSA', async (t) => {
  const front = await startFront(t, { users, authPlugin: 'caching_sha2_password', tls: { cert, key } })
  const fast = await pymysqlSession(t, viaFront(front), [{ sql: 'SELECT 1' }])
  t.equal(fast[0]?.event, 'connected', 'fast path (password configured)')
  const fastBad = await pymysqlSession(t, viaFront(front, { password: 'nope' }), [])
  t.match(fastBad[0], { event: 'connect_error', args: [1045] }, 'fast path with a wrong password → 1045')
  const overTls = await pymysqlSession(t, viaFront(front, { user: HASHED.user, password: HASHED.password, ssl: { ca: cert } }), [{ sql: 'SELECT 1' }])
  t.match(overTls[0], { event: 'connected', tls: true }, 'full path: cleartext password over TLS')
  const overRsa = await pymysqlSession(t, viaFront(front, { user: HASHED.user, password: HASHED.password }), [{ sql: 'SELECT 1' }])
  t.match(overRsa[0], { event: 'connected', tls: false }, 'full path: password encrypted with the server’s RSA key')
  const rsaBad = await pymysqlSession(t, viaFront(front, { user: HASHED.user, password: 'nope' }), [])
  t.match(rsaBad[0], { event: 'connect_error', args: [1045] }, 'full path with a wrong password → 1045')
  const m2 = await mysql.createConnection({ host: '127.0.0.1', port: front.port, user: APP_USER.user, password: APP_USER.password })
  const [rows] = await m2.query('SELECT 3 AS x')
  t.same(rows, [{ x: 3 }], 'mysql2 logs in against a caching_sha2 greeting')
  await m2.end()
})

t.test('TLS: SSLRequest upgrade, then normal queries', async (t) => {
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, { users, tls: { cert, key } })
  const evs = await pymysqlSession(t, viaFront(front, { database: db, ssl: { ca: cert } }), [
    { sql: "SELECT REPEAT('z', 100000) AS big" },
    { sql: 'SELECT 2' },
  ])
  t.match(evs[0], { event: 'connected', tls: true }, 'the client socket is TLS')
  t.equal(((evs.find((e) => e.i === 0)?.rows as string[][][])[0]![0]![1]!).length, 100002, 'a large row arrives whole over TLS')
  const plain = await pymysqlSession(t, viaFront(front, { database: db }), [{ sql: 'SELECT 1' }])
  t.match(plain[0], { event: 'connected', tls: false }, 'plaintext clients are still accepted')
  // A ClientHello in the same segment as the SSLRequest takes the piped TLS path; its early bytes
  // are read only after the SSLRequest's handler returned (client-session.ts startTls).
})

t.test('bad input: ERR then close, server unaffected', async (t) => {
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, { users, maxPacketSize: 64 * 1024 })

  const shortHello = await RawMysql.open(front.port)
  shortHello.sendPacket(1, Buffer.from([0x05, 0x02]))
  t.match(errOf((await shortHello.next())?.payload), { code: 1043, sqlState: '08S01' }, 'truncated handshake response → 1043 Bad handshake')
  t.ok(await shortHello.waitClosed(), 'and the connection is closed')

  const huge = await RawMysql.open(front.port)
  t.ok(errOf(await huge.login(APP_USER.user, APP_USER.password)) === null, 'raw login works')
  const header = Buffer.from([0xff, 0xff, 0xff, 0x00])
  huge.socket.write(Buffer.concat([header, Buffer.alloc(1000, 0x03)]))
  t.match(errOf((await huge.next())?.payload), { code: 1153, sqlState: '08S01' }, 'a packet over the limit → 1153 before it is buffered')
  t.ok(await huge.waitClosed(), 'and the connection is closed')

  const seq = await RawMysql.open(front.port)
  await seq.login(APP_USER.user, APP_USER.password)
  seq.sendPacket(3, Buffer.from([0x0e]))
  t.match(errOf((await seq.next())?.payload), { code: 1156, sqlState: '08S01' }, 'a command with sequence id 3 → 1156 out of order')
  t.ok(await seq.waitClosed(), 'and the connection is closed')

  const unknown = await RawMysql.open(front.port)
  await unknown.login(APP_USER.user, APP_USER.password)
  unknown.sendPacket(0, Buffer.from([0x50, 1, 2, 3]))
  const reply = await unknown.next()
  t.match(errOf(reply?.payload), { code: 1047, sqlState: '08S01' }, 'unknown command → 1047')
  t.equal(reply?.seq, 1, 'reply sequence id follows the command’s')
  unknown.sendPacket(0, Buffer.from([0x0e]))
  t.equal((await unknown.next())?.payload[0], 0x00, 'the session goes on: COM_PING → OK')
  unknown.sendPacket(0, Buffer.from([0x17, 99, 0, 0, 0, 0, 1, 0, 0, 0]))
  t.match(errOf((await unknown.next())?.payload), { code: 1243 }, 'executing an unknown statement id → 1243')
  unknown.close()

  const garbage = await RawMysql.open(front.port)
  garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
  const g = await garbage.next()
  t.ok(g === null || errOf(g.payload) !== null, 'HTTP garbage → ERR or close, never a hang')
  t.ok(await garbage.waitClosed(), 'and the connection is closed')

  const after = await pymysqlSession(t, viaFront(front, { database: db }), [{ sql: 'SELECT 7' }])
  t.equal(((after.find((e) => e.i === 0)?.rows as string[][][])[0]![0]![1]), '7', 'a new session works afterwards')
})

t.test('16 MiB split packets in both directions', async (t) => {
  const [db] = await testDatabases(t, 1)
  const front = await startFront(t, { users })
  const c = await mysql.createConnection({ host: '127.0.0.1', port: front.port, user: APP_USER.user, password: APP_USER.password, database: db })
  t.teardown(() => c.end())
  await c.query('SET SESSION max_allowed_packet = 67108864').catch(() => {})
  await c.query('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)')
  const d = await mysql.createConnection({ ...MARIADB })
  t.teardown(() => d.end())
  const [[mx]] = await d.query<mysql.RowDataPacket[]>('SELECT @@global.max_allowed_packet AS m')
  const size = 0xffffff + 10 // crosses one split boundary
  if (Number(mx?.m) < size + 1024) {
    t.plan(0, `MariaDB max_allowed_packet ${mx?.m} too small for a split packet (the unit tests cover splitting)`)
    return
  }
  const blob = Buffer.alloc(size, 0x61)
  blob[size - 1] = 0x62
  await c.query('INSERT INTO big VALUES (1, ?)', [blob])
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT b FROM big WHERE id = 1')
  const got = rows[0]?.b as Buffer
  t.equal(got.length, size, 'a row larger than 16 MiB comes back whole')
  t.ok(got.equals(blob), 'byte for byte')
})
