// Traces of real oslo.messaging traffic through cellgate, sampled at 1 and caught by an in-memory
// exporter: the span tree of one call (caller → cellgate → shard → server → reply → caller), and a
// client-supplied W3C traceparent continued through cellgate to the consumer.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import amqplib from 'amqplib'
import { SpanKind } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { rabbitmqctl, uniqueName } from '../helpers/env.js'
import { RABBIT_URL } from '../helpers/cellgate.js'
import { runPy, startPy } from '../helpers/python.js'
import { childrenOf, startOtelCellgate, telemetryConfig } from '../helpers/otel-cellgate.js'

const topic = uniqueName('otel')
const host = `${topic}-h1`
// Two cells: the server's host is mapped to cell2 (a vhost of its own), the caller belongs to no
// cell, so the call crosses cells: request to cell2, reply queue in cell1.
const vhost2 = `${topic}-cell2`
for (const args of [['add_vhost', vhost2], ['set_permissions', '-p', vhost2, 'guest', '.*', '.*', '.*']]) {
  const r = await rabbitmqctl(args)
  if (r.code !== 0) throw new Error(`rabbitmqctl ${args[0]}: ${r.stderr}`)
}
t.teardown(async () => {
  await rabbitmqctl(['delete_vhost', vhost2])
})
const cg = await startOtelCellgate({
  telemetry: telemetryConfig({ tracing: { sampleRatio: 1 } }),
  cells: [
    { name: 'cell1', rabbit: RABBIT_URL, disabled: false },
    { name: 'cell2', rabbit: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost2)}`, disabled: false },
  ],
  mapping: { hosts: { [host]: 'cell2' }, instances: {}, pollIntervalMs: 5000 },
})
t.teardown(() => cg.close())
const osloUrl = `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`

const KIND = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']

/** The tree under `root` as indented text (name, kind, cell), the form the closing note quotes. */
function render(spans: readonly ReadableSpan[], root: ReadableSpan, depth = 0): string {
  const a = root.attributes
  const ms = (root.duration[0] * 1e3 + root.duration[1] / 1e6).toFixed(3)
  const line = `${'  '.repeat(depth)}${root.name} [${KIND[root.kind]}] cell=${String(a['cellgate.cell'] ?? '-')}${a['cellgate.route.why'] !== undefined ? ` why="${String(a['cellgate.route.why'])}"` : ''} ${ms} ms`
  const kids = childrenOf(spans, root).sort((x, y) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1])
  return [line, ...kids.map((k) => render(spans, k, depth + 1))].join('\n')
}

t.test('the span tree of an oslo call through cellgate', async (t) => {
  const server = startPy(t, 'rpc_server.py', ['--url', osloUrl, '--topic', topic, '--server', host])
  await server.waitEvent('ready', undefined, 30_000)
  cg.spans.reset()
  const r = await runPy(t, 'rpc_client.py', ['--url', osloUrl, '--topic', topic, '--server', host, '--scenario', 'call', '--count', '1'], 60_000)
  t.equal(r.code, 0, 'the call succeeded', { diag: r.proc.diagnostics() })
  // The request's receive span ends at its confirm, which may come after the reply: give it time.
  await sleep(500)
  const spans = cg.spans.getFinishedSpans()
  const calls = spans.filter((s) => s.name === `receive ${topic}` && s.attributes['cellgate.oslo.kind'] === 'server')
  t.equal(calls.length, 1, 'one call received from the client')
  const call = calls[0]!
  const traceId = call.spanContext().traceId
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId)
  t.comment(`span tree of one oslo call:\n${render(inTrace, call)}`)

  t.equal(call.parentSpanContext, undefined, 'oslo sends no traceparent: cellgate starts the trace')
  t.equal(call.kind, SpanKind.CONSUMER)
  t.hasStrict(call.attributes, {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'receive',
    'messaging.destination.name': `openstack:${topic}.${host}`,
    'messaging.rabbitmq.destination.routing_key': `${topic}.${host}`,
    'cellgate.cell': 'cell2',
    'cellgate.route.outcome': 'routed',
    'cellgate.oslo.topic': topic,
  })
  t.type(call.attributes['messaging.message.body.size'], 'number')
  t.match(call.attributes['messaging.message.conversation_id'], /^[0-9a-f]{32}$/, 'the call is correlated by its _msg_id')
  t.ok(String(call.attributes['cellgate.route.why']).length > 0, 'why the router chose the cell')
  const msgId = call.attributes['messaging.message.conversation_id']

  const kids = childrenOf(inTrace, call)
  const byName = (list: readonly ReadableSpan[], name: string): ReadableSpan[] => list.filter((s) => s.name === name)
  t.equal(byName(kids, `route ${topic}`).length, 1, 'a route span under the receive span')
  t.equal(byName(kids, `route ${topic}`)[0]?.kind, SpanKind.INTERNAL)
  const send = byName(kids, `send ${topic}`)
  t.equal(send.length, 1, 'one send span (one cell)')
  t.equal(send[0]?.kind, SpanKind.PRODUCER)
  t.hasStrict(send[0]?.attributes, { 'cellgate.cell': 'cell2', 'messaging.operation.type': 'send' })
  const deliver = byName(kids, `deliver ${topic}`)
  t.equal(deliver.length, 1, 'the delivery to the server continues the message context')
  const d = deliver[0]!
  t.equal(d.kind, SpanKind.CONSUMER)
  t.same(d.links.map((l) => l.context.spanId), [call.spanContext().spanId], 'the delivery links to the message context')
  t.hasStrict(d.attributes, { 'cellgate.cell': 'cell2', 'messaging.operation.type': 'process', 'messaging.message.conversation_id': msgId })

  const replies = byName(childrenOf(inTrace, d), 'receive reply')
  t.equal(replies.length, 1, "the server's reply continues the trace under the request's delivery (matched by _msg_id)")
  const reply = replies[0]!
  t.hasStrict(reply.attributes, { 'messaging.destination.temporary': true, 'messaging.message.conversation_id': msgId, 'cellgate.oslo.kind': 'reply' })
  t.notMatch(reply.name, /reply_/, 'no reply queue name in span names')
  const replyKids = childrenOf(inTrace, reply)
  t.same(replyKids.map((s) => s.name).sort(), ['deliver reply', 'route reply', 'send reply'], 'the reply is routed, sent upstream and delivered to the caller')
  t.equal(reply.attributes['cellgate.cell'], 'cell1', "the reply goes to the caller's reply queue, in cell1")
  t.equal(replyKids.find((s) => s.name === 'deliver reply')?.attributes['cellgate.cell'], 'cell1', 'and is delivered from there')
  t.equal(inTrace.length, 8, 'eight spans in the call trace')
  t.ok(call.ended && inTrace.every((s) => s.ended), 'all ended')
})

t.test('a client traceparent is continued; the consumer gets a traceparent of the same trace', async (t) => {
  const conn = await amqplib.connect(cg.url)
  t.teardown(() => conn.close())
  const ch = await conn.createConfirmChannel()
  const q = uniqueName('otel-tp')
  await ch.assertQueue(q, { autoDelete: true })
  const got = new Promise<amqplib.ConsumeMessage>((resolve) => {
    void ch.consume(q, (m) => m && resolve(m), { noAck: true })
  })
  cg.spans.reset()
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const clientSpan = '00f067aa0ba902b7'
  await new Promise<void>((resolve, reject) =>
    ch.publish('', q, Buffer.from('hello'), { headers: { traceparent: `00-${traceId}-${clientSpan}-01`, tracestate: 'vendor=x', other: 'kept' } }, (err) => (err ? reject(err as Error) : resolve())),
  )
  const msg = await got
  await sleep(200)
  const headers = msg.properties.headers as Record<string, unknown>
  t.match(headers['traceparent'], new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'delivered with a traceparent of the same trace')
  t.not(String(headers['traceparent']).split('-')[2], clientSpan, "cellgate's span, not the client's, is the parent now")
  t.equal(headers['tracestate'], 'vendor=x', 'tracestate carried')
  t.equal(headers['other'], 'kept', 'other headers untouched')
  const spans = cg.spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
  const receive = spans.find((s) => s.name.startsWith('receive '))
  t.equal(receive?.parentSpanContext?.spanId, clientSpan, "cellgate's receive span is a child of the client's span")
  t.equal(String(headers['traceparent']).split('-')[2], receive?.spanContext().spanId, 'the carried context is the receive span')
  t.same(spans.map((s) => s.name.split(' ')[0]).sort(), ['deliver', 'receive', 'route', 'send'], 'receive, route, send and deliver in the client trace')
})

t.test('an unsampled client traceparent passes untouched and records no span', async (t) => {
  const conn = await amqplib.connect(cg.url)
  t.teardown(() => conn.close())
  const ch = await conn.createConfirmChannel()
  const q = uniqueName('otel-ns')
  await ch.assertQueue(q, { autoDelete: true })
  const got = new Promise<amqplib.ConsumeMessage>((resolve) => {
    void ch.consume(q, (m) => m && resolve(m), { noAck: true })
  })
  cg.spans.reset()
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'
  await new Promise<void>((resolve, reject) => ch.publish('', q, Buffer.from('x'), { headers: { traceparent: tp } }, (err) => (err ? reject(err as Error) : resolve())))
  const msg = await got
  await sleep(100)
  t.equal((msg.properties.headers as Record<string, unknown>)['traceparent'], tp, 'the decision (not sampled) travels on')
  t.equal(cg.spans.getFinishedSpans().length, 0, 'no spans')
})
