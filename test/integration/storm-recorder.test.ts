// The storm recorder's round trip: a short oslo-shaped storm (the replayer's simulated nova
// processes) through an in-process cellgate with recording on; the recorded trace validates
// against schemas/storm-trace.schema.json, holds what was sent (sizes, replies joined to their
// calls, heartbeats of the long call, no payload), and replays through cellgate with nothing lost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defaultConfig } from '../../app/config-defaults.js'
import { startTestCellgate } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'
import { stormHostCells } from '../../bench/storm-cells.js'
import { generateNovaTrace } from '../../bench/storm-nova.js'
import { StormReplay } from '../../bench/storm-run.js'
import { hostsOf, loadTrace, validateTrace, type StormTrace } from '../../bench/storm-trace.js'

const cells = 2

async function cellgateOver(t: { teardown(fn: () => unknown): void }, vhosts: string[], trace: StormTrace, recorder?: { file: string }) {
  const cg = await startTestCellgate({
    cells: vhosts.map((v, k) => ({ name: `cell${k + 1}`, rabbit: vhostUrl(v), disabled: false })),
    mapping: { ...defaultConfig().mapping, hosts: stormHostCells(trace, cells, cells) },
    admin: { enabled: false, host: '127.0.0.1', port: 0 },
    ...(recorder ? { recorder: { ...defaultConfig().recorder, enabled: true, file: recorder.file } } : {}),
  })
  t.teardown(() => cg.close())
  return cg
}

async function replay(url: string, trace: StormTrace) {
  const r = new StormReplay(trace, { url, conductors: cells, sendPool: [1, 2], callTimeoutMs: 30_000, drainMs: 15_000, openConcurrency: 8 })
  try {
    await r.start()
    await r.run()
    return r.result()
  } finally {
    await r.close()
  }
}

t.test('a recorded storm validates, keeps sizes not payloads, and replays with zero loss', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cgt-recorder-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'recorded.json')
  const nodes = 12
  const source = validateTrace(generateNovaTrace({ nodes, seconds: 8, seed: 5, opsPerNodePerSec: 0.08 }))
  // The recording has no herd (the recorder does not detect one yet): keep the source herd-free too,
  // so the counts compare one to one.
  source.events = source.events.filter((e) => e.kind !== 'reconnect-herd')
  const base = uniqueName('storm-rec')
  const vhosts = Array.from({ length: cells }, (_, k) => `${base}-cell${k + 1}`)
  await createVhosts(t, vhosts)

  const recording = await cellgateOver(t, vhosts, source, { file })
  const sent = await replay(recording.url, source)
  await recording.close()
  t.comment(sent.kinds.map((k) => `${k.what} ${k.pattern}: ${k.delivered}/${k.expected} lost ${k.lost} timeouts ${k.timeouts}`).join('\n'))
  t.equal(sent.totals.lost, 0, 'the source storm lost nothing')

  const raw = readFileSync(file, 'utf8')
  const trace = loadTrace(file)
  t.pass('the recording validates against the schema')
  t.equal(trace.header.generator, 'cellgate-recorder/1')
  t.equal(trace.header.nodes, nodes, 'every node recognised as one node')
  t.same(new Set(hostsOf(trace.header)), new Set(hostsOf(source.header)), 'the nodes keep their host names')
  t.notOk(/"pad"|xxxxxxxx|_msg_id|oslo\.message/u.test(raw), 'no payload and no envelope in the file')
  t.ok(trace.events.every((e) => e.kind === 'reconnect-herd' || /^[0-9a-f]{64}$/u.test(e.sha256 ?? '')), 'every message carries its keyed hash')

  const count = (p: (e: StormTrace['events'][number]) => boolean): number => trace.events.filter(p).length
  const sentOf = (pattern: string): number => sent.kinds.filter((k) => k.pattern === pattern).reduce((a, k) => a + k.sent, 0)
  for (const pattern of ['call', 'cast', 'fanout', 'notification', 'long-call'] as const) {
    t.equal(count((e) => e.kind === pattern), sentOf(pattern), `${pattern}: as many recorded as sent (${sentOf(pattern)})`)
  }
  const calls = trace.events.filter((e) => e.kind === 'call')
  t.ok(calls.every((e) => e.kind === 'call' && e.replyBytes > 0 && e.serviceMs !== undefined), 'every call has its reply size and server time')
  const reports = calls.filter((e) => e.kind === 'call' && e.topic === 'conductor' && typeof e.from === 'number')
  t.ok(reports.length >= nodes, `nodes' conductor calls are from node indexes (${reports.length})`)
  const r0 = source.rules[0]!
  t.ok(reports.every((e) => e.kind === 'call' && e.bytes >= 1000 && e.bytes <= 40_000), `request sizes recorded as sent (report_state ${r0.bytes.min}-${r0.bytes.max})`)
  const casts = trace.events.filter((e) => e.kind === 'cast')
  t.ok(casts.length > 0 && casts.every((e) => e.kind === 'cast' && e.server !== undefined), 'casts to compute.<host> keep their server')
  const long = trace.events.find((e) => e.kind === 'long-call')
  t.ok(long?.kind === 'long-call' && long.from === 'conductor' && long.topic === 'scheduler' && long.monitorTimeoutMs >= 1500, 'the long call: conductor → scheduler with its monitor timeout')
  t.same(trace.header.topics.rpc, { conductor: 'conductor', compute: 'nodes', scheduler: 'scheduler' }, 'who serves which topic')

  const replaying = await cellgateOver(t, vhosts, trace)
  const again = await replay(replaying.url, trace)
  t.comment(again.kinds.map((k) => `${k.what} ${k.pattern}: ${k.delivered}/${k.expected} lost ${k.lost} timeouts ${k.timeouts}`).join('\n'))
  t.same(again.errors, [], 'no errors replaying the recording')
  t.same(again.totals, { ...again.totals, lost: 0, duplicated: 0, timeouts: 0, failed: 0, misrouted: 0 }, 'the recording replays with nothing lost, duplicated, timed out or misrouted')
  t.equal(again.totals.sent, trace.events.length, 'every recorded message replayed')
})
