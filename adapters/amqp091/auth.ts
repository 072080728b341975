import { createHash, timingSafeEqual } from 'node:crypto'
import { decodeFieldTable } from './field-table.js'

export interface Credentials {
  user: string
  password: string
}

/** Mechanisms offered in connection.start; oslo (py-amqp) defaults to AMQPLAIN, amqplib to PLAIN. */
export const MECHANISMS = ['AMQPLAIN', 'PLAIN'] as const

/**
 * Reads the SASL response of connection.start-ok. Returns null for anything malformed: the
 * caller refuses the login exactly as for a wrong password.
 */
export function parseSaslResponse(mechanism: string, response: Buffer): Credentials | null {
  if (mechanism === 'PLAIN') {
    // [authzid] NUL authcid NUL passwd
    const parts = response.toString('utf8').split('\0')
    if (parts.length !== 3) return null
    return { user: parts[1]!, password: parts[2]! }
  }
  if (mechanism === 'AMQPLAIN') {
    // A field table without its 4-byte length prefix.
    const framed = Buffer.allocUnsafe(response.length + 4)
    framed.writeUInt32BE(response.length, 0)
    response.copy(framed, 4)
    try {
      const table = decodeFieldTable(framed, 0)
      const user = table['LOGIN']
      const password = table['PASSWORD']
      if (typeof user !== 'string' || typeof password !== 'string') return null
      return { user, password }
    } catch {
      return null
    }
  }
  return null
}

export interface UserRecord {
  name: string
  password?: string
  passwordSha256?: string
  vhosts: readonly string[]
}

/** The users cellgate accepts, checked without leaking timing. */
export class UserDirectory {
  private readonly byName: Map<string, UserRecord>

  constructor(users: readonly UserRecord[]) {
    this.byName = new Map(users.map((u) => [u.name, u]))
  }

  authenticate(c: Credentials): UserRecord | null {
    const u = this.byName.get(c.user)
    if (!u) return null
    const given = createHash('sha256').update(c.password, 'utf8').digest()
    const expected = u.passwordSha256
      ? Buffer.from(u.passwordSha256, 'hex')
      : createHash('sha256').update(u.password ?? '', 'utf8').digest()
    return expected.length === given.length && timingSafeEqual(expected, given) ? u : null
  }

  mayOpen(user: UserRecord, vhost: string): boolean {
    return user.vhosts.includes('*') || user.vhosts.includes(vhost)
  }
}
