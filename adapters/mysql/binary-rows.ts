/**
 * Text result-set rows re-encoded as a binary-protocol result set (ProtocolBinary::ResultsetRow),
 * for a prepared SELECT whose rows come from several shards: the shards run the bound text, their
 * text rows are merged (router/sql/merge.ts) and the client, which sent COM_STMT_EXECUTE, must
 * read binary rows. Column definitions are the same packets in both protocols; each value is
 * encoded from its text form by the column's type, as the server would have sent it.
 */
import type { Cell, Row } from '../../router/sql/merge.js'
import { eofPacket, type SqlError } from './packets.js'
import { Status } from './protocol.js'
import { cellBytes, readColumnDefinition } from './result-set.js'
import { PayloadBuilder, lenencIntBytes } from './wire-codec.js'

const UNSIGNED_FLAG = 0x20

interface ColumnType {
  readonly type: number
  readonly unsigned: boolean
}

function columnType(def: Buffer): ColumnType {
  const { type, flags } = readColumnDefinition(def)
  return { type, unsigned: (flags & UNSIGNED_FLAG) !== 0 }
}

const cellText = (v: Exclude<Cell, null>): string => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') : String(v))

const bad = (why: string): SqlError => ({ code: 9102, sqlState: 'HY000', message: `cellgate: not routable in shard mode: cannot encode a merged row for the binary protocol (${why})` })

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/
const TIME = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/
const micros = (f: string | undefined): number => (f === undefined ? 0 : Number(f.padEnd(6, '0')))

function encodeValue(c: ColumnType, v: Exclude<Cell, null>): Buffer | SqlError {
  const text = (): string => cellText(v)
  const fixed = (n: number, write: (b: Buffer) => void): Buffer => {
    const b = Buffer.alloc(n)
    write(b)
    return b
  }
  switch (c.type) {
    case 1:
      return fixed(1, (b) => (c.unsigned ? b.writeUInt8(Number(text())) : b.writeInt8(Number(text()))))
    case 2:
    case 13:
      return fixed(2, (b) => (c.unsigned ? b.writeUInt16LE(Number(text())) : b.writeInt16LE(Number(text()))))
    case 3:
    case 9:
      return fixed(4, (b) => (c.unsigned ? b.writeUInt32LE(Number(text())) : b.writeInt32LE(Number(text()))))
    case 8:
      return fixed(8, (b) => (c.unsigned ? b.writeBigUInt64LE(BigInt(text())) : b.writeBigInt64LE(BigInt(text()))))
    case 4:
      return fixed(4, (b) => b.writeFloatLE(Number(text())))
    case 5:
      return fixed(8, (b) => b.writeDoubleLE(Number(text())))
    case 7:
    case 10:
    case 12: {
      const m = DATETIME.exec(text())
      if (m === null) return bad(`date value ${JSON.stringify(text())}`)
      const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
      const us = micros(m[7])
      const b = new PayloadBuilder()
      if (y === 0 && mo === 0 && d === 0 && h === 0 && mi === 0 && s === 0 && us === 0) return Buffer.from([0])
      const len = us !== 0 ? 11 : h !== 0 || mi !== 0 || s !== 0 ? 7 : 4
      b.u8(len).u16(y).u8(mo).u8(d)
      if (len >= 7) b.u8(h).u8(mi).u8(s)
      if (len === 11) b.u32(us)
      return b.build()
    }
    case 11: {
      const m = TIME.exec(text())
      if (m === null) return bad(`time value ${JSON.stringify(text())}`)
      const hours = Number(m[2])
      const [mi, s, us] = [Number(m[3]), Number(m[4]), micros(m[5])]
      if (hours === 0 && mi === 0 && s === 0 && us === 0) return Buffer.from([0])
      const b = new PayloadBuilder().u8(us !== 0 ? 12 : 8).u8(m[1] ? 1 : 0).u32(Math.floor(hours / 24)).u8(hours % 24).u8(mi).u8(s)
      if (us !== 0) b.u32(us)
      return b.build()
    }
    default: {
      const bytes = cellBytes(v)
      return Buffer.concat([lenencIntBytes(bytes.length), bytes])
    }
  }
}

/** The packets of one binary result set: column count, definitions, EOF, rows, EOF; or why not. */
export function encodeBinaryResultSet(defs: readonly Buffer[], rows: readonly Row[], status: number, warnings: number): Buffer[] | SqlError {
  const types = defs.map(columnType)
  const flags = status & ~Status.MORE_RESULTS_EXISTS
  const out: Buffer[] = [new PayloadBuilder().lenenc(defs.length).build(), ...defs, eofPacket(flags, warnings)]
  const n = defs.length
  for (const row of rows) {
    const bitmap = Buffer.alloc((n + 7 + 2) >> 3)
    const values: Buffer[] = []
    for (let i = 0; i < n; i++) {
      const v = row[i] ?? null
      if (v === null) {
        bitmap[(i + 2) >> 3]! |= 1 << ((i + 2) & 7)
        continue
      }
      let e: Buffer | SqlError
      try {
        e = encodeValue(types[i]!, v)
      } catch (err) {
        // Out of range or not a number for its column type (writeInt*/BigInt throw).
        e = bad(`${(err as Error).message} in column ${i + 1}`)
      }
      if (!Buffer.isBuffer(e)) return e
      values.push(e)
    }
    out.push(Buffer.concat([Buffer.from([0]), bitmap, ...values]))
  }
  out.push(eofPacket(flags, warnings))
  return out
}
