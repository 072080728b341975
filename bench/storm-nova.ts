/**
 * A synthetic nova storm for N compute nodes (bench/README.md "storm bench" lists the sources of
 * every figure). Periodic traffic is written as rules (one line each, whatever N is); instance
 * operations, the herd reconnect and the long call are explicit events drawn from the seed.
 *
 * Sizes are AMQP body bytes with the 2.0 envelope and a nova request context (~1.1 KiB alone):
 * a Service object save (report_state) is ~2 KiB, a ComputeNode save with its resource
 * inventory 5–9 KiB, build_and_run_instance (request spec, filter properties, block device
 * mappings, network info) 14–32 KiB, versioned instance notifications 3.5–8 KiB.
 */
import type { From, PeriodicRule, Priority, StormTrace, TraceEvent } from './storm-trace.js'
import { rng, type Rng } from './storm-rng.js'

export const GENERATOR = 'storm-generate/1'

export interface NovaStormOptions {
  nodes: number
  seconds: number
  seed: number
  /** Instance operations per node per second (boot, delete, reboot, API calls to the compute). */
  opsPerNodePerSec?: number
  note?: string
}

/** nova's report_interval (10 s) and periodic task spacing (60 s), scheduler_instance_sync_interval (120 s). */
function novaRules(): PeriodicRule[] {
  return [
    { kind: 'periodic', what: 'report_state', pattern: 'call', from: 'nodes', topic: 'conductor', method: 'object_action', everyMs: 10_000, jitterMs: 300, bytes: { min: 1700, max: 2300 }, replyBytes: { min: 1000, max: 1400 }, serviceMs: 3 },
    { kind: 'periodic', what: 'compute_node_update', pattern: 'call', from: 'nodes', topic: 'conductor', method: 'object_action', everyMs: 60_000, jitterMs: 3000, bytes: { min: 5000, max: 9000 }, replyBytes: { min: 4500, max: 8500 }, serviceMs: 5 },
    { kind: 'periodic', what: 'instance_list', pattern: 'call', from: 'nodes', topic: 'conductor', method: 'object_class_action_versions', everyMs: 60_000, jitterMs: 3000, bytes: { min: 1300, max: 1700 }, replyBytes: { min: 2000, max: 40_000 }, serviceMs: 10 },
    { kind: 'periodic', what: 'sync_instance_info', pattern: 'fanout', from: 'nodes', topic: 'scheduler', method: 'sync_instance_info', everyMs: 120_000, jitterMs: 10_000, bytes: { min: 1200, max: 3000 } },
  ]
}

const size = (r: Rng, min: number, max: number): number => r.int(min, max)

/** The messages of one instance operation on node `h` starting at `t0`. */
function operation(r: Rng, h: number, t0: number): TraceEvent[] {
  const note = (dt: number, eventType: string, min: number, max: number, priority: Priority = 'info'): TraceEvent => ({
    at: t0 + dt, kind: 'notification', what: 'notification', from: h, topic: 'versioned_notifications', priority, eventType, bytes: size(r, min, max),
  })
  const x = r.next()
  if (x < 0.4) {
    const end = Math.round(r.uniform(6000, 15_000))
    return [
      { at: t0, kind: 'cast', from: 'conductor' as From, topic: 'compute', server: h, method: 'build_and_run_instance', bytes: size(r, 14_000, 32_000) },
      note(300, 'instance.create.start', 3500, 5500),
      { at: t0 + 500, kind: 'call', what: 'instance_save', from: h, topic: 'conductor', method: 'object_action', bytes: size(r, 3500, 6000), replyBytes: size(r, 3500, 6000), serviceMs: 4 },
      { at: t0 + 3000, kind: 'call', what: 'instance_save', from: h, topic: 'conductor', method: 'object_action', bytes: size(r, 3500, 6000), replyBytes: size(r, 3500, 6000), serviceMs: 4 },
      { at: t0 + 4000, kind: 'fanout', what: 'update_instance_info', from: h, topic: 'scheduler', method: 'update_instance_info', bytes: size(r, 4000, 7000) },
      note(end, 'instance.create.end', 4500, 8000),
    ]
  }
  if (x < 0.6) {
    return [
      { at: t0, kind: 'cast', from: 'api', topic: 'compute', server: h, method: 'terminate_instance', bytes: size(r, 6000, 11_000) },
      note(200, 'instance.delete.start', 3500, 5500),
      { at: t0 + 2000, kind: 'fanout', what: 'delete_instance_info', from: h, topic: 'scheduler', method: 'delete_instance_info', bytes: size(r, 1100, 1400) },
      note(2500, 'instance.delete.end', 3500, 5500),
    ]
  }
  if (x < 0.85) {
    const [method, rmin, rmax] = r.pick([
      ['get_console_output', 2000, 20_000],
      ['reserve_block_device_name', 300, 600],
      ['get_instance_diagnostics', 1500, 3000],
    ] as const)
    return [{ at: t0, kind: 'call', what: 'api_compute_call', from: 'api', topic: 'compute', server: h, method, bytes: size(r, 3000, 6000), replyBytes: size(r, rmin, rmax), serviceMs: r.int(20, 200) }]
  }
  return [
    { at: t0, kind: 'cast', from: 'api', topic: 'compute', server: h, method: 'reboot_instance', bytes: size(r, 6000, 9000) },
    note(200, 'instance.reboot.start', 3500, 5500),
    note(Math.round(r.uniform(3000, 8000)), 'instance.reboot.end', 3500, 5500),
  ]
}

export function generateNovaTrace(o: NovaStormOptions): StormTrace {
  const D = Math.round(o.seconds * 1000)
  const r = rng(o.seed, 0xfeed)
  const events: TraceEvent[] = []
  // Instance operations: a Poisson process over the whole deployment.
  const rate = Math.max(0.2, o.nodes * (o.opsPerNodePerSec ?? 0.005))
  for (let t = r.exp(1000 / rate); t < D; t += r.exp(1000 / rate)) events.push(...operation(r, r.int(0, o.nodes - 1), Math.round(t)))
  // One long call: select_destinations from the super-conductor with call_monitor_timeout, scaled
  // to the storm (nova: 60 s) so it sends several heartbeats, and over before the herd so a
  // heartbeat gap measures the bus, not the herd's stall of the replayer's event loop.
  const monitor = Math.min(60_000, Math.max(1500, Math.round(D * 0.1)))
  events.push({
    at: Math.round(D * 0.05), kind: 'long-call', what: 'select_destinations', from: 'conductor', topic: 'scheduler', method: 'select_destinations',
    bytes: size(r, 8000, 16_000), replyBytes: size(r, 1500, 4000), serviceMs: Math.round(D * 0.35), monitorTimeoutMs: monitor, timeoutMs: 1_800_000,
  })
  // The herd: every node's connections drop at once (broker restart, load balancer failover) and
  // come back after kombu_reconnect_delay (1 s) spread over a few seconds.
  events.push({ at: Math.round(D * 0.45), kind: 'reconnect-herd', downMs: 1000, spreadMs: Math.min(5000, Math.round(D * 0.1)) })
  const kept = events.filter((e) => e.at < D).sort((a, b) => a.at - b.at)
  return {
    format: 'cellgate-storm-trace',
    version: 1,
    header: {
      nodes: o.nodes,
      durationMs: D,
      seed: o.seed,
      generator: GENERATOR,
      createdAt: new Date().toISOString(),
      ...(o.note !== undefined ? { note: o.note } : {}),
      exchange: 'nova',
      hostPrefix: 'storm-c',
      topics: { rpc: { compute: 'nodes', conductor: 'conductor', scheduler: 'scheduler' }, notifications: ['versioned_notifications'] },
    },
    rules: novaRules(),
    events: kept,
  }
}
