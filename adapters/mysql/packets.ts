/**
 * Building the generic reply packets cellgate writes itself (OK, ERR, EOF) and reading the fields
 * of the ones it forwards from a backend (status flags for transaction tracking, the insert id,
 * error code and SQLSTATE for logs). Forwarded packets are never re-encoded.
 */
import { Marker } from './protocol.js'
import { PayloadBuilder, PayloadReader } from './wire-codec.js'

export interface OkFields {
  affectedRows: number
  lastInsertId: number
  status: number
  warnings: number
  info?: string
}

export function okPacket(f: OkFields): Buffer {
  const b = new PayloadBuilder().u8(Marker.OK).lenenc(f.affectedRows).lenenc(f.lastInsertId).u16(f.status).u16(f.warnings)
  if (f.info) b.str(f.info)
  return b.build()
}

export function eofPacket(status: number, warnings = 0): Buffer {
  return new PayloadBuilder().u8(Marker.EOF).u16(warnings).u16(status).build()
}

/** An error as the protocol carries it: code, 5-character SQLSTATE, message. */
export interface SqlError {
  code: number
  sqlState: string
  message: string
}

export function errPacket(e: SqlError): Buffer {
  return new PayloadBuilder().u8(Marker.ERR).u16(e.code).str('#').str(e.sqlState.padEnd(5, '0').slice(0, 5)).str(e.message).build()
}

export function isOk(p: Buffer): boolean {
  return p.length >= 7 && p[0] === Marker.OK
}

export function isErr(p: Buffer): boolean {
  return p.length >= 3 && p[0] === Marker.ERR
}

/** 0xFE starts an EOF only in a short packet: a text row can begin with 0xFE (a lenenc > 2^24). */
export function isEof(p: Buffer): boolean {
  return p[0] === Marker.EOF && p.length < 9
}

export function parseOk(p: Buffer): OkFields {
  const r = new PayloadReader(p, 1)
  const affectedRows = r.lenenc()
  const lastInsertId = r.lenenc()
  const status = r.remaining >= 2 ? r.u16() : 0
  const warnings = r.remaining >= 2 ? r.u16() : 0
  return { affectedRows, lastInsertId, status, warnings }
}

/** Status flags of an EOF packet (0 for the 1-byte pre-4.1 form). */
export function eofStatus(p: Buffer): number {
  return p.length >= 5 ? p.readUInt16LE(3) : 0
}

export function parseErr(p: Buffer): SqlError {
  const r = new PayloadReader(p, 1)
  const code = r.u16()
  let sqlState = 'HY000'
  if (r.remaining > 0 && p[r.pos] === 0x23 /* # */) {
    r.pos++
    sqlState = r.bytes(5).toString('latin1')
  }
  return { code, sqlState, message: r.rest().toString('utf8') }
}
