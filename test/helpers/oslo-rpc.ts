// The real oslo.messaging RPC servers and clients of test/python, bound to one transport URL and
// topic: what the cell-routing end-to-end tests start over and over.
import { runPy, startPy, type PyEvent, type PyProc, type Teardownable } from './python.js'

export interface ClientRun {
  code: number | null
  summary: PyEvent
  proc: PyProc
}

export interface OsloRpc {
  /** An RPC server for `host` on the topic, once it reported ready. */
  server(host: string, extra?: readonly string[]): Promise<PyProc>
  /** One rpc_client.py scenario run to its end (the owning test tears it down). */
  client(t: Teardownable, scenario: string, extra: readonly string[]): Promise<ClientRun>
}

export function osloRpc(t: Teardownable, url: string, topic: string): OsloRpc {
  return {
    server: async (host, extra = []) => {
      const p = startPy(t, 'rpc_server.py', ['--url', url, '--topic', topic, '--server', host, ...extra])
      await p.waitEvent('ready', undefined, 30_000)
      return p
    },
    client: async (tt, scenario, extra) => {
      const r = await runPy(tt, 'rpc_client.py', ['--url', url, '--topic', topic, '--scenario', scenario, ...extra], 90_000)
      return { code: r.code, summary: r.proc.named('summary').at(-1) ?? { event: 'missing' }, proc: r.proc }
    },
  }
}

/** The tags of `method` calls a server received, those starting with `prefix`. */
export function receivedTags(s: PyProc, method: string, prefix: string): string[] {
  return s.events
    .filter((e) => e.event === 'received' && e.method === method)
    .map((e) => String((e.args as { tag?: unknown } | undefined)?.tag))
    .filter((tag) => tag.startsWith(prefix))
}
