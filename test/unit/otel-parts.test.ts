// Pure parts of adapters/otel: _msg_id/_reply_q found without JSON parsing, the bounded call
// table, destination labels without hosts, capped series, histogram buckets, the root draw
// agreeing with TraceIdRatioBased, and the hand-written semconv attribute names.
import t from 'tap'
import { ROOT_CONTEXT } from '@opentelemetry/api'
import { TraceIdRatioBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base'
import * as semconv from '@opentelemetry/semantic-conventions/incubating'
import { hasReplyQueue, msgIdOf, replyQueueOf } from '../../adapters/otel/oslo-ids.js'
import { RpcTracker } from '../../adapters/otel/rpc-tracker.js'
import { DestinationLabeler, TOPIC_OVERFLOW } from '../../adapters/otel/destination-labels.js'
import { Family, OVERFLOW } from '../../adapters/otel/series.js'
import { LatencyHistogram } from '../../adapters/otel/histogram.js'
import { RootSampling } from '../../adapters/otel/root-sampling.js'

const envelope = (inner: object): Buffer => Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }))

t.test('_msg_id and _reply_q from the double-encoded envelope', async (t) => {
  const call = envelope({ method: 'echo', args: { note: 'mentions _msg_id in a value', _msg_id: 'not-me' }, _msg_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', _reply_q: 'reply_0123abcd', _timeout: null, _unique_id: 'u' })
  t.equal(msgIdOf(call), 'a1b2c3d4e5f60718293a4b5c6d7e8f90', 'the key after args, not a value inside them')
  t.equal(replyQueueOf(call), 'reply_0123abcd')
  t.ok(hasReplyQueue(call))
  const reply = envelope({ result: { _msg_id: 'inner' }, failure: null, ending: true, _msg_id: 'ffee', _unique_id: 'v' })
  t.equal(msgIdOf(reply), 'ffee')
  t.notOk(hasReplyQueue(reply))
  t.equal(msgIdOf(Buffer.from(JSON.stringify({ method: 'x', _msg_id: 'plain10' }))), 'plain10', 'an un-enveloped 1.0 body')
  t.equal(msgIdOf(envelope({ _msg_id: null })), undefined, 'null is no id')
  t.equal(msgIdOf(Buffer.from('{"_msg_id": "abc')), undefined, 'a cut value is no id')
  t.equal(msgIdOf(Buffer.from('no ids here')), undefined)
})

t.test('the call table is bounded by size and age and knows reply queues', async (t) => {
  const rpc = new RpcTracker({ maxEntries: 3, maxAgeMs: 1000 })
  const at = (ms: number): bigint => BigInt(ms) * 1_000_000n
  for (let i = 0; i < 3; i++) rpc.started(`m${i}`, { startedAt: at(i), replyQueue: 'rq', topic: 't', trace: undefined })
  t.ok(rpc.isReplyQueue('rq'))
  rpc.started('m3', { startedAt: at(3), replyQueue: 'rq2', topic: 't', trace: undefined })
  t.equal(rpc.size, 3, 'the oldest went when full')
  t.equal(rpc.lost, 1)
  t.notOk(rpc.peek('m0'))
  rpc.started('m4', { startedAt: at(2500), replyQueue: 'rq2', topic: 't', trace: undefined })
  t.same([rpc.peek('m1'), rpc.peek('m2'), rpc.peek('m3')], [undefined, undefined, undefined], 'calls older than maxAge went')
  t.equal(rpc.lost, 4)
  t.notOk(rpc.isReplyQueue('rq'), 'no pending call names rq any more')
  t.equal(rpc.finish('m4')?.topic, 't')
  t.notOk(rpc.isReplyQueue('rq2'))
  t.equal(rpc.size, 0)
})

t.test('destination labels carry the topic, never the host; topics are capped', async (t) => {
  const l = new DestinationLabeler(undefined, 3)
  t.same(l.of('nova', 'compute.host-1'), { kind: 'server', topic: 'compute' })
  t.same(l.of('nova', 'compute'), { kind: 'anycast', topic: 'compute' })
  t.same(l.of('nova_fanout', ''), { kind: 'fanout', topic: 'nova' })
  t.same(l.of('', 'reply_abc123'), { kind: 'reply', topic: 'reply' })
  t.same(l.of('nova', 'notifications.info'), { kind: 'notification', topic: 'notifications' })
  t.same(l.of('amq.direct', 'x'), { kind: 'other', topic: '-' })
  t.equal(l.of('', 'q-one').topic, TOPIC_OVERFLOW, 'past 3 topics (compute, nova, notifications), the overflow value')
})

t.test('series are found without allocation and capped', async (t) => {
  const f = new Family(['a', 'b'], () => ({ n: 0 }), 2)
  f.get2('x', 'y').n++
  f.get2('x', 'y').n++
  f.get2('x', 'z').n++
  f.get2('w', 'v').n++
  f.get2('q', 'r').n++
  t.same(f.series.map((s) => [s.labels, s.value.n]), [[['x', 'y'], 2], [['x', 'z'], 1], [[OVERFLOW, OVERFLOW], 2]])
})

t.test('histogram buckets are cumulative-ready counts per bound', async (t) => {
  const h = new LatencyHistogram([0.001, 0.01])
  for (const v of [0.0005, 0.001, 0.002, 5]) h.record(v)
  t.same(h.snapshot(), { buckets: { boundaries: [0.001, 0.01], counts: [2, 1, 1] }, sum: 5.0035, count: 4, min: 0.0005, max: 5 })
})

t.test('the root draw agrees with TraceIdRatioBased on the trace id it hands over', async (t) => {
  for (const p of [0, 0.01, 0.3, 1]) {
    const r = new RootSampling(p)
    const sampler = new TraceIdRatioBasedSampler(p)
    let yes = 0
    const n = 20_000
    for (let i = 0; i < n; i++) {
      if (!r.drawRoot()) continue
      yes++
      const id = r.generateTraceId()
      if (sampler.shouldSample(ROOT_CONTEXT, id).decision !== SamplingDecision.RECORD_AND_SAMPLED) {
        t.fail(`p=${p}: the SDK would not sample ${id}`)
        break
      }
    }
    const expected = p * n
    t.ok(Math.abs(yes - expected) <= Math.max(5, 5 * Math.sqrt(expected)), `p=${p}: ${yes} of ${n} sampled (expected about ${expected})`)
    t.match(r.generateTraceId(), /^[0-9a-f]{32}$/, 'unprimed: a random id')
  }
})

t.test('hand-written attribute names are the semantic conventions', async (t) => {
  t.same(
    [
      semconv.ATTR_MESSAGING_SYSTEM,
      semconv.ATTR_MESSAGING_OPERATION_TYPE,
      semconv.ATTR_MESSAGING_OPERATION_NAME,
      semconv.ATTR_MESSAGING_DESTINATION_NAME,
      semconv.ATTR_MESSAGING_MESSAGE_BODY_SIZE,
      semconv.ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
      semconv.ATTR_MESSAGING_DESTINATION_TEMPORARY,
      semconv.ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
      semconv.ATTR_MESSAGING_CONSUMER_GROUP_NAME,
      semconv.MESSAGING_SYSTEM_VALUE_RABBITMQ,
      semconv.MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
      semconv.MESSAGING_OPERATION_TYPE_VALUE_SEND,
      semconv.MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
    ],
    [
      'messaging.system',
      'messaging.operation.type',
      'messaging.operation.name',
      'messaging.destination.name',
      'messaging.message.body.size',
      'messaging.rabbitmq.destination.routing_key',
      'messaging.destination.temporary',
      'messaging.message.conversation_id',
      'messaging.consumer.group.name',
      'rabbitmq',
      'receive',
      'send',
      'process',
    ],
  )
})
