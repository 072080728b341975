// A real OTLP/HTTP export: cellgate configured with tracing.exporter otlp-http and a metrics OTLP
// endpoint, both pointed at a receiver this test runs; spans and metrics must arrive there.
import t from 'tap'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import amqplib from 'amqplib'
import { uniqueName } from '../helpers/env.js'
import { startOtelCellgate, telemetryConfig } from '../helpers/otel-cellgate.js'

interface Post {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

const posts: Post[] = []
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    posts.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
    // An empty partial-success answer, as a collector gives.
    const json = String(req.headers['content-type']).includes('json')
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
    res.end(json ? '{}' : undefined)
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
const SERVICE = 'cellgate-otlp-test'

t.test('spans and metrics are pushed to the OTLP/HTTP receiver', async (t) => {
  const cg = await startOtelCellgate(
    {
      telemetry: {
        ...telemetryConfig({ tracing: { exporter: 'otlp-http', sampleRatio: 1, endpoint: `${base}/v1/traces` }, metrics: { otlpEndpoint: `${base}/v1/metrics`, otlpIntervalMs: 500 } }),
        serviceName: SERVICE,
      },
    },
    false,
  )
  let closed = false
  t.teardown(async () => {
    if (!closed) await cg.close()
  })
  const conn = await amqplib.connect(cg.url)
  const ch = await conn.createConfirmChannel()
  const q = uniqueName('otlp-q')
  await ch.assertQueue(q, { autoDelete: true })
  await new Promise<void>((res, rej) => ch.publish('', q, Buffer.from('traced'), {}, (err) => (err ? rej(err as Error) : res())))
  const msg = await new Promise<amqplib.ConsumeMessage>((resolve) => {
    void ch.consume(q, (m) => m && resolve(m), { noAck: true })
  })
  t.match((msg.properties.headers as Record<string, unknown>)['traceparent'], /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the message carried its trace context')
  const deadline = Date.now() + 5000
  while (!posts.some((p) => p.path === '/v1/metrics') && Date.now() < deadline) await sleep(50)
  t.ok(posts.some((p) => p.path === '/v1/metrics'), 'metrics pushed on the interval')
  await conn.close()
  // Closing flushes the batch span processor and the metric reader.
  await cg.close()
  closed = true

  const traces = posts.filter((p) => p.path === '/v1/traces')
  t.ok(traces.length >= 1, `at least one POST to /v1/traces (${traces.length})`)
  const all = Buffer.concat(traces.map((p) => p.body))
  t.ok(all.includes(SERVICE), 'the export names the service')
  for (const name of ['receive ', 'route ', 'send ', 'deliver ']) t.ok(all.includes(`${name}`), `a "${name.trim()}" span was exported`)
  t.ok(all.includes('cellgate.cell'), 'with cellgate attributes')
  const type = String(traces[0]?.headers['content-type'])
  t.match(type, /application\/(json|x-protobuf)/, `content type ${type}`)
  if (type.includes('json')) {
    const body = JSON.parse(traces[0]!.body.toString()) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> } }> }
    const svc = body.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name')
    t.equal(svc?.value.stringValue, SERVICE, 'service.name in the resource')
  }
  const metrics = Buffer.concat(posts.filter((p) => p.path === '/v1/metrics').map((p) => p.body))
  t.ok(metrics.includes('cellgate.messages') && metrics.includes('cellgate.publish.duration'), 'the hot-path metrics are in the OTLP export')
  t.ok(metrics.includes('cellgate.upstream.connections'), 'and the pool gauges')
})
