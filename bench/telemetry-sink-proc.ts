import { fileURLToPath } from 'node:url'
import { processCpuMs, spawnNode, type Child } from './procs.js'
import type { SinkCounts } from './telemetry-sink.js'

export type { SinkCounts }

/** bench/telemetry-sink.ts running in its own process: where to send traces, what it got, its CPU. */
export interface SinkProc {
  readonly child: Child
  /** The OTLP/HTTP traces endpoint for `name` (each sender its own path, counted apart). */
  url(name: string): string
  /** POSTs, bytes and spans (JSON only; -1 if not counted) received so far from `name`. */
  stats(name: string): Promise<SinkCounts>
  /** CPU the sink has used (ms), so a report can show it apart from cellgate's and the load generator's. */
  cpuMs(): number | undefined
}

export async function startSink(cwd: string): Promise<SinkProc> {
  let onLine: (line: string) => void = () => {}
  const child = spawnNode('otlp-sink', [fileURLToPath(new URL('./telemetry-sink.js', import.meta.url))], { cwd, onLine: (l) => onLine(l) })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OTLP sink did not start: ${child.tail()}`)), 10_000)
    onLine = (l) => {
      if (!l.startsWith('listening ')) return
      clearTimeout(timer)
      resolve(Number(l.slice('listening '.length)))
    }
  })
  const path = (name: string): string => `/${encodeURIComponent(name)}/v1/traces`
  const waiters: ((all: Record<string, SinkCounts>) => void)[] = []
  onLine = (l) => {
    if (l.startsWith('stats ')) waiters.shift()?.(JSON.parse(l.slice('stats '.length)) as Record<string, SinkCounts>)
  }
  return {
    child,
    url: (name) => `http://127.0.0.1:${port}${path(name)}`,
    cpuMs: () => processCpuMs(child.pid),
    stats: (name) =>
      new Promise((resolve) => {
        // Answers come in the order asked: one waiter per "stats" line written.
        waiters.push((all) => resolve(all[path(name)] ?? { posts: 0, bytes: 0, spans: 0 }))
        child.proc.stdin?.write('stats\n')
      }),
  }
}
