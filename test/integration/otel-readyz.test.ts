// Readiness follows the shards: a cell whose vhost is deleted (the broker closes cellgate's
// connections and refuses new ones) makes /readyz answer 503 and its reachable gauge 0; once the
// vhost is back, the pool reconnects by itself and both recover, with the reconnect counted.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { RABBIT_URL } from '../helpers/cellgate.js'
import { rabbitmqctl, uniqueName } from '../helpers/env.js'
import { parsePrometheus, sampleValue, startOtelCellgate } from '../helpers/otel-cellgate.js'

const vhost = uniqueName('otel-ready')

async function addVhost(): Promise<void> {
  for (const args of [['add_vhost', vhost], ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']]) {
    const r = await rabbitmqctl(args)
    if (r.code !== 0) throw new Error(`rabbitmqctl ${args[0]}: ${r.stderr}`)
  }
}

await addVhost()
t.teardown(async () => {
  await rabbitmqctl(['delete_vhost', vhost])
})
const cg = await startOtelCellgate(
  {
    cells: [
      { name: 'cell1', rabbit: RABBIT_URL, disabled: false },
      { name: 'cell2', rabbit: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`, disabled: false },
    ],
  },
  false,
)
t.teardown(() => cg.close())

async function ready(): Promise<{ status: number; body: { ready: boolean; unreachable: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${cg.adminPort}/readyz`)
  return { status: res.status, body: (await res.json()) as { ready: boolean; unreachable: string[] } }
}

async function gauge(name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${cg.adminPort}/metrics`)
  return sampleValue(parsePrometheus(await res.text()), name, { cell: 'cell2' })
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('/readyz goes 503 when a shard goes away and 200 when it is back', async (t) => {
  await until('both cells connected', async () => (await ready()).status === 200)
  t.equal((await ready()).status, 200, 'ready with both cells')
  t.equal(await gauge('cellgate_upstream_reachable'), 1, 'cell2 reachable')
  t.ok((await gauge('cellgate_upstream_connections')) >= 1, 'cell2 has a broker connection')

  const del = await rabbitmqctl(['delete_vhost', vhost])
  t.equal(del.code, 0, 'cell2 vhost deleted')
  await until('readyz 503', async () => (await ready()).status === 503)
  const down = await ready()
  t.equal(down.status, 503, 'not ready')
  t.same(down.body.unreachable, ['cell2'], 'cell2 is the unreachable one')
  t.equal(await gauge('cellgate_upstream_reachable'), 0, 'its gauge says so')
  t.equal(await gauge('cellgate_upstream_connections'), 0, 'no broker connection to it')

  await addVhost()
  await until('readyz 200 again', async () => (await ready()).status === 200)
  t.equal((await ready()).status, 200, 'ready again')
  t.equal(await gauge('cellgate_upstream_reachable'), 1, 'reachable again')
  t.ok((await gauge('cellgate_upstream_reconnects_total')) >= 1, 'the reconnect is counted')
})
