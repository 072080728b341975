import { fileURLToPath } from 'node:url'
import { processCpuMs, spawnNode, type Child } from './procs.js'

/** bench/telemetry-sink.ts running in its own process: where to send traces, what it got, its CPU. */
export interface SinkProc {
  readonly child: Child
  /** OTLP/HTTP traces endpoint. */
  readonly url: string
  /** POSTs and bytes received so far. */
  stats(): Promise<{ posts: number; bytes: number }>
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
  return {
    child,
    url: `http://127.0.0.1:${port}/v1/traces`,
    cpuMs: () => processCpuMs(child.pid),
    stats: () =>
      new Promise((resolve) => {
        onLine = (l) => {
          if (!l.startsWith('stats ')) return
          const [, posts, bytes] = l.split(' ')
          resolve({ posts: Number(posts), bytes: Number(bytes) })
        }
        child.proc.stdin?.write('stats\n')
      }),
  }
}
