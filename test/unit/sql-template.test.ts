// Statement templates (router/sql/template.ts) must give exactly the plan the full path gives:
// nova's captured statements and routing-heavy ones are re-sent with other literals (other lengths,
// escapes, IN lists of other sizes) and planned both through a warmed cache and with none; texts
// built to look like a template but lex differently must not take the template's plan.
import t from 'tap'
import { digest, type Digest } from '../../router/sql/digest.js'
import { PlanCache } from '../../router/sql/plan-cache.js'
import { planStatement, type Plan, type ShardMap } from '../../router/sql/plan.js'
import { novaShardSchema } from '../../router/sql/shard-schema.js'
import { analyze } from '../../router/sql/analyze.js'
import { makeTemplate, probeOf } from '../../router/sql/template.js'
import type { TokenizeOptions } from '../../router/sql/tokenize.js'
import { NOVA } from '../helpers/nova-sql.js'

const U1 = '11111111-1111-1111-1111-111111111111'
const U2 = '22222222-2222-2222-2222-222222222222'
const U3 = '33333333-3333-3333-3333-333333333333'
const placed: Record<string, string> = { [U1]: 's1', [U2]: 's2', [U3]: 's0' }
const map: ShardMap = {
  shards: [
    { id: 's0', offset: 1, enabled: true },
    { id: 's1', offset: 2, enabled: true },
    { id: 's2', offset: 3, enabled: true },
  ],
  increment: 3,
  instanceShard: (u) => placed[u],
  hostShard: (h) => (h === 'cmp1' ? 's0' : h === 'cmp2' ? 's1' : undefined),
}

const session = { writeShard: null, lastShard: null }
const planWith = (sql: string, cache: PlanCache | undefined, tokenize: TokenizeOptions = {}): Plan =>
  planStatement(sql, { schema: novaShardSchema, map, session, database: 'nova', tokenize, ...(cache ? { cache } : {}) })

/** Statements whose plans rewrite text at token positions (LIMIT, hidden columns, per-shard rows, sequences, database names). */
const ROUTING = [
  `SELECT id, uuid FROM instances WHERE uuid IN ('${U1}', '${U2}') ORDER BY created_at DESC, id LIMIT 5 OFFSET 10`,
  `SELECT host, count(*) AS n FROM instances WHERE deleted = 0 GROUP BY host ORDER BY host LIMIT 3`,
  `SELECT id FROM instances WHERE deleted = 0 ORDER BY vcpus DESC LIMIT 2`,
  `INSERT INTO instances (uuid, host, deleted) VALUES ('${U1}', 'cmp1', 0), ('${U2}', 'cmp2', 0)`,
  `INSERT INTO instance_extra (instance_uuid, flavor) VALUES ('${U1}', 'it''s "quoted" \\' text'), ('${U2}', NULL)`,
  `UPDATE instances SET vm_state = 'active', progress = 42 WHERE uuid = '${U2}' AND deleted = 0`,
  `DELETE FROM instance_metadata WHERE instance_uuid = '${U3}' AND \`key\` = "k1"`,
  `SELECT * FROM instances WHERE id = 7`,
  `SELECT * FROM instances WHERE uuid = %s AND deleted = %(deleted)s`,
  `SELECT * FROM instances WHERE uuid = ? AND deleted = ?`,
  `SELECT 1`,
  `INSERT INTO security_groups (name, description, deleted) VALUES ('default', 'default', 0)`,
  `ALTER DATABASE nova CHARACTER SET utf8mb3`,
  `SELECT id FROM instances /* a comment with 'quotes' and 12 */ WHERE uuid = '${U1}' -- trailing\n AND deleted = 0`,
  `SELECT id FROM instances WHERE host = 'cmp1' AND vcpus > 1.5e3 AND uuid IN ('${U3}') ;`,
]

/** A small deterministic generator: the fuzz must fail the same way every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function literal(r: () => number): string {
  const pick = Math.floor(r() * 9)
  switch (pick) {
    case 0: return `'${U1}'`
    case 1: return `'${U2}'`
    case 2: return `'${U3}'`
    case 3: return String(Math.floor(r() * 100000))
    case 4: return "'it''s'"
    case 5: return "'a\\'b \\\\ c'"
    case 6: return '"double"'
    case 7: return "''"
    default: return String(Math.floor(r() * 10))
  }
}

/** `sql` with every literal replaced: lists get 1 to 4 items, each with its own spacing. */
function variant(sql: string, d: Digest, r: () => number): string {
  let out = ''
  let at = 0
  for (const s of d.slots) {
    let text: string
    if (s.kind === 'list') {
      const n = 1 + Math.floor(r() * 4)
      text = Array.from({ length: n }, () => literal(r)).join(r() < 0.5 ? ', ' : ' ,  ')
    } else if (s.kind === 'param') text = s.value
    else text = literal(r)
    out += sql.slice(at, s.start) + text
    at = s.end
  }
  return out + sql.slice(at)
}

function digestOrFail(sql: string): Digest {
  const d = digest(sql)
  if (!d.ok) throw new Error(`${d.reason} in ${sql.slice(0, 80)}`)
  return d.digest
}

t.test('re-sent statements take the template path and get the full path plan', async (t) => {
  const corpus = [...Object.values(NOVA), ...ROUTING]
  const cache = new PlanCache(4096)
  for (const sql of corpus) planWith(sql, cache)
  t.ok(cache.templates >= corpus.length - 2, `templates made for the corpus (${cache.templates} of ${corpus.length})`)
  const r = rng(20261202)
  let compared = 0
  let mismatches = 0
  const hitsBefore = cache.hits
  const missesBefore = cache.misses
  for (const sql of corpus) {
    const d = digestOrFail(sql)
    for (let k = 0; k < 25; k++) {
      const v = variant(sql, d, r)
      const viaTemplate = planWith(v, cache)
      const full = planWith(v, undefined)
      compared++
      if (JSON.stringify(viaTemplate) !== JSON.stringify(full)) {
        mismatches++
        if (mismatches <= 3) t.same(viaTemplate, full, `same plan for ${v.slice(0, 160)}`)
      }
    }
  }
  t.equal(mismatches, 0, `${compared} variants: template plan equals full plan`)
  const hits = cache.hits - hitsBefore
  t.ok(hits >= compared * 0.9, `variants matched templates (${hits} hits, ${cache.misses - missesBefore} shape misses of ${compared})`)
})

t.test('texts that look like a template but lex differently get their own plan', async (t) => {
  const cases: Array<[string, string, TokenizeOptions?]> = [
    // An escaped quote makes the string swallow the rest: one literal, as the tokenizer reads it.
    [`SELECT id FROM instances WHERE uuid = '${U1}' AND deleted = 0`, `SELECT id FROM instances WHERE uuid = 'x\\' AND deleted = 0 OR uuid = \\'${U2}' AND deleted = 0`],
    // Without backslash escapes the same text ends the string early.
    [`SELECT id FROM instances WHERE uuid = '${U1}' OR uuid = 'zz'`, `SELECT id FROM instances WHERE uuid = 'x\\' OR uuid = '${U2}'`, { noBackslashEscapes: true }],
    [`SELECT id FROM instances WHERE uuid IN ('${U1}', '${U2}')`, `SELECT id FROM instances WHERE uuid IN ('${U1}', /* c */ '${U2}')`],
    [`SELECT id FROM instances WHERE id IN (1, 2)`, `SELECT id FROM instances WHERE id IN (1, 2abc)`],
    [`SELECT id FROM instances WHERE id = 5 AND deleted = 0`, `SELECT id FROM instances WHERE id = 0x1F AND deleted = 0`],
    [`SELECT id FROM instances WHERE id = 5 AND deleted = 0`, `SELECT id FROM instances WHERE id = 5e3 AND deleted = 0`],
    [`SELECT id FROM instances WHERE id = 5 AND deleted = 0`, `SELECT id FROM instances WHERE id = .5 AND deleted = 0`],
    [`SELECT id FROM instances WHERE uuid = '${U1}' AND deleted = 0`, `SELECT id FROM instances WHERE uuid = '${U1}' '${U2}' AND deleted = 0`],
    [`SELECT id FROM instances WHERE uuid = '${U1}' AND deleted = 0`, `SELECT id FROM instances WHERE uuid = N'${U2}' AND deleted = 0`],
    [`SELECT id FROM instances WHERE uuid = '${U1}' AND deleted = 0`, `SELECT id FROM instances WHERE uuid = '${U2}' AND deleted = 0 OR 1`],
    [`SELECT id FROM instances WHERE uuid = '${U1}'`, `SELECT id FROM instances WHERE uuid = '${U2}`],
  ]
  for (const [template, probe, opts] of cases) {
    const cache = new PlanCache(64)
    planWith(template, cache, opts)
    t.equal(cache.templates, 1, `a template for: ${template}`)
    t.same(planWith(probe, cache, opts), planWith(probe, undefined, opts), `full-path plan for: ${probe}`)
  }
})

t.test('statements that do not qualify make no template', async (t) => {
  const refused = [
    `SELECT id FROM instances WHERE display_name = 'a' 'b'`,
    `SELECT id FROM instances WHERE display_name = _utf8mb4'a'`,
    `SELECT id FROM instances WHERE id = 0x1F`,
    `SELECT id FROM instances WHERE id IN (1, /* two */ 2)`,
    `SELECT id FROM instances WHERE display_name = N'a'`,
    `SELECT id FROM instances WHERE id = .5`,
  ]
  for (const sql of refused) {
    const d = digestOrFail(sql)
    t.equal(makeTemplate(sql, d, analyze(d, novaShardSchema), true), null, `no template: ${sql}`)
    const cache = new PlanCache(64)
    t.same(planWith(sql, cache), planWith(sql, undefined), `still planned: ${sql}`)
  }
})

t.test('the probe is the text before the first possible literal, at most 64 characters', async (t) => {
  t.equal(probeOf(`SELECT id FROM instances WHERE id = 5`), 'SELECT id FROM instances WHERE id = ')
  t.equal(probeOf(`SELECT anon_1.x FROM t WHERE a = 'b'`), 'SELECT anon_1.x FROM t WHERE a = ')
  t.equal(probeOf(`SELECT ?`), 'SELECT ')
  t.equal(probeOf(NOVA.instanceGetByUuid).length, 64)
})

t.test('many templates with one probe: each statement finds its own, the group stays bounded', async (t) => {
  const cache = new PlanCache(4096)
  const shapes = Array.from({ length: 24 }, (_, i) => `SELECT id FROM instances WHERE deleted = 0 AND vcpus > 0 AND memory_mb > 0 AND c${i} = '${U1}'`)
  for (const s of shapes) planWith(s, cache)
  t.equal(cache.templates, 16, 'at most 16 templates per probe group')
  for (const s of shapes) {
    const v = s.replace(U1, U2)
    t.same(planWith(v, cache), planWith(v, undefined), `plan for ${v.slice(-20)}`)
  }
  cache.clear()
  t.equal(cache.templates, 0, 'clear() drops templates with the shapes')
})
