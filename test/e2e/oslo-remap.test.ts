// Live remap: a host moves from cell1 to cell2 (its line in the mapping file changes) while a
// caller keeps casting to it. Every cast the caller saw confirmed must reach the host; its queue
// must end up in cell2 only, and calls to it must work there.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestCellgate } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, queuesOn as queuesOnVhost, vhostUrl } from '../helpers/shard-vhosts.js'
import { runPy, startPy, type PyProc } from '../helpers/python.js'

const run = uniqueName('remap')
const CELLS = ['cell1', 'cell2'] as const
type CellName = (typeof CELLS)[number]
const vhostOf = (cell: CellName): string => `${run}-${cell}`
const topic = `${run}-compute`
const host = 'hostM'
const dir = mkdtempSync(join(tmpdir(), 'cellgate-remap-'))
const mappingFile = join(dir, 'mapping.yaml')
const writeMapping = (cell: CellName): void => writeFileSync(mappingFile, `hosts:\n  ${host}: ${cell}\n`)

const queuesOn = (cell: CellName): ReturnType<typeof queuesOnVhost> => queuesOnVhost(vhostOf(cell))

await createVhosts(t, CELLS.map(vhostOf))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

writeMapping('cell1')
const cg = await startTestCellgate({
  cells: CELLS.map((name) => ({ name, rabbit: vhostUrl(vhostOf(name)), disabled: false })),
  mapping: { hosts: {}, instances: {}, file: mappingFile, pollIntervalMs: 200 },
})
t.teardown(() => cg.close())
const osloUrl = `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`

const server: PyProc = startPy(t, 'rpc_server.py', ['--url', osloUrl, '--topic', topic, '--server', host])
await server.waitEvent('ready', undefined, 30_000)
t.teardown(() => server.stop())

t.test('before the move the host queue is in cell1', async (t) => {
  t.equal((await queuesOn('cell1')).get(`${topic}.${host}`)?.consumers, 1, 'in cell1 with its consumer')
  t.notOk((await queuesOn('cell2')).has(`${topic}.${host}`), 'not in cell2')
})

t.test('moving the host under traffic loses nothing confirmed', async (t) => {
  const prefix = `${run}-m`
  const caster = startPy(t, 'rpc_client.py', ['--url', osloUrl, '--topic', topic, '--server', host, '--scenario', 'cast-stream', '--duration', '6', '--interval', '0.02', '--tag-prefix', prefix])
  await sleep(2000)
  writeMapping('cell2')
  await cg.refreshMapping()
  t.comment('mapping changed: hostM -> cell2')
  const exit = await caster.done(60_000)
  t.equal(exit.code, 0, 'caster exit 0', { diag: caster.diagnostics() })
  const sent = caster.named('sent').map((e) => String(e.tag))
  t.ok(sent.length > 100, `casts sent and confirmed: ${sent.length}`)

  const got = (): string[] =>
    server.events
      .filter((e) => e.event === 'received' && e.method === 'record')
      .map((e) => String((e.args as { tag?: unknown } | undefined)?.tag))
      .filter((tag) => tag.startsWith(prefix))
  const deadline = Date.now() + 30_000
  while (new Set(got()).size < sent.length && Date.now() < deadline) await sleep(100)
  await sleep(1000)
  const received = got()
  const missing = sent.filter((tag) => !received.includes(tag))
  t.same(missing, [], 'every confirmed cast reached the host')
  const dups = received.length - new Set(received).size
  t.equal(dups, 0, 'no cast was delivered twice')
})

t.test('after the move the host queue is in cell2 only, and calls work', async (t) => {
  const deadline = Date.now() + 20_000
  while ((await queuesOn('cell1')).has(`${topic}.${host}`) && Date.now() < deadline) await sleep(250)
  t.notOk((await queuesOn('cell1')).has(`${topic}.${host}`), 'the drained queue was deleted from cell1')
  t.equal((await queuesOn('cell2')).get(`${topic}.${host}`)?.consumers, 1, 'in cell2 with its consumer')
  const r = await runPy(t, 'rpc_client.py', ['--url', osloUrl, '--topic', topic, '--server', host, '--scenario', 'whoami', '--count', '3'], 60_000)
  t.equal(r.code, 0, 'calls after the move succeed', { diag: r.proc.diagnostics() })
  t.same(r.proc.named('summary').at(-1)?.servers, { [host]: 3 })
})

t.end()
