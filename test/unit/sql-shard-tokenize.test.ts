// Unit tables for shard mode's lexer and digest: MySQL/MariaDB literal forms, comments, executable
// comments, placeholders, operators, and digest stability (same shape → same digest, values in
// slots, IN lists collapsed).
import t from 'tap'
import { tokenize, type Token } from '../../router/sql/tokenize.js'
import { digest, type Digest } from '../../router/sql/digest.js'

const brief = (tokens: readonly Token[]): string[] =>
  tokens.map((k) => `${k.kind}:${k.text}${k.charset ? '@' + k.charset : ''}`)

t.test('tokens', async (t) => {
  const table: Array<[string, string[]]> = [
    ['SELECT a FROM t', ['word:SELECT', 'word:a', 'word:FROM', 'word:t']],
    ["'it''s', \"d\"\"q\"", ['string:it\'s', 'op:,', 'string:d"q']],
    ["'it''s' \"dq\"", ["string:it'sdq"]],
    ["'a\\'b\\n\\\\c'", ["string:a'b\n\\c"]],
    ["'100\\%'", ['string:100\\%']],
    ["'a' 'b'", ['string:ab']],
    ["_utf8mb4'x' _binary 'y' N'z'", ['string:x@utf8mb4', 'string:y@binary', 'string:z@utf8']],
    ["_foo 'alias'", ['word:_foo', 'string:alias']],
    ['`we``ird` `a b`', ['qident:we`ird', 'qident:a b']],
    ["X'4F' x'ff' 0x1F B'101' 0b11", ['hex:4F', 'hex:ff', 'hex:1F', 'bit:101', 'bit:11']],
    ['0xzz 1abc 12', ['word:0xzz', 'word:1abc', 'number:12']],
    ['1.5 .5 1e10 2.5E-3 3e', ['number:1.5', 'number:.5', 'number:1e10', 'number:2.5E-3', 'word:3e']],
    ['t.col t.1x', ['word:t', 'op:.', 'word:col', 'word:t', 'op:.', 'word:1x']],
    ['a = ? AND b = %s AND c = %(name)s', ['word:a', 'op:=', 'param:?', 'word:AND', 'word:b', 'op:=', 'param:%s', 'word:AND', 'word:c', 'op:=', 'param:%(name)s']],
    ['a % b', ['word:a', 'op:%', 'word:b']],
    ['@x @`y` @@session.sql_mode @@SQL_MODE', ['var:x', 'var:y', 'sysvar:session.sql_mode', 'sysvar:sql_mode']],
    ['a<=>b a<=b a<>b a!=b a:=1 a->>"$.x" a||b a&&b a<<1', [
      'word:a', 'op:<=>', 'word:b', 'word:a', 'op:<=', 'word:b', 'word:a', 'op:<>', 'word:b', 'word:a', 'op:!=', 'word:b',
      'word:a', 'op::=', 'number:1', 'word:a', 'op:->>', 'string:$.x', 'word:a', 'op:||', 'word:b', 'word:a', 'op:&&', 'word:b',
      'word:a', 'op:<<', 'number:1',
    ]],
    ['SELECT 1 -- comment\n, 2 # another\n, 3 /* block */ , 4', ['word:SELECT', 'number:1', 'op:,', 'number:2', 'op:,', 'number:3', 'op:,', 'number:4']],
    ['SELECT 1--1', ['word:SELECT', 'number:1', 'op:-', 'op:-', 'number:1']],
    ['SELECT 1 --', ['word:SELECT', 'number:1']],
    ['SELECT /*! STRAIGHT_JOIN */ a /*!50100 , b */ /*M!100100 , c */', ['word:SELECT', 'word:STRAIGHT_JOIN', 'word:a', 'op:,', 'word:b', 'op:,', 'word:c']],
    ['SELECT /*+ MAX_EXECUTION_TIME(1) */ a', ['word:SELECT', 'word:a']],
    ["SELECT '-- not a comment', '/* nor */'", ['word:SELECT', 'string:-- not a comment', 'op:,', 'string:/* nor */']],
    ['SELECT héllo, ünï', ['word:SELECT', 'word:héllo', 'op:,', 'word:ünï']],
    ['', []],
  ]
  for (const [sql, want] of table) {
    const r = tokenize(sql)
    t.equal(r.error, null, `no error: ${JSON.stringify(sql)}`)
    t.same(brief(r.tokens), want, JSON.stringify(sql))
  }
  const pos = tokenize("SELECT 'abc' FROM t").tokens[1]!
  t.same([pos.start, pos.end], [7, 12], 'positions are offsets into the text')
})

t.test('NO_BACKSLASH_ESCAPES', async (t) => {
  t.same(brief(tokenize("'a\\' , 'b'", { noBackslashEscapes: true }).tokens), ['string:a\\', 'op:,', 'string:b'])
  t.same(brief(tokenize("'a\\' , 'b'").tokens), ["string:a' , "], 'with escapes the quote is escaped, then b … is outside')
})

t.test('lexical errors', async (t) => {
  t.match(tokenize("SELECT 'abc").error, { reason: 'unterminated string', at: 7 })
  t.match(tokenize('SELECT `abc').error, { reason: 'unterminated quoted identifier' })
  t.match(tokenize('SELECT 1 /* x').error, { reason: 'unterminated comment' })
  t.match(tokenize("SELECT X'ab").error, { reason: 'unterminated string' })
})

const dg = (sql: string): Digest => {
  const r = digest(sql)
  if (!r.ok) throw new Error(r.reason)
  return r.digest
}

t.test('digest: literals become slots, IN lists collapse', async (t) => {
  const a = dg("SELECT * FROM instances WHERE uuid IN ('a', 'b', 'c') AND deleted = 0 LIMIT 10")
  const b = dg("select * from instances where uuid in ('x') and deleted = 5 limit 1;")
  t.equal(a.text, 'SELECT * FROM INSTANCES WHERE UUID IN ( ?,... ) AND DELETED = ? LIMIT ?')
  t.equal(a.text, b.text, 'same shape, same digest (case, list length, values, trailing ;)')
  t.same(a.slots.map((s) => (s.kind === 'list' ? s.items.map((i) => i.value) : s.value)), [['a', 'b', 'c'], '0', '10'])
  t.same(b.slots.map((s) => (s.kind === 'list' ? s.items.map((i) => i.value) : s.value)), [['x'], '5', '1'], 'slot numbers stable across list lengths')
  t.not(dg('SELECT * FROM t WHERE a IN (NULL) AND (1 != 1)').text, dg("SELECT * FROM t WHERE a IN ('x')").text, 'empty IN keeps its own digest')
  t.equal(dg("SELECT a FROM t WHERE b = 'x' /* c */").text, dg('SELECT a FROM t WHERE b = 42 -- d').text, 'comments and literal kinds do not matter')
  t.not(dg('SELECT a FROM t WHERE b = 1').text, dg('SELECT a FROM t WHERE c = 1').text)
  t.equal(dg('INSERT INTO t (a) VALUES (1), (2)').text, 'INSERT INTO T ( A ) VALUES ( ? ) , ( ? )', 'VALUES rows are not collapsed')
  t.not(dg('INSERT INTO t (a) VALUES (1), (2)').text, dg('INSERT INTO t (a) VALUES (1)').text)
  t.equal(dg("SELECT _utf8mb4'x' COLLATE utf8mb4_bin").text, 'SELECT ? COLLATE UTF8MB4_BIN')
  t.equal(dg('SELECT a FROM t WHERE b IN (1, c)').text, 'SELECT A FROM T WHERE B IN ( ? , C )', 'a list with a column is not collapsed')
  const lit = dg("SELECT 'it''s'").slots[0]!
  t.same(lit, { kind: 'string', value: "it's", start: 7, end: 14 }, 'decoded value and source range')
  t.same(digest("SELECT 'x"), { ok: false, reason: 'unterminated string', at: 7 })
})

t.test('upper case of words when a character grows in upper case', async (t) => {
  // 'ß' upper-cases to 'SS': the words after it must keep their own offsets and upper case.
  const { tokens } = tokenize("SELECT straße, uuid FROM t WHERE x = 'a'")
  const words = tokens.filter((x) => x.kind === 'word').map((x) => [x.text, x.upper, x.start])
  t.same(words, [['SELECT', 'SELECT', 0], ['straße', 'STRASSE', 7], ['uuid', 'UUID', 15], ['FROM', 'FROM', 20], ['t', 'T', 25], ['WHERE', 'WHERE', 27], ['x', 'X', 33]])
  const plain = tokenize('select Uuid from Instances')
  t.same(plain.tokens.map((x) => x.upper), ['SELECT', 'UUID', 'FROM', 'INSTANCES'])
})
