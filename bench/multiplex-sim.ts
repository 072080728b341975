/**
 * A simulated nova deployment for the multiplexing benchmark: N nova-compute-like nodes, cell
 * conductors, one scheduler and one API-like process, and the load they put on the bus.
 *
 * Per node: LISTEN (compute / compute.<host> / compute_fanout_<hex>), a reply connection (first
 * call) and a SEND pool; every `interval` a report_state-like call to `conductor` answered by a
 * conductor. The API process casts to random `compute.<host>` and now and then fans out to every
 * compute; a random node fans out to the scheduler (nova's update_instance_info) every few seconds.
 */
import { EXCHANGE, hex, listenRpc, Proc, RpcClient, SendPool, envelope, request, type Env } from './multiplex-procs.js'
import { performance } from 'node:perf_hooks'
import { Tally } from './multiplex-tally.js'

export interface SimOptions {
  nodes: number
  /** Inclusive range of SEND connections per node; node i gets min + (i mod (max-min+1)). */
  sendPool: readonly [number, number]
  conductors: number
  intervalMs: number
  castsPerSec: number
  schedFanoutMs: number
  computeFanoutMs: number
  callTimeoutMs: number
  /** Processes opened in parallel while starting (bounded: a connection storm measures nothing). */
  openConcurrency: number
}

export const nodeHost = (i: number): string => `mux-node-${String(i).padStart(3, '0')}`
export const conductorHost = (k: number): string => `mux-conductor-${k + 1}`
export const SCHEDULER_HOST = 'mux-scheduler'

/** Fake pids: distinct per simulated process, numeric as oslo's connection_name has them. */
const PID_BASE = 400_000

export function sendPoolOf(i: number, range: readonly [number, number]): number {
  return range[0] + (i % (range[1] - range[0] + 1))
}

/** How many connections the plan opens, before any traffic (for the broker's socket budget). */
export function plannedConnections(o: Pick<SimOptions, 'nodes' | 'sendPool' | 'conductors'>): number {
  let n = 0
  for (let i = 0; i < o.nodes; i++) n += 2 + sendPoolOf(i, o.sendPool) // listen + reply + pool
  n += o.conductors * (1 + 2) // listen + 2 send
  n += 1 + 1 // scheduler: listen + 1 send
  n += 2 // api: 2 send, no listener, no calls
  return n
}

interface Node {
  index: number
  host: string
  proc: Proc
  pool: SendPool
  rpc: RpcClient
  busy: boolean
  timer: NodeJS.Timeout | undefined
}

export class Deployment {
  readonly tally = new Tally()
  private readonly env: Env
  private readonly procs: Proc[] = []
  private readonly nodes: Node[] = []
  private api: SendPool | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private readonly inFlight = new Set<Promise<unknown>>()
  private running = false
  private castSeq = 0
  /** performance.now() when the load started. */
  loadStart = 0

  constructor(
    url: string,
    private readonly o: SimOptions,
  ) {
    this.env = { url, tally: this.tally, closing: { value: false } }
  }

  private proc(program: string): Proc {
    const p = new Proc(this.env, program, PID_BASE + this.procs.length)
    this.procs.push(p)
    return p
  }

  /** Opens every process's connections and declarations; controllers first, as a deployment starts. */
  async start(onProgress: (opened: number) => void): Promise<void> {
    const t = this.tally
    for (let k = 0; k < this.o.conductors; k++) {
      const proc = this.proc('nova-conductor')
      const pool = await SendPool.open(proc, 2)
      await listenRpc(proc, 'conductor', conductorHost(k), (kind, body) => {
        if (kind === 'fanout' || body['_reply_q'] === undefined) {
          t.strays++
          return
        }
        t.requestServed(String(body['_unique_id']))
        const reply = envelope({ result: { host: conductorHost(k) }, failure: null, ending: true, _msg_id: body['_msg_id'], _unique_id: hex() })
        this.track(pool.publish('', undefined, String(body['_reply_q']), reply, { mandatory: true }))
      })
    }
    {
      const proc = this.proc('nova-scheduler')
      await SendPool.open(proc, 1)
      await listenRpc(proc, 'scheduler', SCHEDULER_HOST, (kind, body) => {
        const args = (body['args'] ?? {}) as Record<string, unknown>
        if (kind === 'fanout') t.schedFanoutSeen(String(args['bench_id']))
        else t.strays++
      })
    }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < this.o.nodes) {
        const i = next++
        this.nodes.push(await this.startNode(i))
        if (this.nodes.length % 20 === 0) onProgress(this.tally.connectionsOpened)
      }
    }
    await Promise.all(Array.from({ length: this.o.openConcurrency }, worker))
    this.nodes.sort((a, b) => a.index - b.index)
    this.api = await SendPool.open(this.proc('nova-api'), 2)
  }

  private async startNode(i: number): Promise<Node> {
    const t = this.tally
    const host = nodeHost(i)
    const proc = this.proc('nova-compute')
    await listenRpc(proc, 'compute', host, (kind, body) => {
      const args = (body['args'] ?? {}) as Record<string, unknown>
      const id = String(args['bench_id'])
      if (kind === 'server') {
        if (args['host'] !== host) t.misrouted++
        t.castSeen(id)
      } else if (kind === 'fanout') t.computeFanoutSeen(id, i)
      else t.strays++ // nothing is sent to the shared `compute` topic
    })
    const pool = await SendPool.open(proc, sendPoolOf(i, this.o.sendPool))
    return { index: i, host, proc, pool, rpc: new RpcClient(proc, pool, this.o.callTimeoutMs), busy: false, timer: undefined }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.tally.error(`publish: ${err instanceof Error ? err.message : String(err)}`))
    this.inFlight.add(q)
    void q.finally(() => this.inFlight.delete(q))
  }

  /** Starts the load: each node's periodic call (random phase), API casts, fanouts. */
  startLoad(): void {
    this.running = true
    this.loadStart = performance.now()
    const t = this.tally
    for (const n of this.nodes) {
      const tick = (): void => {
        if (!this.running) return
        // oslo's report_state is a fixed-interval looping call: a call still out delays the next.
        if (n.busy) {
          t.skippedTicks++
          return
        }
        n.busy = true
        this.track(
          n.rpc
            .call('conductor', 'object_action', { objmethod: 'save', objinst: { 'nova_object.name': 'Service', 'nova_object.data': { host: n.host, binary: 'nova-compute' } } })
            .finally(() => (n.busy = false)),
        )
      }
      n.timer = setTimeout(() => {
        tick()
        n.timer = setInterval(tick, this.o.intervalMs)
      }, Math.random() * this.o.intervalMs)
    }
    const api = this.api!
    if (this.o.castsPerSec > 0) {
      this.timers.push(
        setInterval(() => {
          const n = this.nodes[Math.floor(Math.random() * this.nodes.length)]!
          const id = `cast-${++this.castSeq}`
          const body = envelope(request('refresh_instance_security_rules', { host: n.host, bench_id: id }))
          this.track(api.publish(EXCHANGE, 'topic', `compute.${n.host}`, body).then(() => t.castSent(id)))
        }, 1000 / this.o.castsPerSec),
      )
    }
    if (this.o.computeFanoutMs > 0) {
      this.timers.push(
        setInterval(() => {
          const id = `cfan-${++this.castSeq}`
          const body = envelope(request('refresh_provider_tree', { bench_id: id }))
          this.track(api.publish('compute_fanout', 'fanout', '', body).then(() => t.computeFanoutSent(id)))
        }, this.o.computeFanoutMs),
      )
    }
    if (this.o.schedFanoutMs > 0) {
      this.timers.push(
        setInterval(() => {
          const n = this.nodes[Math.floor(Math.random() * this.nodes.length)]!
          const id = `sfan-${++this.castSeq}`
          const body = envelope(request('update_instance_info', { host_name: n.host, instance_info: {}, bench_id: id }))
          this.track(n.pool.publish('scheduler_fanout', 'fanout', '', body).then(() => t.schedFanoutSent(id)))
        }, this.o.schedFanoutMs),
      )
    }
  }

  /** Stops starting work, then waits (at most the call timeout + 1 s) for everything in flight. */
  async stopLoad(): Promise<void> {
    this.running = false
    for (const n of this.nodes) {
      clearTimeout(n.timer)
      clearInterval(n.timer)
    }
    for (const tm of this.timers) clearInterval(tm)
    let to: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (to = setTimeout(r, this.o.callTimeoutMs + 1000)))])
    clearTimeout(to)
  }

  get callsInFlight(): number {
    let n = 0
    for (const node of this.nodes) n += node.rpc.inFlight
    return n
  }

  async close(): Promise<void> {
    this.running = false
    this.env.closing.value = true
    for (const n of this.nodes) clearInterval(n.timer)
    for (const tm of this.timers) clearInterval(tm)
    // Closing hundreds of connections at once is itself a storm; a few at a time is enough.
    const procs = [...this.procs]
    const worker = async (): Promise<void> => {
      for (let p = procs.pop(); p !== undefined; p = procs.pop()) await p.close()
    }
    await Promise.all(Array.from({ length: 16 }, worker))
  }
}
