/**
 * A blind TCP relay: every accepted socket is piped byte-for-byte to the target and back. It
 * parses nothing, so it is the floor of what any userspace proxy in front of RabbitMQ costs (two
 * extra socket hops and one extra process) — the "proxy tax floor" the benchmark compares
 * cellgate with.
 *
 * In-process: `const relay = await startTcpRelay({ port: 0, targetHost, targetPort })`.
 * As a child (what rpc-bench does, so its CPU can be read from /proc):
 *   node dist/bench/tcp-relay.js [--host 127.0.0.1] [--port 0] [--target 127.0.0.1:5672]
 * prints `listening <port>` on stdout once bound, and exits on SIGTERM / SIGINT.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { pathToFileURL } from 'node:url'

export interface TcpRelayOptions {
  host?: string
  /** 0 = any free port. */
  port: number
  targetHost: string
  targetPort: number
}

export interface TcpRelay {
  readonly port: number
  connections(): number
  close(): Promise<void>
}

export async function startTcpRelay(opts: TcpRelayOptions): Promise<TcpRelay> {
  const sockets = new Set<Socket>()
  const track = (s: Socket): void => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  }
  const server: Server = createServer({ noDelay: true }, (client) => {
    track(client)
    const upstream = createConnection({ host: opts.targetHost, port: opts.targetPort, noDelay: true })
    track(upstream)
    client.setNoDelay(true)
    // Either side failing or ending tears down both; pipe() handles backpressure both ways.
    const teardown = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', teardown)
    upstream.on('error', teardown)
    client.once('close', teardown)
    upstream.once('close', teardown)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('tcp-relay: no TCP address')
  return {
    port: addr.port,
    connections: () => sockets.size / 2,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}

async function main(argv: readonly string[]): Promise<void> {
  const target = argValue(argv, '--target') ?? '127.0.0.1:5672'
  const colon = target.lastIndexOf(':')
  const relay = await startTcpRelay({
    host: argValue(argv, '--host') ?? '127.0.0.1',
    port: Number(argValue(argv, '--port') ?? '0'),
    targetHost: colon > 0 ? target.slice(0, colon) : target,
    targetPort: colon > 0 ? Number(target.slice(colon + 1)) : 5672,
  })
  process.stdout.write(`listening ${relay.port}\n`)
  const stop = (): void => {
    void relay.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // The parent going away closes our stdin: do not outlive it.
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`tcp-relay: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
