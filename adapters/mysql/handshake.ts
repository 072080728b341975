/**
 * The connection-phase packets on the server side: the Handshake v10 greeting cellgate sends,
 * the SSLRequest / HandshakeResponse41 a client answers with, and the AuthSwitchRequest.
 */
import { Cap } from './protocol.js'
import { PayloadBuilder, PayloadReader, ProtocolDecodeError } from './wire-codec.js'

export interface Greeting {
  serverVersion: string
  connectionId: number
  scramble: Buffer
  capabilities: number
  collation: number
  status: number
  authPlugin: string
}

export function greetingPacket(g: Greeting): Buffer {
  if (g.scramble.length !== 20) throw new RangeError('scramble must be 20 bytes')
  return new PayloadBuilder()
    .u8(10)
    .nulStr(g.serverVersion)
    .u32(g.connectionId)
    .bytes(g.scramble.subarray(0, 8))
    .u8(0)
    .u16(g.capabilities & 0xffff)
    .u8(g.collation)
    .u16(g.status)
    .u16(g.capabilities >>> 16)
    .u8(21)
    .zeros(10)
    .bytes(g.scramble.subarray(8, 20))
    .u8(0)
    .nulStr(g.authPlugin)
    .build()
}

export interface HandshakeResponse {
  capabilities: number
  maxPacket: number
  collation: number
  /** Only the 32-byte SSLRequest: the client wants TLS before it sends the rest. */
  sslRequest: boolean
  user: string
  authToken: Buffer
  database: string | null
  authPlugin: string | null
}

/** Decodes an SSLRequest or HandshakeResponse41; throws ProtocolDecodeError on a malformed one. */
export function parseHandshakeResponse(p: Buffer): HandshakeResponse {
  const r = new PayloadReader(p)
  const capabilities = r.u32()
  if (!(capabilities & Cap.PROTOCOL_41)) throw new ProtocolDecodeError('client does not speak protocol 4.1')
  const maxPacket = r.u32()
  const collation = r.u8()
  r.bytes(23)
  const base = { capabilities, maxPacket, collation }
  if (r.remaining === 0) {
    if (!(capabilities & Cap.SSL)) throw new ProtocolDecodeError('handshake response without a user name')
    return { ...base, sslRequest: true, user: '', authToken: Buffer.alloc(0), database: null, authPlugin: null }
  }
  const user = r.nulString()
  let authToken: Buffer
  if (capabilities & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) authToken = r.lenencBytes()
  else if (capabilities & Cap.SECURE_CONNECTION) authToken = r.bytes(r.u8())
  else authToken = r.nulBytes()
  let database: string | null = null
  if (capabilities & Cap.CONNECT_WITH_DB && r.remaining > 0) {
    database = r.nulString()
    if (database === '') database = null
  }
  let authPlugin: string | null = null
  if (capabilities & Cap.PLUGIN_AUTH && r.remaining > 0) authPlugin = r.nulString()
  // Connection attributes (CONNECT_ATTRS) are not used; they are only skipped.
  return { ...base, sslRequest: false, user, authToken: Buffer.from(authToken), database, authPlugin }
}

/** 0xFE, plugin name, plugin data: asks the client to answer with another plugin's token. */
export function authSwitchPacket(plugin: string, scramble: Buffer): Buffer {
  return new PayloadBuilder().u8(0xfe).nulStr(plugin).bytes(scramble).u8(0).build()
}

/** 0x01 + data: caching_sha2's "more data" packet (3 = fast auth ok, 4 = send full auth). */
export function authMoreDataPacket(data: Buffer): Buffer {
  return new PayloadBuilder().u8(0x01).bytes(data).build()
}
