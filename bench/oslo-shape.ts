/**
 * amqplib clients shaped like oslo.messaging's rabbit driver on the wire
 * (/work/shared/research/oslo-wire.md §2.3–2.4, §3):
 *
 * - RPC server: one LISTEN connection (channel 1) consuming the topic queue T (bound to the topic
 *   exchange X with rk T), no_ack=False, no basic.qos; acks each request on receipt, then publishes
 *   the reply on a pooled SEND connection in confirm mode to the default exchange, rk = _reply_q,
 *   mandatory=True, and waits for that confirm.
 * - RPC client: one reply LISTEN connection with `reply_<hex>` (x-expires 1800000), acking every
 *   reply; requests go to X/T on a pooled SEND connection in confirm mode (exchange.declare once per
 *   channel before the first publish, confirm awaited for every publish), expiration "60000";
 *   replies are matched by `_msg_id` in the double-encoded 2.0 envelope.
 * - Throughput: one confirm-mode publisher with a window of outstanding confirms, one consumer
 *   (no_ack=False, basic.qos prefetch N, acking each message), ~1 KiB oslo-like bodies.
 *
 * Every connection sets TCP_NODELAY (py-amqp does) and heartbeat 60.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib'

export type TargetName = 'direct' | 'relay' | 'cellgate'

export interface Target {
  name: TargetName
  /** amqp:// URL without query. */
  url: string
}

export interface BenchNames {
  /** Topic exchange (control_exchange). */
  exchange: string
  /** Prefix for every queue of this run; per target names are derived from it. */
  prefix: string
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

async function open(target: Target, purpose: string): Promise<ChannelModel> {
  const conn = await connect(`${target.url}?heartbeat=60&frameMax=131072`, {
    noDelay: true,
    clientProperties: { connection_name: `rpc-bench:${process.pid}:${target.name}:${purpose}` },
  })
  // A broker/proxy closing a connection under us must not crash the run; it shows up as failed calls.
  conn.on('error', (err: Error) => process.stderr.write(`[bench] ${target.name}/${purpose} connection error: ${err.message}\n`))
  return conn
}

/** The message properties kombu puts on every oslo publish (§3.1). */
function osloProps(extra: Options.Publish = {}): Options.Publish {
  return {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    priority: 0,
    headers: {},
    ...extra,
  }
}

/** A flattened request context of roughly nova's size (keys as oslo.context serializes them). */
const CONTEXT: Record<string, unknown> = {
  _context_user: 'c0ffee1c0ffee1c0ffee1c0ffee1c0ff',
  _context_tenant: '5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e',
  _context_system_scope: null,
  _context_project: '5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e',
  _context_domain: null,
  _context_user_domain: 'default',
  _context_project_domain: 'default',
  _context_is_admin: false,
  _context_read_only: false,
  _context_show_deleted: false,
  _context_auth_token: 'gAAAAA' + 'x'.repeat(180),
  _context_request_id: 'req-7d3c1b58-8c0e-4b8e-9d2a-5f1f0c6e2b11',
  _context_global_request_id: null,
  _context_resource_uuid: null,
  _context_roles: ['reader', 'member'],
  _context_user_identity: 'c0ffee1c0ffee1c0ffee1c0ffee1c0ff 5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e - default default',
  _context_is_admin_project: true,
  _context_user_id: 'c0ffee1c0ffee1c0ffee1c0ffee1c0ff',
  _context_project_id: '5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e',
  _context_read_deleted: 'no',
  _context_remote_address: '10.0.0.15',
  _context_timestamp: '2026-11-26T10:00:00.000000',
  _context_quota_class: null,
  _context_user_name: 'demo',
  _context_project_name: 'demo',
}

function envelope(inner: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }))
}

function unenvelope(content: Buffer): Record<string, unknown> {
  const outer = JSON.parse(content.toString('utf8')) as Record<string, unknown>
  const inner = outer['oslo.message']
  return typeof inner === 'string' ? (JSON.parse(inner) as Record<string, unknown>) : outer
}

function publishConfirmed(ch: ConfirmChannel, exchange: string, rk: string, body: Buffer, props: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.publish(exchange, rk, body, props, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('nacked')) : resolve()))
  })
}

interface Pooled {
  conn: ChannelModel
  ch: ConfirmChannel
  exchangeDeclared: boolean
}

/** oslo's SEND connection pool: one confirm channel per connection, one user at a time. */
class SendPool {
  private readonly free: Pooled[] = []
  private readonly waiters: ((p: Pooled) => void)[] = []
  private readonly all: Pooled[] = []
  returned = 0

  static async open(target: Target, purpose: string, size: number): Promise<SendPool> {
    const pool = new SendPool()
    for (let i = 0; i < size; i++) {
      const conn = await open(target, `${purpose}-${i}`)
      const ch = await conn.createConfirmChannel()
      ch.on('return', () => pool.returned++)
      ch.on('error', (err: Error) => process.stderr.write(`[bench] ${target.name}/${purpose}-${i} channel error: ${err.message}\n`))
      const p = { conn, ch, exchangeDeclared: false }
      pool.all.push(p)
      pool.free.push(p)
    }
    return pool
  }

  acquire(): Promise<Pooled> {
    const p = this.free.pop()
    if (p) return Promise.resolve(p)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  release(p: Pooled): void {
    const w = this.waiters.shift()
    if (w) w(p)
    else this.free.push(p)
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((p) => p.conn.close()))
  }
}

export interface CallResult {
  latencies: number[]
  errors: number
  elapsedMs: number
}

/** One oslo-shaped RPC server + client pair talking through one target. */
export class RpcRig {
  private readonly pending = new Map<string, { resolve: () => void; timer: NodeJS.Timeout }>()
  readonly topic: string
  readonly replyQueue: string
  unexpectedReplies = 0
  serverErrors = 0
  requestsServed = 0
  private aborted = false

  private constructor(
    readonly target: Target,
    private readonly names: BenchNames,
    private readonly serverListen: ChannelModel,
    private readonly serverCh: Channel,
    private readonly serverSend: SendPool,
    private readonly replyConn: ChannelModel,
    private readonly replyCh: Channel,
    private readonly clientSend: SendPool,
    topic: string,
    replyQueue: string,
    private readonly callTimeoutMs: number,
  ) {
    this.topic = topic
    this.replyQueue = replyQueue
  }

  static async open(target: Target, names: BenchNames, poolSize: number, callTimeoutMs = 10_000): Promise<RpcRig> {
    const topic = `${names.prefix}-rpc-${target.name}`
    const X = names.exchange
    // RPC server LISTEN connection: the oslo declare sequence for the topic queue (fanout and
    // T.S consumers are left out: they carry no traffic in this benchmark).
    const serverListen = await open(target, 'rpc-server-listen')
    const serverCh = await serverListen.createChannel()
    await serverCh.assertExchange(X, 'topic', { durable: false, autoDelete: true })
    // x-expires is a benchmark-hygiene deviation (oslo topic queues have none): a crashed run
    // leaves nothing behind for long.
    await serverCh.assertQueue(topic, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 600_000 } })
    await serverCh.bindQueue(topic, X, topic)
    const serverSend = await SendPool.open(target, 'rpc-server-send', poolSize)

    // RPC client: reply LISTEN connection, then the SEND pool.
    const replyQueue = `${names.prefix}-reply_${hex(16)}`
    const replyConn = await open(target, 'rpc-client-reply')
    const replyCh = await replyConn.createChannel()
    await replyCh.assertQueue(replyQueue, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 1_800_000 } })
    const clientSend = await SendPool.open(target, 'rpc-client-send', poolSize)

    const rig = new RpcRig(target, names, serverListen, serverCh, serverSend, replyConn, replyCh, clientSend, topic, replyQueue, callTimeoutMs)
    await replyCh.consume(replyQueue, (m) => rig.onReply(m), { noAck: false, consumerTag: '1' })
    await serverCh.consume(topic, (m) => rig.onRequest(m), { noAck: false, consumerTag: '1' })
    return rig
  }

  get returned(): number {
    return this.serverSend.returned + this.clientSend.returned
  }

  private onReply(msg: ConsumeMessage | null): void {
    if (msg === null) return
    this.replyCh.ack(msg)
    const inner = unenvelope(msg.content)
    const p = this.pending.get(String(inner['_msg_id']))
    if (!p) {
      this.unexpectedReplies++
      return
    }
    this.pending.delete(String(inner['_msg_id']))
    clearTimeout(p.timer)
    p.resolve()
  }

  private onRequest(msg: ConsumeMessage | null): void {
    if (msg === null) return
    // oslo acks an RPC request immediately on receipt, before dispatch.
    this.serverCh.ack(msg)
    this.requestsServed++
    void this.reply(msg).catch((err: unknown) => {
      this.serverErrors++
      process.stderr.write(`[bench] ${this.target.name} server reply failed: ${err instanceof Error ? err.message : String(err)}\n`)
    })
  }

  private async reply(msg: ConsumeMessage): Promise<void> {
    const req = unenvelope(msg.content)
    const args = (req['args'] ?? {}) as Record<string, unknown>
    const body = envelope({
      result: { echo: args['n'] ?? null, host: 'bench-server' },
      failure: null,
      ending: true,
      _msg_id: req['_msg_id'],
      _unique_id: hex(16),
    })
    const p = await this.serverSend.acquire()
    try {
      await publishConfirmed(p.ch, '', String(req['_reply_q']), body, osloProps({ mandatory: true }))
    } finally {
      this.serverSend.release(p)
    }
  }

  /** One call: publish the request (waiting for its confirm), then wait for the reply. Resolves with ms. */
  async call(n: number): Promise<number> {
    const msgId = hex(16)
    const body = envelope({
      method: 'echo',
      args: { n, data: 'bench' },
      version: '1.0',
      _msg_id: msgId,
      _reply_q: this.replyQueue,
      _timeout: null,
      _unique_id: hex(16),
      ...CONTEXT,
    })
    const t0 = performance.now()
    const replied = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId)
        reject(new Error(`no reply within ${this.callTimeoutMs} ms`))
      }, this.callTimeoutMs)
      this.pending.set(msgId, { resolve, timer })
    })
    replied.catch(() => {}) // observed below; avoid an unhandled rejection while the publish is in flight
    const p = await this.clientSend.acquire()
    try {
      if (!p.exchangeDeclared) {
        await p.ch.assertExchange(this.names.exchange, 'topic', { durable: false, autoDelete: true })
        p.exchangeDeclared = true
      }
      await publishConfirmed(p.ch, this.names.exchange, this.topic, body, osloProps({ expiration: '60000' }))
    } catch (err) {
      const pend = this.pending.get(msgId)
      if (pend) clearTimeout(pend.timer)
      this.pending.delete(msgId)
      throw err
    } finally {
      this.clientSend.release(p)
    }
    await replied
    return performance.now() - t0
  }

  /**
   * `total` calls by `concurrency` callers in parallel, each calling sequentially; no new call
   * starts after `maxMs` (bounds the run when a target is pathologically slow).
   */
  async run(total: number, concurrency: number, maxMs = Number.POSITIVE_INFINITY): Promise<CallResult> {
    const latencies: number[] = []
    let errors = 0
    let next = 0
    const deadline = performance.now() + maxMs
    const worker = async (): Promise<void> => {
      while (next < total && performance.now() < deadline && !this.aborted) {
        const n = next++
        try {
          latencies.push(await this.call(n))
        } catch (err) {
          errors++
          if (errors <= 5) process.stderr.write(`[bench] ${this.target.name} call failed: ${err instanceof Error ? err.message : String(err)}\n`)
        }
      }
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
    return { latencies, errors, elapsedMs: performance.now() - t0 }
  }

  /** Stops `run` loops from starting calls (interrupt): in-flight calls still settle. */
  abort(): void {
    this.aborted = true
  }

  async close(): Promise<void> {
    this.aborted = true
    for (const p of this.pending.values()) clearTimeout(p.timer)
    this.pending.clear()
    await Promise.allSettled([this.clientSend.close(), this.serverSend.close(), this.replyConn.close(), this.serverListen.close()])
  }

  /** Queues this rig created (for cleanup over a direct connection). */
  queues(): string[] {
    return [this.topic, this.replyQueue]
  }
}

export interface ThroughputResult {
  messages: number
  delivered: number
  lost: number
  duplicates: number
  stray: number
  nacked: number
  returned: number
  elapsedMs: number
  msgPerSec: number
  /** ms from first publish until every confirm arrived. */
  confirmElapsedMs: number
}

const SEQ_DIGITS = 12

/**
 * One confirm-mode publisher and one acking consumer on a queue bound to the topic exchange.
 * Bodies are oslo 2.0 envelopes padded to `size` bytes, with a zero-padded sequence number at a
 * fixed offset so the consumer can check for loss/duplicates without JSON-parsing.
 */
export class ThroughputRig {
  private readonly template: Buffer
  private readonly seqOffset: number
  private nextSeq = 0
  private onDelivery: (seq: number) => void = () => {}
  private abortRun: () => void = () => {}
  private aborted = false
  stray = 0

  private constructor(
    readonly target: Target,
    private readonly names: BenchNames,
    private readonly pubConn: ChannelModel,
    private readonly pubCh: ConfirmChannel,
    private readonly conConn: ChannelModel,
    private readonly conCh: Channel,
    readonly queue: string,
    size: number,
  ) {
    const prefix = JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '' }).slice(0, -2) // ...: "
    const innerHead = `{\\"seq\\": `
    const seqOffset = Buffer.byteLength(prefix + innerHead)
    const innerTail = `, \\"event_type\\": \\"compute.instance.update\\", \\"priority\\": \\"INFO\\", \\"payload\\": \\"`
    const closing = `\\"}"}`
    const fixed = Buffer.byteLength(prefix + innerHead) + SEQ_DIGITS + Buffer.byteLength(innerTail + closing)
    const pad = 'p'.repeat(Math.max(0, size - fixed))
    this.template = Buffer.from(prefix + innerHead + '0'.repeat(SEQ_DIGITS) + innerTail + pad + closing)
    this.seqOffset = seqOffset
  }

  static async open(target: Target, names: BenchNames, size: number, prefetch: number): Promise<ThroughputRig> {
    const queue = `${names.prefix}-tp-${target.name}`
    const conConn = await open(target, 'tp-consumer')
    const conCh = await conConn.createChannel()
    await conCh.assertExchange(names.exchange, 'topic', { durable: false, autoDelete: true })
    await conCh.assertQueue(queue, { durable: false, autoDelete: false, arguments: { 'x-expires': 600_000 } })
    await conCh.bindQueue(queue, names.exchange, queue)
    await conCh.prefetch(prefetch, false)
    const pubConn = await open(target, 'tp-publisher')
    const pubCh = await pubConn.createConfirmChannel()
    await pubCh.assertExchange(names.exchange, 'topic', { durable: false, autoDelete: true })
    const rig = new ThroughputRig(target, names, pubConn, pubCh, conConn, conCh, queue, size)
    pubCh.on('error', (err: Error) => process.stderr.write(`[bench] ${target.name} publisher channel error: ${err.message}\n`))
    conCh.on('error', (err: Error) => process.stderr.write(`[bench] ${target.name} consumer channel error: ${err.message}\n`))
    await conCh.consume(
      queue,
      (m) => {
        if (m === null) return
        conCh.ack(m)
        const seq = Number(m.content.toString('latin1', rig.seqOffset, rig.seqOffset + SEQ_DIGITS))
        rig.onDelivery(seq)
      },
      { noAck: false, consumerTag: '1' },
    )
    return rig
  }

  get bodySize(): number {
    return this.template.length
  }

  private body(seq: number): Buffer {
    const b = Buffer.allocUnsafe(this.template.length)
    this.template.copy(b)
    b.write(String(seq).padStart(SEQ_DIGITS, '0'), this.seqOffset, SEQ_DIGITS, 'latin1')
    return b
  }

  /** Publishes `count` messages with at most `window` unconfirmed; resolves when all were delivered (or timed out). */
  async run(count: number, window: number, timeoutMs: number): Promise<ThroughputResult> {
    if (this.aborted) throw new Error('aborted')
    const base = this.nextSeq
    this.nextSeq += count
    const seen = new Uint8Array(count)
    this.stray = 0
    let delivered = 0
    let duplicates = 0
    let confirmed = 0
    let nacked = 0
    let sent = 0
    let outstanding = 0
    let waitingDrain = false
    let returned = 0
    const onReturn = (): void => {
      returned++
    }
    this.pubCh.on('return', onReturn)
    const t0 = performance.now()
    let tConfirmed = Number.NaN
    let tDelivered = Number.NaN

    let finish: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    const check = (): void => {
      if (delivered >= count && confirmed + nacked >= count) finish()
    }
    this.abortRun = finish
    this.onDelivery = (seq) => {
      const i = seq - base
      if (i < 0 || i >= count) {
        this.stray++
        return
      }
      if (seen[i]) {
        duplicates++
        return
      }
      seen[i] = 1
      delivered++
      if (delivered === count) {
        tDelivered = performance.now()
        check()
      }
    }
    const props = osloProps()
    const onConfirm = (err: unknown): void => {
      outstanding--
      if (err) nacked++
      else confirmed++
      if (confirmed + nacked === count) {
        tConfirmed = performance.now()
        check()
      }
      pump()
    }
    const pump = (): void => {
      if (waitingDrain || this.aborted) return
      while (outstanding < window && sent < count) {
        const seq = base + sent
        sent++
        outstanding++
        const ok = this.pubCh.publish(this.names.exchange, this.queue, this.body(seq), props, onConfirm)
        if (!ok) {
          waitingDrain = true
          this.pubCh.once('drain', () => {
            waitingDrain = false
            pump()
          })
          return
        }
      }
    }
    pump()
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      done.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    this.pubCh.off('return', onReturn)
    this.onDelivery = (seq) => {
      const i = seq - base
      if (i >= 0 && i < count && seen[i]) duplicates++
      else this.stray++
    }
    const end = timedOut ? performance.now() : Math.max(tConfirmed, tDelivered)
    const elapsedMs = end - t0
    return {
      messages: count,
      delivered,
      lost: count - delivered,
      duplicates,
      stray: this.stray,
      nacked,
      returned,
      elapsedMs,
      msgPerSec: (delivered * 1000) / elapsedMs,
      confirmElapsedMs: tConfirmed - t0,
    }
  }

  /** Ends a running `run` early (interrupt). */
  abort(): void {
    this.aborted = true
    this.abortRun()
  }

  async close(): Promise<void> {
    this.abort()
    await Promise.allSettled([this.pubConn.close(), this.conConn.close()])
  }
}
