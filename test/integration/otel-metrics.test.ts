// /metrics after known traffic: N confirmed publishes and their N deliveries (amqplib), one
// mandatory publish returned by the broker, and K real oslo.messaging calls (round trips matched
// by _msg_id): every count in the scrape matches exactly.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import amqplib from 'amqplib'
import { uniqueName } from '../helpers/env.js'
import { runPy, startPy } from '../helpers/python.js'
import { parsePrometheus, sampleValue, startOtelCellgate, telemetryConfig, type Sample } from '../helpers/otel-cellgate.js'

const N = 7
const K = 3
const cg = await startOtelCellgate({ telemetry: telemetryConfig({ tracing: { exporter: 'none' } }) }, false)
t.teardown(() => cg.close())

async function scrape(): Promise<{ text: string; samples: Sample[]; type: string }> {
  const res = await fetch(`http://127.0.0.1:${cg.adminPort}/metrics`)
  t.equal(res.status, 200, '/metrics answers')
  const text = await res.text()
  return { text, samples: parsePrometheus(text), type: res.headers.get('content-type') ?? '' }
}

t.test('counts after known traffic match exactly', async (t) => {
  const q = uniqueName('otelm-q')
  const missing = uniqueName('otelm-none')
  const topic = uniqueName('otelm')
  const host = `${topic}-h`

  const pub = await amqplib.connect(cg.url)
  const sub = await amqplib.connect(cg.url)
  t.teardown(async () => {
    await pub.close().catch(() => {})
    await sub.close().catch(() => {})
  })
  const pch = await pub.createConfirmChannel()
  await pch.assertQueue(q, { autoDelete: false, durable: false })
  t.teardown(async () => {
    const c = await amqplib.connect(cg.url)
    const ch = await c.createChannel()
    await ch.deleteQueue(q)
    await c.close()
  })
  for (let i = 0; i < N; i++) await new Promise<void>((res, rej) => pch.publish('', q, Buffer.from(`m${i}`), {}, (err) => (err ? rej(err as Error) : res())))
  const returned = new Promise<void>((res) => pch.once('return', () => res()))
  await new Promise<void>((res, rej) => pch.publish('', missing, Buffer.from('nobody'), { mandatory: true }, (err) => (err ? rej(err as Error) : res())))
  await returned

  const sch = await sub.createChannel()
  let got = 0
  await sch.consume(q, (m) => {
    if (m) {
      got++
      sch.ack(m)
    }
  })
  const deadline = Date.now() + 10_000
  while (got < N && Date.now() < deadline) await sleep(20)
  t.equal(got, N, `${N} delivered`)

  const server = startPy(t, 'rpc_server.py', ['--url', `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`, '--topic', topic, '--server', host])
  await server.waitEvent('ready', undefined, 30_000)
  const r = await runPy(t, 'rpc_client.py', ['--url', `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`, '--topic', topic, '--server', host, '--scenario', 'call', '--count', String(K)], 60_000)
  t.equal(r.code, 0, `${K} oslo calls succeeded`, { diag: r.proc.diagnostics() })
  await server.stop()
  await sleep(300)

  const { samples, type, text } = await scrape()
  t.match(type, /^text\/plain; version=0\.0\.4/, 'Prometheus text exposition')
  const v = (name: string, labels: Record<string, string> = {}): number => sampleValue(samples, name, labels)
  t.equal(v('cellgate_messages_total', { cell: 'cell1', topic: q, outcome: 'routed' }), N, `${N} publishes routed to cell1`)
  t.equal(v('cellgate_deliveries_total', { cell: 'cell1', topic: q }), N, `${N} deliveries`)
  t.equal(v('cellgate_messages_total', { cell: 'cell1', topic: missing, outcome: 'routed' }), 1, 'the mandatory publish was routed')
  t.equal(v('cellgate_messages_total', { cell: 'cell1', topic: missing, outcome: 'returned' }), 1, 'and returned')
  t.equal(v('cellgate_publish_duration_count', { cell: 'cell1', kind: 'anycast' }), N + 1, 'every anycast publish has its confirm latency')

  t.equal(v('cellgate_messages_total', { cell: 'cell1', topic, outcome: 'routed' }), K, `${K} oslo calls routed (topic label without the host)`)
  t.equal(v('cellgate_messages_total', { cell: 'cell1', topic: 'reply', outcome: 'routed' }), K, `${K} replies routed`)
  t.equal(v('cellgate_deliveries_total', { cell: 'cell1', topic }), K, `${K} calls delivered to the server`)
  t.equal(v('cellgate_deliveries_total', { cell: 'cell1', topic: 'reply' }), K, `${K} replies delivered to the caller`)
  t.equal(v('cellgate_rpc_duration_count', { topic }), K, `${K} RPC round trips matched by _msg_id`)
  t.ok(v('cellgate_rpc_duration_sum', { topic }) > 0, 'with their time')
  t.equal(v('cellgate_rpc_duration_bucket', { topic, le: '+Inf' }), K, 'the +Inf bucket holds them all')
  t.equal(v('cellgate_publish_duration_count', { cell: 'cell1', kind: 'server' }), K, 'confirm latency of the calls')
  t.equal(v('cellgate_publish_duration_count', { cell: 'cell1', kind: 'reply' }), K, 'and of the replies')
  t.equal(v('cellgate_delivery_duration_count', { cell: 'cell1', kind: 'anycast' }), N)
  t.equal(v('cellgate_rpc_pending'), 0, 'no call left waiting')
  t.equal(v('cellgate_rpc_unmatched_total'), 0, 'none lost')
  t.equal(v('cellgate_telemetry_errors_total'), 0, 'no observer failure')
  t.notMatch(text, new RegExp(host), 'no host name in any label')
  t.notMatch(text, /reply_[0-9a-f]{8}/, 'no reply queue name in any label')

  t.equal(v('cellgate_client_connections'), cg.clientConnections(), 'client connections as the listener counts them')
  t.equal(v('cellgate_client_channels'), 2, 'one channel on each amqplib connection')
  t.equal(v('cellgate_upstream_connections', { cell: 'cell1' }), cg.upstreamConnections()['cell1'], 'broker connections per cell, from the pool')
  t.equal(v('cellgate_upstream_reachable', { cell: 'cell1' }), 1)
  t.equal(v('cellgate_upstream_reconnects_total', { cell: 'cell1' }), 0)
  t.equal(v('target_info', { service_name: 'cellgate-test' }), 1, 'the service name')
})

t.test('a second scrape is cumulative and closing a client is seen', async (t) => {
  const before = (await scrape()).samples
  const c = await amqplib.connect(cg.url)
  await c.createChannel()
  const during = (await scrape()).samples
  t.equal(sampleValue(during, 'cellgate_client_connections'), sampleValue(before, 'cellgate_client_connections') + 1, 'one more connection')
  await c.close()
  await sleep(100)
  const after = (await scrape()).samples
  t.equal(sampleValue(after, 'cellgate_client_connections'), sampleValue(before, 'cellgate_client_connections'), 'back after close')
  t.equal(sampleValue(after, 'cellgate_client_channels'), sampleValue(before, 'cellgate_client_channels'), 'channels too')
})
