// `cellgate parked list|replay` against real brokers: messages for a host of a disabled cell are
// parked by a running cellgate; list shows them without consuming; replay leaves them while the
// host has no cell or no queue in its new cell, and re-sends them (headers cleaned) once it has.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'amqplib'
import type { CellgateConfig } from '../../app/config-types.js'
import { startTestCellgate } from '../helpers/cellgate.js'
import { uniqueName } from '../helpers/env.js'
import { createVhosts, vhostUrl } from '../helpers/shard-vhosts.js'

const run = uniqueName('parked')
const names = ['c1', 'c2', 'c3', 'c0'] as const
const vhostOf = (c: string): string => `${run}-${c}`
const urlOf = (c: string): string => vhostUrl(vhostOf(c))
const dir = mkdtempSync(join(tmpdir(), 'cellgate-parked-'))
const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname
const exchange = `${run}-nova`
const rk = 'compute.hostD'

await createVhosts(t, names.map(vhostOf))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const configFor = (hostDCell: string): Pick<CellgateConfig, 'cells' | 'routing' | 'mapping'> => ({
  cells: names.map((name) => ({ name, rabbit: urlOf(name), disabled: name === 'c3' })),
  routing: { parkingCell: 'c0' },
  mapping: { hosts: { hostD: hostDCell }, instances: {}, pollIntervalMs: 5000 },
})
const writeConfig = (hostDCell: string): string => {
  const path = join(dir, `cellgate-${hostDCell}.json`)
  writeFileSync(path, JSON.stringify({ ...configFor(hostDCell), admin: { enabled: false } }))
  return path
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

const cg = await startTestCellgate(configFor('c3'))
t.teardown(() => cg.close())

t.test('messages for a host of a disabled cell are parked, listed, and replayed once it has a queue in a cell', async (t) => {
  const c = await connect(cg.url)
  t.teardown(() => c.close())
  const ch = await c.createConfirmChannel()
  await ch.assertExchange(exchange, 'topic', { durable: false })
  for (let i = 0; i < 3; i++) ch.publish(exchange, rk, Buffer.from(`m${i}`), { headers: { keep: 'me' } })
  await ch.waitForConfirms()

  const disabled = writeConfig('c3')
  const listed = await cli(['parked', 'list', '--config', disabled, '--json'])
  t.equal(listed.code, 0, 'list exit 0', { stderr: listed.stderr })
  const view = JSON.parse(listed.stdout) as { total: number; messages: Array<Record<string, unknown>> }
  t.equal(view.total, 3, 'three parked')
  t.hasStrict(view.messages[0], { host: 'hostD', reason: 'cell-disabled', mappedCell: 'c3', exchange, routingKey: rk })
  const text = await cli(['parked', 'list', '--config', disabled])
  t.match(text.stdout, /3 message\(s\) parked in cell c0/, 'the table says how many and where')

  const still = await cli(['parked', 'replay', '--config', disabled, '--json'])
  t.equal(still.code, 0)
  t.hasStrict(JSON.parse(still.stdout), { replayed: 0 }, 'nothing re-sent while the host has no working cell')

  const moved = writeConfig('c2')
  const noExchange = JSON.parse((await cli(['parked', 'replay', '--config', moved, '--json'])).stdout) as { replayed: number; left: Record<string, number> }
  t.equal(noExchange.replayed, 0, 'no exchange in the new cell: nothing re-sent')
  t.match(Object.keys(noExchange.left).join(' '), /shard refused: .*NOT_FOUND - no exchange/, 'and it says why')

  const c2 = await connect(urlOf('c2'))
  t.teardown(() => c2.close())
  const ch2 = await c2.createChannel()
  await ch2.assertExchange(exchange, 'topic', { durable: false })
  const noQueue = await cli(['parked', 'replay', '--config', moved, '--json'])
  t.hasStrict(JSON.parse(noQueue.stdout), { replayed: 0, left: { 'no queue for the host in its cell yet': 3 } }, 'unroutable in the new cell: stays parked')

  await ch2.assertQueue(rk, { durable: false })
  await ch2.bindQueue(rk, exchange, rk)
  const done = await cli(['parked', 'replay', '--config', moved, '--json'])
  t.hasStrict(JSON.parse(done.stdout), { replayed: 3 }, 'all three re-sent')
  const got: string[] = []
  for (;;) {
    const m = await ch2.get(rk, { noAck: true })
    if (m === false) break
    got.push(m.content.toString())
    t.same(m.properties.headers, { keep: 'me' }, 'original headers kept, parking headers removed')
  }
  t.same(got, ['m0', 'm1', 'm2'], 'in their order, in the host\'s new cell')
  const after = await cli(['parked', 'list', '--config', moved, '--json'])
  t.equal((JSON.parse(after.stdout) as { total: number }).total, 0, 'the parking queue is empty')
})

t.test('bad command lines and configurations', async (t) => {
  const r = await cli(['parked'])
  t.equal(r.code, 2)
  t.match(r.stderr, /parked needs an action: list or replay/)
  const noParking = join(dir, 'no-parking.json')
  writeFileSync(noParking, JSON.stringify({ cells: [{ name: 'c1', rabbit: urlOf('c1') }] }))
  const r2 = await cli(['parked', 'list', '--config', noParking])
  t.equal(r2.code, 2)
  t.match(r2.stderr, /no routing\.parkingCell/)
})

t.end()
