/**
 * Simulated OpenStack processes for the multiplexing benchmark, connecting the way oslo.messaging's
 * rabbit driver does (/work/shared/research/oslo-wire.md §2.2–2.4): per process one LISTEN
 * connection per RPC server (topic, topic.<host> and topic_fanout_<hex> queues, three consumers),
 * one reply connection opened by the first call, and a pool of confirm-mode SEND connections that
 * declare the exchange once per channel before publishing. Each process has its own fake pid in
 * `connection_name` ("<program>:<pid>:<uuid>"): cellgate tells processes apart by peer address +
 * pid, and all simulated processes share 127.0.0.1.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib'
import type { Tally } from './multiplex-tally.js'

/** nova's control_exchange. */
export const EXCHANGE = 'nova'

export const hex = (bytes = 16): string => randomBytes(bytes).toString('hex')

export interface Env {
  /** amqp:// URL of the target, with vhost. */
  url: string
  tally: Tally
  /** Set when the benchmark is shutting down: closes are expected then, not drops. */
  closing: { value: boolean }
}

/** Properties kombu puts on every oslo publish. */
function props(extra: Options.Publish = {}): Options.Publish {
  return { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, priority: 0, headers: {}, ...extra }
}

/** oslo 2.0 envelope: the message is JSON inside JSON. */
export function envelope(inner: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }))
}

export function unenvelope(content: Buffer): Record<string, unknown> {
  const outer = JSON.parse(content.toString('utf8')) as Record<string, unknown>
  const inner = outer['oslo.message']
  return typeof inner === 'string' ? (JSON.parse(inner) as Record<string, unknown>) : outer
}

/** A trimmed request context (oslo.context keys), so bodies have a realistic size. */
const CONTEXT: Record<string, unknown> = {
  _context_user_id: 'c0ffee1c0ffee1c0ffee1c0ffee1c0ff',
  _context_project_id: '5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e',
  _context_auth_token: null,
  _context_request_id: 'req-7d3c1b58-8c0e-4b8e-9d2a-5f1f0c6e2b11',
  _context_roles: ['admin'],
  _context_is_admin: true,
  _context_read_deleted: 'no',
  _context_timestamp: '2026-11-26T10:00:00.000000',
}

export function request(method: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method, args, version: '5.0', _unique_id: hex(), ...extra, ...CONTEXT }
}

/** One simulated OS process: a program name and a pid that its connections all carry. */
export class Proc {
  readonly conns: ChannelModel[] = []

  constructor(
    readonly env: Env,
    readonly program: string,
    readonly pid: number,
  ) {}

  async open(purpose: string): Promise<ChannelModel> {
    const { tally, closing } = this.env
    const conn = await connect(`${this.env.url}?heartbeat=60&frameMax=131072`, {
      noDelay: true,
      clientProperties: { connection_name: `${this.program}:${this.pid}:${randomUUID()}` },
    })
    tally.connectionsOpened++
    this.conns.push(conn)
    conn.on('error', (err: Error) => tally.error(`${this.program} ${purpose} connection: ${err.message}`))
    conn.on('close', () => {
      if (!closing.value) {
        tally.connectionsDropped++
        tally.error(`${this.program} ${purpose} connection closed by the peer`)
      }
    })
    return conn
  }

  watch<C extends Channel>(ch: C, purpose: string): C {
    ch.on('error', (err: Error) => {
      this.env.tally.channelErrors++
      this.env.tally.error(`${this.program} ${purpose} channel: ${err.message}`)
    })
    ch.on('return', () => this.env.tally.returned++)
    return ch
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.conns.map((c) => c.close()))
  }
}

interface Pooled {
  ch: ConfirmChannel
  /** Exchanges declared on this channel (oslo declares once per channel, before the first publish). */
  declared: Set<string>
}

/** oslo's SEND connection pool: one confirm channel per connection, one user at a time. */
export class SendPool {
  private readonly free: Pooled[] = []
  private readonly waiters: ((p: Pooled) => void)[] = []

  private constructor(private readonly proc: Proc) {}

  static async open(proc: Proc, size: number): Promise<SendPool> {
    const pool = new SendPool(proc)
    for (let i = 0; i < size; i++) {
      const conn = await proc.open(`send-${i}`)
      pool.free.push({ ch: proc.watch(await conn.createConfirmChannel(), `send-${i}`), declared: new Set() })
    }
    return pool
  }

  /**
   * Publish and wait for the confirm. The pool is used oldest-free first (FIFO), so every pooled
   * connection carries traffic, as a pool that grew under a burst keeps all its members in use.
   */
  async publish(exchange: string, type: 'topic' | 'fanout' | undefined, rk: string, body: Buffer, extra: Options.Publish = {}): Promise<void> {
    const p = this.free.shift() ?? (await new Promise<Pooled>((resolve) => this.waiters.push(resolve)))
    try {
      if (type !== undefined && !p.declared.has(exchange)) {
        // oslo-wire.md §2.3: topic exchange durable=False auto_delete=False; T_fanout auto_delete=True.
        await p.ch.assertExchange(exchange, type, { durable: false, autoDelete: type === 'fanout' })
        p.declared.add(exchange)
      }
      await new Promise<void>((resolve, reject) => {
        p.ch.publish(exchange, rk, body, props(extra), (err: unknown) => {
          if (err) {
            this.proc.env.tally.nacked++
            reject(err instanceof Error ? err : new Error('publish nacked'))
          } else resolve()
        })
      })
    } finally {
      const w = this.waiters.shift()
      if (w) w(p)
      else this.free.push(p)
    }
  }
}

export type ListenKind = 'anycast' | 'server' | 'fanout'

/**
 * An RPC server's LISTEN connection with oslo's declare sequence (oslo-wire.md §2.3) and its
 * three consumers. Requests are acked on receipt, before dispatch, as oslo does.
 */
export async function listenRpc(proc: Proc, topic: string, host: string, onMessage: (kind: ListenKind, body: Record<string, unknown>) => void): Promise<void> {
  const conn = await proc.open(`listen-${topic}`)
  const ch = proc.watch(await conn.createChannel(), `listen-${topic}`)
  const server = `${topic}.${host}`
  const fanoutEx = `${topic}_fanout`
  const fanoutQ = `${fanoutEx}_${hex()}`
  await ch.assertExchange(EXCHANGE, 'topic', { durable: false, autoDelete: false })
  await ch.assertQueue(topic, { durable: false, autoDelete: false, exclusive: false })
  await ch.bindQueue(topic, EXCHANGE, topic)
  await ch.assertExchange(EXCHANGE, 'topic', { durable: false, autoDelete: false })
  await ch.assertQueue(server, { durable: false, autoDelete: false, exclusive: false })
  await ch.bindQueue(server, EXCHANGE, server)
  await ch.assertExchange(fanoutEx, 'fanout', { durable: false, autoDelete: true })
  await ch.assertQueue(fanoutQ, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 1_800_000 } })
  await ch.bindQueue(fanoutQ, fanoutEx, topic)
  const consumer =
    (kind: ListenKind) =>
    (m: ConsumeMessage | null): void => {
      if (m === null) return
      ch.ack(m)
      let body: Record<string, unknown>
      try {
        body = unenvelope(m.content)
      } catch {
        proc.env.tally.strays++
        return
      }
      onMessage(kind, body)
    }
  await ch.consume(topic, consumer('anycast'), { noAck: false, consumerTag: '1' })
  await ch.consume(server, consumer('server'), { noAck: false, consumerTag: '2' })
  await ch.consume(fanoutQ, consumer('fanout'), { noAck: false, consumerTag: '3' })
}

interface Pending {
  resolve: () => void
  timer: NodeJS.Timeout
}

/**
 * A process's RPC client side: the reply connection (opened by the first call, `reply_<hex>` with
 * x-expires, no exchange, no bind) and calls matched by `_msg_id`.
 */
export class RpcClient {
  private replyQueue: string | undefined
  private opening: Promise<string> | undefined
  private readonly pending = new Map<string, Pending>()
  /** Calls that completed or timed out, to tell duplicate replies from late ones. */
  private readonly done = new Map<string, 'ok' | 'timeout'>()

  constructor(
    private readonly proc: Proc,
    private readonly pool: SendPool,
    private readonly timeoutMs: number,
  ) {}

  private replyQ(): Promise<string> {
    this.opening ??= (async () => {
      const conn = await this.proc.open('reply')
      const ch = this.proc.watch(await conn.createChannel(), 'reply')
      const q = `reply_${hex()}`
      await ch.assertQueue(q, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 1_800_000 } })
      await ch.consume(q, (m) => m && (ch.ack(m), this.onReply(m)), { noAck: false, consumerTag: '1' })
      this.replyQueue = q
      return q
    })()
    return this.opening
  }

  private onReply(m: ConsumeMessage): void {
    const tally = this.proc.env.tally
    let id: string
    try {
      id = String(unenvelope(m.content)['_msg_id'])
    } catch {
      tally.strays++
      return
    }
    const p = this.pending.get(id)
    if (p === undefined) {
      const was = this.done.get(id)
      if (was === 'ok') tally.duplicateReplies++
      else if (was === 'timeout') tally.lateReplies++
      else tally.strays++
      return
    }
    this.pending.delete(id)
    this.done.set(id, 'ok')
    clearTimeout(p.timer)
    p.resolve()
  }

  /** One call to `topic` (anycast); resolves with the round trip in ms, or undefined on timeout/failure. */
  async call(topic: string, method: string, args: Record<string, unknown>): Promise<number | undefined> {
    const tally = this.proc.env.tally
    const replyQ = this.replyQueue ?? (await this.replyQ())
    const msgId = hex()
    tally.callsStarted++
    const t0 = performance.now()
    const replied = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId)
        this.done.set(msgId, 'timeout')
        tally.timeouts++
        resolve(false)
      }, this.timeoutMs)
      this.pending.set(msgId, { resolve: () => resolve(true), timer })
    })
    try {
      const body = envelope(request(method, args, { _msg_id: msgId, _reply_q: replyQ, _timeout: null }))
      await this.pool.publish(EXCHANGE, 'topic', topic, body, { expiration: String(this.timeoutMs) })
    } catch (err) {
      const p = this.pending.get(msgId)
      if (p) clearTimeout(p.timer)
      this.pending.delete(msgId)
      tally.callsFailed++
      tally.error(`${this.proc.program} call publish: ${err instanceof Error ? err.message : String(err)}`)
      return undefined
    }
    if (!(await replied)) return undefined
    const ms = performance.now() - t0
    tally.latencies.push(ms)
    tally.startedAt.push(t0)
    return ms
  }

  get inFlight(): number {
    return this.pending.size
  }
}
