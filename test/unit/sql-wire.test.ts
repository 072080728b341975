// Unit tables for the SQL front end's pure parts: packet framing (including 16 MiB splits and the
// size limit), and the session-effect classifier that drives state replay and pinning.
import t from 'tap'
import { PacketParser } from '../../adapters/mysql/packet-parser.js'
import { PacketWriter } from '../../adapters/mysql/packet-writer.js'
import { classifySession } from '../../router/sql/session-statement.js'
import { routeSchema } from '../../router/sql/schema-route.js'

function collect(max: number) {
  const got: Array<{ payload: Buffer; first: number; last: number }> = []
  const errors: string[] = []
  const p = new PacketParser({ onPacket: (payload, first, last) => got.push({ payload: Buffer.from(payload), first, last }), onPacketError: (k) => errors.push(k) }, max)
  return { p, got, errors }
}

t.test('split packets round-trip through writer and parser, in any chunking', async (t) => {
  for (const size of [0, 1, 0xfffffe, 0xffffff, 0xffffff + 1, 2 * 0xffffff + 5]) {
    const chunks: Buffer[] = []
    const w = new PacketWriter({ write: (b) => chunks.push(Buffer.from(b)) })
    w.seq = 7
    const payload = Buffer.alloc(size, 0x5a)
    if (size > 0) payload[size - 1] = 0x01
    w.write(payload)
    const wire = Buffer.concat(chunks)
    const physical = Math.floor(size / 0xffffff) + 1
    t.equal(wire.length, size + 4 * physical, `${size} bytes: ${physical} physical packet(s)`)
    const { p, got, errors } = collect(64 * 1024 * 1024)
    // Odd chunk sizes so headers and payloads straddle chunk boundaries.
    for (let i = 0; i < wire.length; i += 1_000_003) p.push(wire.subarray(i, i + 1_000_003))
    t.same(errors, [])
    t.equal(got.length, 1, 'one logical packet')
    t.ok(got[0]!.payload.equals(payload), 'same bytes')
    t.same([got[0]!.first, got[0]!.last], [7, (7 + physical - 1) & 0xff], 'first and last sequence ids')
    t.equal(w.seq, (7 + physical) & 0xff, 'writer sequence advanced per physical packet')
  }
})

t.test('size limit and split-sequence errors stop the parser', async (t) => {
  const small = collect(100)
  small.p.push(Buffer.from([101, 0, 0, 0]))
  t.same(small.errors, ['too-large'], 'a header announcing more than the limit fails at once')
  small.p.push(Buffer.from([1, 0, 0, 1, 0x0e]))
  t.equal(small.got.length, 0, 'nothing is delivered after the error')
  const seq = collect(1 << 26)
  const first = Buffer.alloc(4 + 0xffffff)
  first.writeUIntLE(0xffffff, 0, 3)
  first[3] = 0
  seq.p.push(first)
  seq.p.push(Buffer.from([1, 0, 0, 5, 0x00]))
  t.same(seq.errors, ['sequence'], 'a split packet continued with the wrong sequence id')
  const ok = collect(1 << 10)
  ok.p.push(Buffer.from([1, 0, 0, 0, 0x0e, 2, 0, 0, 0, 0x03, 0x41]))
  t.same(ok.got.map((g) => [...g.payload]), [[0x0e], [0x03, 0x41]], 'two packets in one chunk')
})

t.test('session effects of statements', async (t) => {
  const table: Array<[string, unknown]> = [
    ['USE nova', { kind: 'use', database: 'nova' }],
    ['use `we``ird`;', { kind: 'use', database: 'we`ird' }],
    ['SET NAMES utf8', { kind: 'set', assignments: [{ key: 'names', sql: 'SET NAMES utf8' }], pin: null }],
    ['SET AUTOCOMMIT = 0', { kind: 'set', assignments: [{ key: 'autocommit', sql: 'SET SESSION autocommit = 0' }], pin: null }],
    ["SET SESSION sql_mode = 'TRADITIONAL'", { kind: 'set', assignments: [{ key: 'sql_mode', sql: "SET SESSION sql_mode = 'TRADITIONAL'" }] }],
    ["SET @@session.tx_isolation = 'READ-COMMITTED', time_zone='+00:00'", { kind: 'set', assignments: [{ key: 'transaction_isolation' }, { key: 'time_zone' }], pin: null }],
    ['SET GLOBAL max_connections = 10', { kind: 'set', assignments: [], pin: null }],
    ['SET @x = 1', { kind: 'set', pin: 'user variable' }],
    ['SET sql_mode = @old', { kind: 'set', pin: 'user variable' }],
    ['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', { kind: 'set', assignments: [{ key: 'transaction_isolation' }], pin: null }],
    ['SET TRANSACTION READ ONLY', { kind: 'set', pin: 'SET TRANSACTION (next transaction)' }],
    ["SELECT 'a@b', `x@y` FROM t", { kind: 'other', pin: null }],
    ['SELECT @@tx_isolation', { kind: 'other', pin: null }],
    ['SELECT @a', { kind: 'other', pin: 'user variable' }],
    ["SELECT GET_LOCK('x', 1)", { kind: 'other', pin: 'GET_LOCK' }],
    ['/* hi */ CREATE TEMPORARY TABLE t (a int)', { kind: 'other', pin: 'temporary table' }],
    ['LOCK TABLES t WRITE', { kind: 'other', tableLock: true }],
    ['UNLOCK TABLES', { kind: 'other', unlockTables: true }],
    ['SELECT SQL_CALC_FOUND_ROWS * FROM t', { kind: 'other', pin: 'SQL_CALC_FOUND_ROWS' }],
    ["SELECT '-- USE x' -- USE y\n", { kind: 'other', pin: null }],
    ['XA START 1', { kind: 'other', pin: 'XA transaction' }],
    // The no-lexing fast path (first word and a substring scan) must agree with the lexer.
    ['  \n\tset names utf8mb4', { kind: 'set', assignments: [{ key: 'names' }] }],
    ['/*!40101 SET NAMES utf8 */', { kind: 'set', assignments: [{ key: 'names' }] }],
    ['HANDLER t OPEN', { kind: 'other', pin: 'HANDLER' }],
    ['prepare s FROM "SELECT 1"', { kind: 'other', pin: 'text-protocol PREPARE' }],
    ['SELECT /*!40001 SQL_CALC_FOUND_ROWS */ a FROM t', { kind: 'other', pin: 'SQL_CALC_FOUND_ROWS' }],
    ["select get_lock('x', 1)", { kind: 'other', pin: 'GET_LOCK' }],
    ['(SELECT @a)', { kind: 'other', pin: 'user variable' }],
    ['INSERT INTO t VALUES (1)', { kind: 'other', pin: null, unlockTables: false, tableLock: false }],
    ['SELECTED_NOTHING_LONG_WORD @a', { kind: 'other', pin: 'user variable' }],
    ['SETTINGS', { kind: 'other', pin: null }],
  ]
  for (const [sql, want] of table) t.match(classifySession(sql), want, sql)
})

t.test('schema routing', async (t) => {
  type B = { id: string; database?: string }
  const a: B = { id: 'a', database: 'nova' }
  const b: B = { id: 'b' }
  const dflt: B = { id: 'default' }
  const m = new Map<string, B>([['cell1', a], ['cell2', b]])
  t.same(routeSchema('cell1', m, dflt), { backend: a, database: 'nova' }, 'renamed on the backend')
  t.same(routeSchema('cell2', m, dflt), { backend: b, database: 'cell2' }, 'same name on the backend')
  t.same(routeSchema('other', m, dflt), { backend: dflt, database: 'other' }, 'unmapped → default backend')
  t.same(routeSchema(null, m, dflt), { backend: dflt, database: null }, 'no database → default backend')
})
