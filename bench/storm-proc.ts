/**
 * One simulated OpenStack process for the storm replay, on the oslo-shaped connections of
 * multiplex-procs.ts (Proc: fake pid in connection_name; SendPool: confirm-mode SEND pool with
 * exchange.declare once per channel): RPC server LISTEN connections, the reply connection of its
 * calls (call-monitor heartbeats included), notification publishing, and a reconnect that keeps
 * its reply and fanout queue names, as kombu's reconnect does (oslo-wire §2.8).
 */
import { performance } from 'node:perf_hooks'
import type { Channel, ConsumeMessage, Options } from 'amqplib'
import { envelope, hex, Proc, request, SendPool, unenvelope, type Env } from './multiplex-procs.js'
import type { Tally } from './multiplex-tally.js'

/** Per-message facts the replayer carries inside the payload (counted in its size). */
export interface StormMeta {
  id: string
  /** performance.now() at publish (one process runs every simulated node: one clock). */
  t0: number
  replyBytes?: number
  serviceMs?: number
}

export type Delivery = { kind: 'anycast' | 'server' | 'fanout'; body: Record<string, unknown>; meta: StormMeta | undefined }

/** Pads `build(pad)` with ASCII so its 2.0-enveloped JSON is exactly `bytes` long (if larger than bare). */
export function sized(build: (pad: string) => Record<string, unknown>, bytes: number): Buffer {
  const bare = envelope(build(''))
  const missing = bytes - bare.length
  // Plain letters survive JSON-in-JSON encoding one byte each.
  return missing > 0 ? envelope(build('x'.repeat(missing))) : bare
}

export function metaOf(body: Record<string, unknown>): StormMeta | undefined {
  const args = body['args'] as Record<string, unknown> | undefined
  const m = (args?.['storm'] ?? body['storm']) as StormMeta | undefined
  return m !== undefined && typeof m.id === 'string' ? m : undefined
}

interface ListenDef {
  topic: string
  host: string
  fanoutQ: string
  onMessage: (d: Delivery) => void
}

interface PendingCall {
  resolve: (ok: boolean) => void
  onHeartbeat: () => void
  timer: NodeJS.Timeout
}

export class StormProc {
  private env: Env
  private proc: Proc
  private pool: SendPool | undefined
  private readonly listens: ListenDef[] = []
  private readonly consumers: { ch: Channel; tags: string[] }[] = []
  private replyQ: string | undefined
  private replyOpen: Promise<void> | undefined
  private readonly pending = new Map<string, PendingCall>()
  private readonly inFlight = new Set<Promise<unknown>>()
  /** Notification queues declared on the current connections ("<exchange>|<rk>"). */
  private notifyDeclared = new Set<string>()
  private ready: Promise<void> = Promise.resolve()

  constructor(
    private readonly url: string,
    private readonly tally: Tally,
    readonly program: string,
    readonly pid: number,
    private readonly poolSize: number,
    readonly exchange: string,
  ) {
    this.env = { url, tally, closing: { value: false } }
    this.proc = new Proc(this.env, program, pid)
  }

  async openPool(): Promise<void> {
    this.sendConnIndex = this.proc.conns.length
    this.pool = await SendPool.open(this.proc, this.poolSize)
  }

  /** An RPC server (oslo-wire §2.3) on its own LISTEN connection; its fanout queue name is kept for reconnects. */
  async listen(topic: string, host: string, onMessage: (d: Delivery) => void): Promise<void> {
    const def = { topic, host, fanoutQ: `${topic}_fanout_${hex()}`, onMessage }
    this.listens.push(def)
    await this.openListen(def)
  }

  private async openListen(d: ListenDef): Promise<void> {
    const conn = await this.proc.open(`listen-${d.topic}`)
    const ch = this.proc.watch(await conn.createChannel(), `listen-${d.topic}`)
    const server = `${d.topic}.${d.host}`
    const fanoutEx = `${d.topic}_fanout`
    await ch.assertExchange(this.exchange, 'topic', { durable: false, autoDelete: false })
    await ch.assertQueue(d.topic, { durable: false, autoDelete: false, exclusive: false })
    await ch.bindQueue(d.topic, this.exchange, d.topic)
    await ch.assertExchange(this.exchange, 'topic', { durable: false, autoDelete: false })
    await ch.assertQueue(server, { durable: false, autoDelete: false, exclusive: false })
    await ch.bindQueue(server, this.exchange, server)
    await ch.assertExchange(fanoutEx, 'fanout', { durable: false, autoDelete: true })
    await ch.assertQueue(d.fanoutQ, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 1_800_000 } })
    await ch.bindQueue(d.fanoutQ, fanoutEx, d.topic)
    const consumer =
      (kind: Delivery['kind']) =>
      (m: ConsumeMessage | null): void => {
        if (m === null) return
        ch.ack(m) // oslo acks RPC requests on receipt, before dispatch
        let body: Record<string, unknown>
        try {
          body = unenvelope(m.content)
        } catch {
          this.tally.strays++
          return
        }
        d.onMessage({ kind, body, meta: metaOf(body) })
      }
    await ch.consume(d.topic, consumer('anycast'), { noAck: false, consumerTag: '1' })
    await ch.consume(server, consumer('server'), { noAck: false, consumerTag: '2' })
    await ch.consume(d.fanoutQ, consumer('fanout'), { noAck: false, consumerTag: '3' })
    this.consumers.push({ ch, tags: ['1', '2', '3'] })
  }

  /** A notification listener with a pool (oslo-wire §2.6): one queue named after the pool, bound per topic.priority. */
  async listenNotifications(pool: string, keys: readonly string[], onMessage: (body: Record<string, unknown>, meta: StormMeta | undefined) => void): Promise<void> {
    const conn = await this.proc.open('notify-listen')
    const ch = this.proc.watch(await conn.createChannel(), 'notify-listen')
    for (const rk of keys) {
      await ch.assertExchange(this.exchange, 'topic', { durable: false, autoDelete: false })
      await ch.assertQueue(pool, { durable: false, autoDelete: false, exclusive: false })
      await ch.bindQueue(pool, this.exchange, rk)
    }
    await ch.consume(pool, (m) => {
      if (m === null) return
      let body: Record<string, unknown>
      try {
        body = unenvelope(m.content)
      } catch {
        this.tally.strays++
        ch.ack(m)
        return
      }
      onMessage(body, metaOf(body))
      ch.ack(m) // notification listeners ack after the endpoint returns
    }, { noAck: false, consumerTag: '1' })
  }

  private openReply(): Promise<void> {
    this.replyOpen ??= (async () => {
      const conn = await this.proc.open('reply')
      const ch = this.proc.watch(await conn.createChannel(), 'reply')
      this.replyQ ??= `reply_${hex()}`
      await ch.assertQueue(this.replyQ, { durable: false, autoDelete: false, exclusive: false, arguments: { 'x-expires': 1_800_000 } })
      await ch.consume(this.replyQ, (m) => {
        if (m === null) return
        ch.ack(m)
        this.onReply(m)
      }, { noAck: false, consumerTag: '1' })
      this.consumers.push({ ch, tags: ['1'] })
    })()
    return this.replyOpen
  }

  private onReply(m: ConsumeMessage): void {
    let body: Record<string, unknown>
    try {
      body = unenvelope(m.content)
    } catch {
      this.tally.strays++
      return
    }
    const p = this.pending.get(String(body['_msg_id']))
    if (p === undefined) return this.onUnmatchedReply(body)
    if (body['ending'] === false) {
      p.onHeartbeat()
      return
    }
    this.pending.delete(String(body['_msg_id']))
    clearTimeout(p.timer)
    p.resolve(true)
  }

  /** Set by the replayer: a reply for a call no longer pending (late or duplicate). */
  onUnmatchedReply: (body: Record<string, unknown>) => void = () => {}

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p)
    void p.then(
      () => this.inFlight.delete(p),
      () => this.inFlight.delete(p),
    )
    return p
  }

  /** Publishes on the SEND pool once the process is connected (during a reconnect it waits, as kombu does). */
  publish(exchange: string, type: 'topic' | 'fanout' | undefined, rk: string, body: Buffer, extra: Options.Publish = {}): Promise<void> {
    return this.track(
      (async () => {
        await this.ready
        await this.pool!.publish(exchange, type, rk, body, extra)
      })(),
    )
  }

  /** Publishes a notification; the publisher declares `<rk>` as a queue bound to rk first (oslo-wire §2.6). */
  notify(rk: string, body: Buffer): Promise<void> {
    return this.track(
      (async () => {
        await this.ready
        const key = `${this.exchange}|${rk}`
        if (!this.notifyDeclared.has(key)) {
          this.notifyDeclared.add(key)
          // oslo declares on the publishing channel; SendPool keeps its channels to itself, so a
          // short-lived channel on the same (first SEND) connection does it (same connection, same cell).
          const conn = this.proc.conns[this.sendConnIndex]!
          const ch = await conn.createChannel()
          await ch.assertExchange(this.exchange, 'topic', { durable: false, autoDelete: false })
          await ch.assertQueue(rk, { durable: false, autoDelete: false, exclusive: false })
          await ch.bindQueue(rk, this.exchange, rk)
          await ch.close()
        }
        await this.pool!.publish(this.exchange, 'topic', rk, body)
      })(),
    )
  }

  /** Index in proc.conns of the first SEND connection of the current connection set. */
  private sendConnIndex = 0

  /**
   * One RPC call: the request carries _msg_id, _reply_q and _timeout (call-monitor seconds or
   * null); resolves true on the final reply, false on timeout. With a monitor, every heartbeat
   * reply (ending=false) restarts the monitor timer; silence past it fails the call as oslo does.
   */
  async call(rk: string, method: string, bytes: number, meta: StormMeta, o: { timeoutMs: number; monitorMs?: number; onHeartbeat?: (gapMs: number) => void; onPublished?: () => void }): Promise<boolean> {
    await this.ready
    if (this.replyQ === undefined || this.replyOpen === undefined) await this.openReply()
    await this.replyOpen
    const msgId = hex()
    const monitorS = o.monitorMs !== undefined ? o.monitorMs / 1000 : null
    const body = sized((pad) => request(method, { storm: meta, pad }, { _msg_id: msgId, _reply_q: this.replyQ, _timeout: monitorS }), bytes)
    const result = new Promise<boolean>((resolve) => {
      let last = performance.now()
      const deadline = last + o.timeoutMs
      const arm = (): NodeJS.Timeout =>
        setTimeout(() => {
          this.pending.delete(msgId)
          resolve(false)
        }, Math.max(0, Math.min(deadline - performance.now(), o.monitorMs ?? Number.POSITIVE_INFINITY)))
      const entry: PendingCall = {
        resolve,
        timer: arm(),
        onHeartbeat: () => {
          const now = performance.now()
          o.onHeartbeat?.(now - last)
          last = now
          clearTimeout(entry.timer)
          entry.timer = arm()
        },
      }
      this.pending.set(msgId, entry)
    })
    try {
      await this.publish(this.exchange, 'topic', rk, body, { expiration: String(o.timeoutMs) })
      o.onPublished?.()
    } catch (err) {
      const p = this.pending.get(msgId)
      if (p) clearTimeout(p.timer)
      this.pending.delete(msgId)
      throw err
    }
    return result
  }

  /** Answers a request: heartbeats every monitor/2 while "working" serviceMs, then the final reply. */
  reply(req: Record<string, unknown>, meta: StormMeta | undefined): void {
    const replyQ = req['_reply_q']
    if (typeof replyQ !== 'string') return
    const msgId = req['_msg_id']
    const service = meta?.serviceMs ?? 0
    const monitor = typeof req['_timeout'] === 'number' ? req['_timeout'] * 1000 : undefined
    const send = (body: Buffer): void => {
      this.publish('', undefined, replyQ, body, { mandatory: true }).catch((err: unknown) => this.tally.error(`${this.program} reply: ${err instanceof Error ? err.message : String(err)}`))
    }
    let beat: NodeJS.Timeout | undefined
    if (monitor !== undefined && service > 0) {
      beat = setInterval(() => send(envelope({ result: null, failure: null, ending: false, _msg_id: msgId, _unique_id: hex() })), monitor / 2)
    }
    const final = (): void => {
      clearInterval(beat)
      // The call's id rides along so a late or duplicate reply can be attributed.
      send(sized((pad) => ({ result: { pad }, failure: null, ending: true, _msg_id: msgId, _unique_id: hex(), ...(meta ? { storm: { id: meta.id, t0: meta.t0 } } : {}) }), meta?.replyBytes ?? 0))
    }
    if (service > 0) setTimeout(final, service)
    else final()
  }

  /**
   * The connections drop (every in-flight publish settled first, consumers cancelled so no
   * delivery is half-acked), then come back after `delayMs` with every declaration redone.
   * Returns the time from the start of the reconnect to ready, ms.
   */
  async herd(delayMs: number): Promise<number> {
    let done!: () => void
    this.ready = new Promise<void>((r) => (done = r))
    await Promise.allSettled([...this.inFlight])
    this.env.closing.value = true
    for (const c of this.consumers.splice(0)) for (const tag of c.tags) await c.ch.cancel(tag).catch(() => {})
    await this.proc.close()
    await new Promise((r) => setTimeout(r, delayMs))
    const t0 = performance.now()
    // Same pid: the same OS process reconnects.
    this.env = { url: this.url, tally: this.tally, closing: { value: false } }
    this.proc = new Proc(this.env, this.program, this.pid)
    this.notifyDeclared = new Set()
    for (const d of this.listens) await this.openListen(d)
    if (this.pool !== undefined) await this.openPool()
    if (this.replyOpen !== undefined) {
      this.replyOpen = undefined
      await this.openReply()
    }
    done()
    return performance.now() - t0
  }

  get connections(): number {
    return this.proc.conns.length
  }

  get callsPending(): number {
    return this.pending.size
  }

  async close(): Promise<void> {
    this.env.closing.value = true
    for (const p of this.pending.values()) clearTimeout(p.timer)
    await this.proc.close()
  }
}
