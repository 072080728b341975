/**
 * The observer alone (adapters/otel), without sockets or a broker: the calls the AMQP front end
 * makes per message — publishReceived, routed, sentUpstream, settled (in windows of 256, as
 * confirms come back), deliverySent with the headers cellgate sent upstream — for oslo-shaped
 * messages: 1 KiB casts (the throughput bench's) and RPC calls with their replies. Each mode runs
 * in a fresh process per round (the JIT state of one mode must not help another); traces go by
 * OTLP/HTTP to bench/telemetry-sink.ts in a process of its own. CPU is this process's
 * (process.cpuUsage: every thread, so the exporter's work too), per message, as ratios to off.
 *
 *   npm run build && node dist/bench/telemetry-micro.js [--messages N] [--rounds N] [--modes LIST]
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { TelemetryConfig } from '../app/config-types.js'
import { silentLogger } from '../adapters/log/logger.js'
import type { DeliveryFacts, PublishFacts } from '../adapters/amqp091/observer-port.js'
import { classifyPublish } from '../router/amqp/oslo-destination.js'
import type { FieldTable } from '../adapters/amqp091/field-table.js'
import { createOtelObserver } from '../adapters/otel/otel-observer.js'
import { median } from './stats.js'
import { startSink } from './telemetry-sink-proc.js'

const SELF = fileURLToPath(import.meta.url)
const KEYS = ['off', 'metrics', 'trace0', 'trace1', 'trace100'] as const
type Key = (typeof KEYS)[number]
const RATIO: Record<Key, number | undefined> = { off: undefined, metrics: undefined, trace0: 0, trace1: 0.01, trace100: 1 }
const WINDOW = 256

interface ChildResult {
  readonly mode: Key
  readonly messages: number
  readonly cpuUs: number
  readonly wallMs: number
}

function castBody(seq: number): Buffer {
  const inner = JSON.stringify({ seq, event_type: 'compute.instance.update', priority: 'INFO', payload: 'p'.repeat(900) })
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner }))
}

function callBody(msgId: string, replyQ: string): Buffer {
  const inner = JSON.stringify({ method: 'echo', args: { n: 1 }, version: '1.0', _msg_id: msgId, _reply_q: replyQ, _timeout: null, _unique_id: randomBytes(16).toString('hex') })
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner }))
}

function replyBody(msgId: string): Buffer {
  const inner = JSON.stringify({ result: { echo: 1 }, failure: null, ending: true, _msg_id: msgId, _unique_id: randomBytes(16).toString('hex') })
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner }))
}

async function runChild(mode: Key, messages: number, endpoint: string): Promise<ChildResult> {
  const ratio = RATIO[mode]
  const cfg: TelemetryConfig = {
    serviceName: `micro-${mode}`,
    tracing: ratio === undefined ? { exporter: 'none', sampleRatio: 0 } : { exporter: 'otlp-http', sampleRatio: ratio, endpoint },
    metrics: { prometheus: true, otlpIntervalMs: 15_000 },
  }
  const memo = new Map<string, ReturnType<typeof classifyPublish>>()
  const telemetry = createOtelObserver(cfg, {
    pools: new Map(),
    classify: (x, rk) => {
      const k = `${x}\0${rk}`
      let d = memo.get(k)
      if (d === undefined) memo.set(k, (d = classifyPublish(x, rk)))
      return d
    },
    log: silentLogger,
    disabled: mode === 'off',
  })
  const o = telemetry.observer
  const exchange = 'nova'
  const tpKey = 'cgmicro-tp'
  const casts = Array.from({ length: WINDOW }, (_, i) => castBody(i))
  const replyQ = `reply_${randomBytes(16).toString('hex')}`
  const emptyHeaders: FieldTable = {}
  // One message through the observer as the front end calls it; the delivery sees what went upstream.
  const pass = (ex: string, rk: string, body: Buffer, settle: (() => void)[], deliver: (() => void)[]): void => {
    const p: PublishFacts = { connection: 'c1', channel: 1, vhost: '/', exchange: ex, routingKey: rk, headers: emptyHeaders, body, receivedAt: process.hrtime.bigint() }
    const obs = o.publishReceived(p)
    const headers = obs?.headers ?? emptyHeaders
    obs?.routed(['cell1'], 'routed', 'anycast')
    obs?.sentUpstream('cell1')
    settle.push(() => obs?.settled(false))
    const d: DeliveryFacts = { connection: 'c2', channel: 1, cell: 'cell1', exchange: ex, routingKey: rk, consumerTag: '1', headers, body, redelivered: false, receivedAt: process.hrtime.bigint() }
    deliver.push(() => o.deliverySent(d))
  }
  const work = (n: number): void => {
    let done = 0
    while (done < n) {
      const settle: (() => void)[] = []
      const deliver: (() => void)[] = []
      // Per window: casts, and one RPC call and its reply per 16 casts.
      for (let i = 0; i < WINDOW && done < n; i++, done++) {
        if (i % 16 === 15) {
          const msgId = randomBytes(16).toString('hex')
          pass(exchange, 'compute', callBody(msgId, replyQ), settle, deliver)
          pass('', replyQ, replyBody(msgId), settle, deliver)
          done++
        } else pass(exchange, tpKey, casts[i]!, settle, deliver)
      }
      for (const f of settle) f()
      for (const f of deliver) f()
    }
  }
  work(Math.min(messages, 20_000)) // warm-up: JIT, series, first exports
  await telemetry.forceFlush()
  await new Promise((r) => setTimeout(r, 50))
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  // In slices, yielding to the event loop as a proxy does: the batch processor's timers and exports run in between.
  const slice = 2048
  for (let left = messages; left > 0; left -= slice) {
    work(Math.min(slice, left))
    await new Promise((r) => setImmediate(r))
  }
  await telemetry.forceFlush()
  const c = process.cpuUsage(c0)
  const wallMs = performance.now() - t0
  await telemetry.shutdown()
  return { mode, messages, cpuUs: c.user + c.system, wallMs }
}

interface Opts {
  messages: number
  rounds: number
  modes: Key[]
}

function parse(argv: readonly string[]): Opts {
  const o: Opts = { messages: 200_000, rounds: 5, modes: ['off', 'metrics', 'trace1', 'trace100'] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--messages' || a === '--rounds') {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a}: expected a positive integer`)
      if (a === '--messages') o.messages = v
      else o.rounds = v
    } else if (a === '--modes') {
      const ms = (argv[++i] ?? '').split(',')
      for (const m of ms) if (!(KEYS as readonly string[]).includes(m)) throw new Error(`--modes: unknown mode ${m} (${KEYS.join(', ')})`)
      o.modes = ['off', ...(ms as Key[]).filter((m) => m !== 'off')]
    } else throw new Error(`unknown option ${a}`)
  }
  return o
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv[0] === '--child') {
    const r = await runChild(argv[1] as Key, Number(argv[2]), argv[3]!)
    process.stdout.write(JSON.stringify(r) + '\n')
    return
  }
  const opts = parse(argv)
  const sink = await startSink(process.cwd())
  const per = new Map<Key, number[]>(opts.modes.map((m) => [m, []]))
  const ratios = new Map<Key, number[]>(opts.modes.map((m) => [m, []]))
  const sinkCpu0 = sink.cpuMs() ?? 0
  for (let round = 0; round < opts.rounds; round++) {
    const order = opts.modes.map((_, i) => opts.modes[(i + round) % opts.modes.length]!)
    const got = new Map<Key, number>()
    for (const m of order) {
      const out = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, [SELF, '--child', m, String(opts.messages), sink.url(m)], { stdio: ['ignore', 'pipe', 'inherit'] })
        let s = ''
        c.stdout.on('data', (d: Buffer) => (s += d.toString()))
        c.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`${m}: exit ${code}`))))
      })
      const r = JSON.parse(out.trim().split('\n').pop()!) as ChildResult
      const us = r.cpuUs / r.messages
      got.set(m, us)
      per.get(m)!.push(us)
    }
    for (const m of opts.modes) ratios.get(m)!.push(got.get(m)! / got.get('off')!)
    process.stderr.write(`[telemetry-micro] round ${round + 1}/${opts.rounds}: ${opts.modes.map((m) => `${m} ${got.get(m)!.toFixed(2)} µs/msg`).join(', ')}\n`)
  }
  const sinkCpu = (sink.cpuMs() ?? 0) - sinkCpu0
  const got = new Map(await Promise.all(opts.modes.map(async (m) => [m, await sink.stats(m)] as const)))
  await sink.child.stop()
  process.stdout.write(`observer alone, ${opts.messages} messages per mode and round, ${opts.rounds} rounds (median; ratio range)\n`)
  for (const m of opts.modes) {
    const rs = ratios.get(m)!
    const med = median(per.get(m)!)
    const offMed = median(per.get('off')!)
    process.stdout.write(`  ${m.padEnd(9)} ${med.toFixed(2)} µs/msg  (+${(med - offMed).toFixed(2)} µs over off; ×off ${median(rs).toFixed(2)}, ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})\n`)
  }
  const exported = opts.modes.filter((m) => RATIO[m] !== undefined).map((m) => `${m} ${got.get(m)!.spans} spans (${(got.get(m)!.bytes / 1e6).toFixed(1)} MB)`)
  // Created: per round, the warm-up's 20 000 and the measured messages; 4 spans each (a call's reply counts as a message).
  const created = (m: Key): number => Math.round(opts.rounds * (Math.min(opts.messages, 20_000) + opts.messages) * 4 * RATIO[m]!)
  process.stdout.write(`  sink (own process, ${sinkCpu} ms CPU) received: ${exported.join(', ')}; created about ${opts.modes.filter((m) => RATIO[m] !== undefined).map((m) => `${m} ${created(m)}`).join(', ')} (the batch processor drops what does not fit its queue)\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`telemetry-micro: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
