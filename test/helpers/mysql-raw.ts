// A bare MySQL protocol client for bad-input tests: sends exactly the bytes a test wants and
// collects whole reply packets, using cellgate's own packet parser.
import { connect, type Socket } from 'node:net'
import { scrambleNative } from '../../adapters/mysql/auth.js'
import { PacketParser } from '../../adapters/mysql/packet-parser.js'
import { Cap } from '../../adapters/mysql/protocol.js'
import { ResponseTracker, type ResponseKind } from '../../adapters/mysql/response-tracker.js'

export class RawMysql {
  readonly packets: Array<{ seq: number; payload: Buffer }> = []
  closed = false
  private waiters: Array<() => void> = []
  private readonly parser = new PacketParser(
    {
      onPacket: (payload, seq) => {
        this.packets.push({ seq, payload: Buffer.from(payload) })
        this.wake()
      },
      onPacketError: () => this.socket.destroy(),
    },
    1 << 26,
  )

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.parser.push(c))
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  static async open(port: number): Promise<RawMysql> {
    const s = connect({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject))
    const r = new RawMysql(s)
    await r.next() // greeting
    return r
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Next unread packet; null when the connection closed first. */
  private read = 0
  async next(timeoutMs = 5000): Promise<{ seq: number; payload: Buffer } | null> {
    const deadline = Date.now() + timeoutMs
    while (this.read >= this.packets.length) {
      if (this.closed) return null
      if (Date.now() > deadline) throw new Error('timed out waiting for a packet')
      await new Promise<void>((r) => {
        this.waiters.push(r)
        setTimeout(r, 50)
      })
    }
    return this.packets[this.read++]!
  }

  get greeting(): Buffer {
    return this.packets[0]!.payload
  }

  /** Waits until the server closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return this.closed
  }

  sendPacket(seq: number, payload: Buffer): void {
    const h = Buffer.alloc(4)
    h.writeUIntLE(payload.length, 0, 3)
    h[3] = seq
    this.socket.write(Buffer.concat([h, payload]))
  }

  /** HandshakeResponse41 with mysql_native_password; returns the server's reply packet. */
  async login(user: string, password: string): Promise<Buffer | null> {
    const g = this.greeting
    const verEnd = g.indexOf(0, 1)
    const s1 = g.subarray(verEnd + 5, verEnd + 13)
    const s2 = g.subarray(verEnd + 13 + 1 + 2 + 1 + 2 + 2 + 1 + 10, verEnd + 13 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 12)
    const token = scrambleNative(password, Buffer.concat([s1, s2]))
    const caps = Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.LONG_PASSWORD | Cap.TRANSACTIONS
    const head = Buffer.alloc(32)
    head.writeUInt32LE(caps, 0)
    head.writeUInt32LE(1 << 24, 4)
    head[8] = 45
    this.sendPacket(1, Buffer.concat([head, Buffer.from(user + '\0'), Buffer.from([token.length]), token, Buffer.from('mysql_native_password\0')]))
    return (await this.next())?.payload ?? null
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Code and SQLSTATE of an ERR packet, or null for anything else. */
export function errOf(p: Buffer | null | undefined): { code: number; sqlState: string; message: string } | null {
  if (!p || p[0] !== 0xff) return null
  return { code: p.readUInt16LE(1), sqlState: p.subarray(4, 9).toString('latin1'), message: p.subarray(9).toString('utf8') }
}

/** Logs in as `user` and, if given, selects `database` with COM_INIT_DB; throws on any ERR. */
export async function rawSession(port: number, user: string, password: string, database?: string): Promise<RawMysql> {
  const r = await RawMysql.open(port)
  const hello = await r.login(user, password)
  if (!hello || hello[0] !== 0) throw new Error(`login failed: ${JSON.stringify(errOf(hello))}`)
  if (database !== undefined) {
    const [ok] = await rawCommand(r, Buffer.concat([Buffer.from([0x02]), Buffer.from(database)]), 'simple')
    if (ok?.[0] !== 0) throw new Error(`COM_INIT_DB failed: ${JSON.stringify(errOf(ok))}`)
  }
  return r
}

/** Sends one command (sequence 0) and reads its whole reply, cellgate's ResponseTracker finding the end. */
export async function rawCommand(r: RawMysql, payload: Buffer, kind: ResponseKind): Promise<Buffer[]> {
  r.sendPacket(0, payload)
  const tracker = new ResponseTracker(kind, 0)
  const out: Buffer[] = []
  for (;;) {
    const p = await r.next()
    if (p === null) throw new Error(`connection closed after ${out.length} reply packets`)
    out.push(p.payload)
    if (tracker.push(p.payload)) return out
  }
}
