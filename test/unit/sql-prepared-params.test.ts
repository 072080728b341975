// Prepared-statement parameters for shard-mode routing: `?` placeholders found by the tokenizer,
// binary-protocol values decoded from COM_STMT_EXECUTE and rendered as SQL literals, and the
// execute packet re-encoded for a shard's own statement id.
import t from 'tap'
import { bindLiterals, placeholders } from '../../router/sql/placeholders.js'
import { executePacket, literal, parseExecute, type BoundParam } from '../../adapters/mysql/binary-params.js'
import { encodeBinaryResultSet } from '../../adapters/mysql/binary-rows.js'
import { PayloadBuilder } from '../../adapters/mysql/wire-codec.js'

t.test('placeholders: only ? outside strings, identifiers and comments', async (t) => {
  const sql = "SELECT '?', `a?`, ? /* ? */ FROM x WHERE a = ? AND b LIKE '%s' -- ?\n AND c = ?"
  const p = placeholders(sql)
  t.ok(p.ok)
  if (!p.ok) return
  t.equal(p.offsets.length, 3, 'three real placeholders')
  t.equal(bindLiterals(sql, p.offsets, ['1', "'u'", 'NULL']), "SELECT '?', `a?`, 1 /* ? */ FROM x WHERE a = 'u' AND b LIKE '%s' -- ?\n AND c = NULL")
  t.same(placeholders("SELECT 'open"), { ok: false, reason: 'unterminated string at offset 7' }, 'untokenizable text says why')
  t.throws(() => bindLiterals('?', [0], []), RangeError)
})

const str = (s: string | Buffer, type = 253): BoundParam => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s)
  return { type, flag: 0, raw: Buffer.concat([Buffer.from([b.length]), b]) }
}
const text = (b: BoundParam, noEsc = false): string => {
  const l = literal(b, noEsc)
  if (!Buffer.isBuffer(l)) throw new Error(l.message)
  return l.toString('utf8')
}

t.test('literals', async (t) => {
  t.equal(text({ type: 6, flag: 0, raw: null }), 'NULL')
  t.equal(text(str("it's a \\ test\0\n")), "'it\\'s a \\\\ test\\0\\n'", 'backslash escapes')
  t.equal(text(str("it's \\"), true), "'it''s \\'", 'NO_BACKSLASH_ESCAPES: doubled quotes only')
  t.equal(text(str('ünï')), "'ünï'", 'UTF-8 kept as is')
  t.equal(text(str(Buffer.from([0, 0xff, 0x27]), 252)), "X'00ff27'", 'bytes that are not UTF-8: hex literal')
  const i64 = Buffer.alloc(8)
  i64.writeBigUInt64LE(18446744073709551615n)
  t.equal(text({ type: 8, flag: 0x80, raw: i64 }), '18446744073709551615', 'unsigned LONGLONG')
  t.equal(text({ type: 8, flag: 0, raw: i64 }), '-1', 'signed LONGLONG')
  t.equal(text({ type: 1, flag: 0, raw: Buffer.from([0xff]) }), '-1', 'TINY')
  const dbl = Buffer.alloc(8)
  dbl.writeDoubleLE(0.1)
  t.equal(text({ type: 5, flag: 0, raw: dbl }), '0.1', 'DOUBLE round-trips')
  dbl.writeDoubleLE(Infinity)
  t.match(literal({ type: 5, flag: 0, raw: dbl }, false), { code: 1210 }, 'a non-finite double is refused')
  t.equal(text({ type: 10, flag: 0, raw: Buffer.from([4, 0xe9, 0x07, 12, 31]) }), "'2025-12-31'", 'DATE')
  t.equal(text({ type: 12, flag: 0, raw: Buffer.from([11, 0xe9, 0x07, 1, 2, 3, 4, 5, 0x40, 0xe2, 0x01, 0]) }), "'2025-01-02 03:04:05.123456'", 'DATETIME with microseconds')
  t.equal(text({ type: 12, flag: 0, raw: Buffer.from([0]) }), "'0000-00-00 00:00:00'", 'zero DATETIME')
  t.equal(text({ type: 11, flag: 0, raw: Buffer.from([8, 1, 1, 0, 0, 0, 2, 3, 4]) }), "'-26:03:04'", 'negative TIME with days')
})

t.test('parseExecute and executePacket', async (t) => {
  const value = Buffer.from([3, 0x61, 0x62, 0x63])
  const int = Buffer.from([7, 0, 0, 0])
  const bound = new PayloadBuilder().u8(0x17).u32(5).u8(0).u32(1).u8(0b100).u8(1).bytes(Buffer.from([253, 0, 3, 0, 253, 0])).bytes(value).bytes(int).build()
  const req = parseExecute(bound, 3, null, new Map())
  if ('code' in req) throw new Error(req.message)
  t.equal(req.statementId, 5)
  t.same(req.params.map((p) => p.raw && Buffer.from(p.raw)), [value, int, null], 'values sliced by type; NULL from the bitmap')
  const unbound = new PayloadBuilder().u8(0x17).u32(5).u8(0).u32(1).u8(0).u8(0).bytes(value).bytes(int).bytes(value).build()
  t.match(parseExecute(unbound, 3, null, new Map()), { code: 1210 }, 'no types ever bound: 1210')
  const again = parseExecute(unbound, 3, req.types, new Map())
  if ('code' in again) throw new Error(again.message)
  t.same(again.params.map((p) => p.raw && Buffer.from(p.raw)), [value, int, value], 'new-params-bound = 0 reuses the remembered types')
  const long = parseExecute(new PayloadBuilder().u8(0x17).u32(5).u8(0).u32(1).u8(0).u8(1).bytes(Buffer.from([252, 0])).build(), 1, null, new Map([[0, [Buffer.from('ab'), Buffer.from('c')]]]))
  if ('code' in long) throw new Error(long.message)
  t.same(long.params[0]!.raw, Buffer.from([3, 0x61, 0x62, 0x63]), 'long data chunks become one inline value')
  t.match(parseExecute(new PayloadBuilder().u8(0x17).u32(5).u8(0).u32(2).build(), 0, null, new Map()), { code: 1210 }, 'iteration count other than 1 is refused')
  const out = executePacket(99, again)
  t.same(out, new PayloadBuilder().u8(0x17).u32(99).u8(0).u32(1).u8(0).u8(1).bytes(req.types).bytes(value).bytes(int).bytes(value).build(), 'shard packet: its id, no cursor, types bound, values inline')
  t.throws(() => parseExecute(Buffer.from([0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]), 1, null, new Map()), 'a truncated packet throws (ERR 1835 at the caller)')
})

t.test('merged text rows as a binary result set', async (t) => {
  // Protocol::ColumnDefinition41 with just the fields the encoder reads: type and flags.
  const def = (type: number, flags = 0): Buffer =>
    new PayloadBuilder().lenencBytes(Buffer.from('def')).lenencBytes(Buffer.alloc(0)).lenencBytes(Buffer.alloc(0)).lenencBytes(Buffer.alloc(0))
      .lenencBytes(Buffer.from('c')).lenencBytes(Buffer.from('c')).lenenc(0x0c).u16(63).u32(11).u8(type).u16(flags).u8(0).u16(0).build()
  const defs = [def(3), def(8, 0x20), def(12), def(11), def(253), def(5)]
  const out = encodeBinaryResultSet(defs, [['-5', '18446744073709551615', '2024-01-02 03:04:05.5', '-26:03:04', null, '1.5']], 2, 0)
  if (!Array.isArray(out)) throw new Error(out.message)
  t.equal(out.length, 1 + 6 + 1 + 1 + 1, 'count, definitions, EOF, one row, EOF')
  const row = out[8]!
  t.equal(row[0], 0, 'binary row header')
  t.equal(row[1]! & 0b01000000, 0b01000000, 'NULL bitmap (offset 2): column 5 is NULL')
  const values = row.subarray(2) // header, one bitmap byte ((6 + 7 + 2) >> 3)
  const dbl = Buffer.alloc(8)
  dbl.writeDoubleLE(1.5)
  t.same(
    values,
    Buffer.concat([
      Buffer.from([0xfb, 0xff, 0xff, 0xff]),
      Buffer.alloc(8, 0xff),
      Buffer.from([11, 0xe8, 0x07, 1, 2, 3, 4, 5, 0x20, 0xa1, 0x07, 0]),
      Buffer.from([8, 1, 1, 0, 0, 0, 2, 3, 4]),
      dbl,
    ]),
    'INT, unsigned BIGINT, DATETIME(.5), negative TIME, DOUBLE encoded as the server would',
  )
  t.match(encodeBinaryResultSet([def(1)], [['300']], 2, 0), { code: 9102 }, 'a value out of its column type range is an error, not a crash')
  const zero = encodeBinaryResultSet([def(10)], [['0000-00-00']], 2, 0)
  t.same(Array.isArray(zero) ? zero[3] : null, Buffer.from([0, 0, 0]), 'zero date: length 0')
})
