import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { ClientConnection, type ConnectionContext } from './client-connection.js'

export interface ListenOptions {
  host: string
  port: number
  tls?: { cert: string; key: string; ca?: string }
}

/** A listening AMQP endpoint (plain or TLS); each accepted socket becomes a ClientConnection. */
export class AmqpListener {
  private readonly connections = new Map<Socket, ClientConnection>()
  private serial = 0

  private constructor(
    private readonly server: Server,
    readonly kind: 'amqp' | 'amqps',
  ) {}

  static async listen(opts: ListenOptions, ctx: ConnectionContext): Promise<AmqpListener> {
    const kind = opts.tls ? 'amqps' : 'amqp'
    const server = opts.tls
      ? createTlsServer({
          cert: readFileSync(opts.tls.cert),
          key: readFileSync(opts.tls.key),
          ...(opts.tls.ca ? { ca: readFileSync(opts.tls.ca) } : {}),
        })
      : createServer()
    const listener = new AmqpListener(server, kind)
    server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Socket) => listener.accept(socket, ctx))
    server.on('tlsClientError', (err: Error) => ctx.log.info('TLS handshake failed', { err: err.message }))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return listener
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo
  }

  get connectionCount(): number {
    return this.connections.size
  }

  /**
   * Stops accepting and tells every client, as RabbitMQ does on shutdown (320 CONNECTION_FORCED),
   * so they reconnect at once; whoever has not closed after a grace period is cut off.
   */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const c of this.connections.values()) c.shutdown()
    const deadline = Date.now() + graceMs
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    for (const s of this.connections.keys()) s.destroy()
    await closed
  }

  private accept(socket: Socket, ctx: ConnectionContext): void {
    const id = `${this.kind}-${++this.serial}`
    this.connections.set(socket, new ClientConnection(socket, ctx, id))
    socket.once('close', () => this.connections.delete(socket))
  }
}
