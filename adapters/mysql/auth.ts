/**
 * Password verification for the two auth plugins cellgate terminates, and the client-side
 * scrambles it computes when it logs in to a backend.
 *
 *   mysql_native_password:  token = SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))
 *   caching_sha2_password:  token = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)   (fast path)
 *                           or the cleartext password (full path, over TLS or RSA-encrypted)
 *
 * Both scrambles can be checked knowing only the double hash, which is what a user entry may hold
 * instead of the password (a mysql.user-style `*HEX` native hash), so configuration need not
 * carry plaintext.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** One configured client account of the SQL front end. */
export interface SqlUser {
  /** The password in clear; enables both plugins. */
  password?: string
  /**
   * SHA1(SHA1(password)) as `*` + 40 hex digits (MariaDB's `PASSWORD()` / mysql.user format),
   * used when `password` is absent. Only mysql_native_password and caching_sha2 full auth (which
   * receives the cleartext over TLS/RSA) can be verified with it.
   */
  nativePasswordHash?: string
}

/** Client accounts by user name. */
export type SqlUsers = Readonly<Record<string, SqlUser>>

export const NATIVE = 'mysql_native_password'
export const CACHING_SHA2 = 'caching_sha2_password'

const sha1 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha1')
  for (const p of parts) h.update(p)
  return h.digest()
}
const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}
const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!
  return out
}

/** 20 scramble bytes; never NUL, because the greeting carries the second part NUL-terminated. */
export function newScramble(): Buffer {
  const b = randomBytes(20)
  for (let i = 0; i < b.length; i++) b[i] = (b[i]! % 0x7e) + 1
  return b
}

/** SHA1(SHA1(pw)) from a user entry, or null when the entry holds neither form. */
function nativeDoubleHash(u: SqlUser): Buffer | null {
  if (u.password !== undefined) return u.password === '' ? Buffer.alloc(0) : sha1(sha1(Buffer.from(u.password, 'utf8')))
  const h = u.nativePasswordHash
  if (h === undefined) return null
  if (h === '') return Buffer.alloc(0)
  const hex = h.startsWith('*') ? h.slice(1) : h
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) return null
  return Buffer.from(hex, 'hex')
}

/** True when the account has an empty password (the client then sends an empty token). */
export function hasEmptyPassword(u: SqlUser): boolean {
  const h = nativeDoubleHash(u)
  return h !== null && h.length === 0
}

export function verifyNative(u: SqlUser, scramble: Buffer, token: Buffer): boolean {
  const stored = nativeDoubleHash(u)
  if (stored === null) return false
  if (stored.length === 0) return token.length === 0
  if (token.length !== 20) return false
  const candidate = xor(token, sha1(scramble.subarray(0, 20), stored))
  return timingSafeEqual(sha1(candidate), stored)
}

/** Fast-path check; null when the entry has no cleartext password (the full path is needed). */
export function verifyCachingSha2Fast(u: SqlUser, scramble: Buffer, token: Buffer): boolean | null {
  if (u.password === undefined) return null
  if (u.password === '') return token.length === 0
  if (token.length !== 32) return false
  const stored = sha256(sha256(Buffer.from(u.password, 'utf8')))
  const candidate = xor(token, sha256(stored, scramble.subarray(0, 20)))
  return timingSafeEqual(sha256(candidate), stored)
}

/** Full-path check of a cleartext password against whichever form the entry holds. */
export function verifyCleartext(u: SqlUser, password: string): boolean {
  if (u.password !== undefined) {
    const a = Buffer.from(u.password, 'utf8')
    const b = Buffer.from(password, 'utf8')
    return a.length === b.length && timingSafeEqual(a, b)
  }
  const stored = nativeDoubleHash(u)
  if (stored === null) return false
  if (stored.length === 0) return password === ''
  return timingSafeEqual(sha1(sha1(Buffer.from(password, 'utf8'))), stored)
}

/** Client side (backend login): the native token for a password. */
export function scrambleNative(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const p1 = sha1(Buffer.from(password, 'utf8'))
  return xor(p1, sha1(scramble.subarray(0, 20), sha1(p1)))
}

/** Client side (backend login): the caching_sha2 fast-path token. */
export function scrambleCachingSha2(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const p1 = sha256(Buffer.from(password, 'utf8'))
  return xor(p1, sha256(sha256(p1), scramble.subarray(0, 20)))
}

/** `*HEX` native hash of a password, as MariaDB's PASSWORD() prints it (for configuration). */
export function nativePasswordHash(password: string): string {
  return '*' + sha1(sha1(Buffer.from(password, 'utf8'))).toString('hex').toUpperCase()
}
