// The storm bench's trace format and a short replay: generated traces validate against
// schemas/storm-trace.schema.json for several sizes and seeds, broken traces are refused with the
// field named, and 50 simulated nodes replay 10 s of storm through cellgate (three cells as vhosts)
// with nothing lost, nothing duplicated and every call answered.
import t from 'tap'
import { defaultConfig } from '../../app/config-defaults.js'
import { startTestCellgate } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'
import { stormHostCells } from '../../bench/storm-cells.js'
import { generateNovaTrace } from '../../bench/storm-nova.js'
import { StormReplay } from '../../bench/storm-run.js'
import { expandTrace } from '../../bench/storm-schedule.js'
import { TraceError, validateTrace, type StormTrace } from '../../bench/storm-trace.js'

t.test('generated traces validate, are deterministic and compact', async (t) => {
  for (const [nodes, seconds, seed] of [[1, 5, 0], [50, 10, 7], [200, 30, 42], [2000, 60, 4294967295]] as const) {
    const trace = generateNovaTrace({ nodes, seconds, seed })
    t.doesNotThrow(() => validateTrace(JSON.parse(JSON.stringify(trace))), `${nodes} nodes, ${seconds} s, seed ${seed}`)
    const again = generateNovaTrace({ nodes, seconds, seed })
    t.same(again.events, trace.events, 'same seed, same events')
    t.same(expandTrace(again), expandTrace(trace), 'same seed, same expansion')
    const kinds = new Set(trace.events.map((e) => e.kind))
    t.ok(kinds.has('reconnect-herd') && kinds.has('long-call'), 'one herd and one long call')
    const reports = expandTrace(trace).filter((f) => f.type === 'rule' && trace.rules[f.rule]!.what === 'report_state').length
    t.ok(Math.abs(reports - nodes * (seconds / 10)) <= nodes, `report_state every 10 s per node (${reports})`)
  }
  const big = JSON.stringify(generateNovaTrace({ nodes: 10_000, seconds: 60, seed: 1 }))
  t.ok(big.length < 4 << 20, `10 000 nodes, 60 s: ${(big.length / 1048576).toFixed(1)} MiB`)
  t.not(JSON.stringify(generateNovaTrace({ nodes: 50, seconds: 10, seed: 8 }).events), JSON.stringify(generateNovaTrace({ nodes: 50, seconds: 10, seed: 7 }).events), 'another seed, another storm')
})

t.test('invalid traces are refused with the field named', async (t) => {
  const base = (): StormTrace => JSON.parse(JSON.stringify(generateNovaTrace({ nodes: 5, seconds: 10, seed: 3, opsPerNodePerSec: 0.2 }))) as StormTrace
  const firstOf = (kind: string): number => base().events.findIndex((e) => e.kind === kind)
  const cast = firstOf('cast')
  const long = firstOf('long-call')
  const cases: [string, (tr: Record<string, unknown> & StormTrace) => void, string][] = [
    ['unknown header key', (tr) => Object.assign(tr.header, { nodez: 3 }), '/header/nodez'],
    ['missing seed', (tr) => delete (tr.header as Partial<StormTrace['header']>).seed, '/header/seed'],
    ['nodes not an integer', (tr) => Object.assign(tr.header, { nodes: 2.5 }), '/header/nodes'],
    ['a payload is never stored', (tr) => Object.assign(tr.events[0]!, { payload: 'secret' }), '/events/0/payload'],
    ['negative size', (tr) => Object.assign(tr.events[cast]!, { bytes: -1 }), `/events/${cast}/bytes`],
    ['unknown event kind', (tr) => Object.assign(tr.events[0]!, { kind: 'teleport' }), '/events/0/kind'],
    ['server out of range', (tr) => Object.assign(tr.events[cast]!, { server: 5 }), `/events/${cast}/server`],
    ['events out of order', (tr) => Object.assign(tr.events[1]!, { at: 0 }) && Object.assign(tr.events[0]!, { at: 5 }), '/events/1/at'],
    ['rule size range upside down', (tr) => Object.assign(tr.rules[0]!, { bytes: { min: 10, max: 5 } }), '/rules/0/bytes'],
    ['bad sha256', (tr) => Object.assign(tr.events[0]!, { sha256: 'abc' }), '/events/0/sha256'],
    ['long call without monitor', (tr) => delete (tr.events[long] as Partial<{ monitorTimeoutMs: number }>).monitorTimeoutMs, `/events/${long}/monitorTimeoutMs`],
    ['topic nobody serves', (tr) => Object.assign(tr.rules[0]!, { topic: 'nobody' }), '/rules/0/topic'],
    ['unknown top-level key', (tr) => Object.assign(tr, { extra: true }), '/extra'],
  ]
  for (const [name, spoil, field] of cases) {
    const tr = base() as Record<string, unknown> & StormTrace
    spoil(tr)
    try {
      validateTrace(tr)
      t.fail(`${name}: accepted`)
    } catch (err) {
      t.ok(err instanceof TraceError, `${name}: TraceError`)
      t.equal((err as TraceError).field, field, `${name}: names ${field} (${(err as Error).message})`)
    }
  }
})

t.test('a short replay through cellgate loses and duplicates nothing, every call answered', async (t) => {
  const nodes = 50
  const cells = 3
  // More instance operations than the default so casts, fanouts and notifications all occur in 10 s.
  const trace = validateTrace(generateNovaTrace({ nodes, seconds: 10, seed: 11, opsPerNodePerSec: 0.05 }))
  const base = uniqueName('storm')
  const vhosts = Array.from({ length: cells }, (_, k) => `${base}-cell${k + 1}`)
  await createVhosts(t, vhosts)
  const cg = await startTestCellgate({
    cells: vhosts.map((v, k) => ({ name: `cell${k + 1}`, rabbit: vhostUrl(v), disabled: false })),
    mapping: { ...defaultConfig().mapping, hosts: stormHostCells(trace, cells, cells) },
    admin: { enabled: false, host: '127.0.0.1', port: 0 },
  })
  t.teardown(() => cg.close())
  const replay = new StormReplay(trace, { url: cg.url, conductors: cells, sendPool: [1, 2], callTimeoutMs: 30_000, drainMs: 15_000, openConcurrency: 8 })
  t.teardown(() => replay.close())
  await replay.start()
  await replay.run()
  const r = replay.result()
  // Clients go before cellgate (teardown order), so no close is seen as a drop.
  await replay.close()
  t.comment(`setup ${r.setupMs} ms, storm ${r.stormMs} ms, drain ${r.drainMs} ms, ${r.connectionsOpened} client connections`)
  t.comment(r.kinds.map((k) => `${k.what} ${k.pattern}: ${k.delivered}/${k.expected} p50 ${k.latencyMs.p50} p99 ${k.latencyMs.p99} ms`).join('\n'))
  t.same(r.errors, [], 'no errors')
  t.equal(r.connectionsDropped, 0, 'no connection dropped by cellgate')
  t.comment(JSON.stringify(r.totals))
  t.same(r.totals, { ...r.totals, lost: 0, duplicated: 0, timeouts: 0, failed: 0, misrouted: 0 }, 'nothing lost, duplicated, timed out, failed or misrouted')
  t.equal(r.totals.delivered, r.totals.expected, `every delivery made (${r.totals.delivered})`)
  t.equal(r.strays, 0, 'no stray deliveries')
  t.equal(r.returned, 0, 'no reply returned')
  const patterns = new Set(r.kinds.map((k) => k.pattern))
  for (const p of ['call', 'cast', 'fanout', 'notification', 'long-call', 'reconnect-herd'] as const) t.ok(patterns.has(p), `${p} replayed`)
  for (const k of r.kinds.filter((x) => x.pattern === 'call' || x.pattern === 'long-call')) t.equal(k.delivered, k.sent, `${k.what}: all ${k.sent} calls answered`)
  const long = r.kinds.find((k) => k.pattern === 'long-call')!
  t.ok((long.heartbeats ?? 0) >= 3, `long call heartbeats (${long.heartbeats})`)
  t.equal(r.kinds.find((k) => k.pattern === 'reconnect-herd')?.sent, nodes, 'every node reconnected in the herd')
})
