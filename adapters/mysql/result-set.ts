/**
 * Decoding and re-encoding whole text-protocol replies, for the shard-mode paths that must combine
 * several shards' replies into one (scatter reads, multi-shard writes, DDL broadcasts). A reply to
 * one shard only is never decoded: it is relayed packet by packet (client-session.ts).
 *
 * Values stay the bytes the server sent (a text row's lenenc strings), so a merged result set
 * carries exactly what a direct connection would have carried for those rows; only aggregates
 * (COUNT/SUM re-added across shards) are rendered anew. Column definitions of the first shard are
 * reused byte for byte.
 */
import type { Cell, ColumnMeta, ColumnType, Row } from '../../router/sql/merge.js'
import { eofPacket, isEof, isErr, isOk, parseErr, parseOk, type OkFields, type SqlError } from './packets.js'
import { Status } from './protocol.js'
import { PayloadBuilder, PayloadReader } from './wire-codec.js'

export interface ResultRows {
  readonly kind: 'rows'
  /** Raw column-definition payloads. */
  readonly defs: readonly Buffer[]
  readonly columns: readonly ColumnMeta[]
  readonly rows: readonly Row[]
  /** Status flags and warnings of the closing EOF. */
  readonly status: number
  readonly warnings: number
}

export type DecodedReply =
  | ResultRows
  | {
      readonly kind: 'ok'
      readonly ok: OkFields
      /** Rows the statement matched: from the OK's info text ("Rows matched: n") when the server sent one, else affected rows. */
      readonly matched: number
    }
  | { readonly kind: 'err'; readonly error: SqlError }

/** MySQL field types (enum_field_types) whose text value is a number. */
const NUMERIC_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246])
/** Date and time types: their text form sorts as written (DATETIME 'YYYY-MM-DD hh:mm:ss'). */
const TEMPORAL_TYPES = new Set([7, 10, 11, 12, 14, 17, 18, 19])
/** BIT's text value is raw bytes. */
const BIT = 16
/** Collation id 63 is `binary`: BINARY/VARBINARY/BLOB columns compare bytewise. */
const BINARY_CHARSET = 63

/** The fields of a column definition (Protocol::ColumnDefinition41) that merging and re-encoding rows need. */
export interface ColumnDefinition {
  readonly name: string
  readonly charset: number
  /** enum_field_types */
  readonly type: number
  readonly flags: number
}

export function readColumnDefinition(def: Buffer): ColumnDefinition {
  const r = new PayloadReader(def)
  for (let i = 0; i < 4; i++) r.lenencBytes() // catalog, schema, table, org_table
  const name = r.lenencBytes().toString('utf8')
  r.lenencBytes() // org_name
  r.lenenc() // length of the fixed fields (0x0c)
  const charset = r.u16()
  r.u32() // column length
  const type = r.u8()
  const flags = r.u16()
  return { name, charset, type, flags }
}

/** Name and comparison type of a column definition. */
export function columnMeta(def: Buffer): ColumnMeta {
  const { name, charset, type } = readColumnDefinition(def)
  let t: ColumnType
  if (NUMERIC_TYPES.has(type)) t = 'numeric'
  else if (TEMPORAL_TYPES.has(type)) t = 'temporal'
  else if (type === BIT || charset === BINARY_CHARSET) t = 'binary'
  else t = 'text'
  return { name, type: t }
}

function decodeRow(p: Buffer, width: number): Row {
  const r = new PayloadReader(p)
  const row: Cell[] = new Array<Cell>(width)
  for (let i = 0; i < width; i++) {
    if (p[r.pos] === 0xfb) {
      r.pos++
      row[i] = null
    } else row[i] = r.lenencBytes()
  }
  return row
}

/**
 * One complete reply (as collected from a backend) to what it says: an OK, an ERR, or one text
 * result set. A reply with several result sets (MORE_RESULTS_EXISTS) is refused by the caller;
 * here it reads as its first result.
 */
export function decodeReply(packets: readonly Buffer[]): DecodedReply {
  const first = packets[0]
  if (first === undefined) return { kind: 'err', error: { code: 2027, sqlState: 'HY000', message: 'Malformed packet: empty reply' } }
  if (isErr(first)) return { kind: 'err', error: parseErr(first) }
  if (isOk(first)) {
    const ok = parseOk(first)
    // Without CLIENT_FOUND_ROWS affected rows count changed rows only; an UPDATE's info text still
    // says how many it matched (what a transaction's write-shard rule must know).
    const info = /Rows matched: (\d+)/.exec(first.subarray(1).toString('latin1'))
    return { kind: 'ok', ok, matched: info ? Number(info[1]) : ok.affectedRows }
  }
  const width = new PayloadReader(first).lenenc()
  const defs = packets.slice(1, 1 + width)
  const rows: Row[] = []
  let i = 2 + width // after the column EOF
  for (; i < packets.length; i++) {
    const p = packets[i]!
    if (isErr(p)) return { kind: 'err', error: parseErr(p) }
    if (isEof(p)) {
      return { kind: 'rows', defs, columns: defs.map(columnMeta), rows, status: p.readUInt16LE(3), warnings: p.readUInt16LE(1) }
    }
    rows.push(decodeRow(p, width))
  }
  return { kind: 'err', error: { code: 2027, sqlState: 'HY000', message: 'Malformed packet: result set without its closing EOF' } }
}

/** A merged cell's bytes as the text protocol sends them. */
export function cellBytes(v: Exclude<Cell, null>): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return Buffer.from(String(v), 'utf8')
}

/** The packets of one text result set: column count, definitions, EOF, rows, EOF. */
export function encodeResultSet(defs: readonly Buffer[], rows: readonly Row[], status: number, warnings: number): Buffer[] {
  const out: Buffer[] = [new PayloadBuilder().lenenc(defs.length).build(), ...defs, eofPacket(status & ~Status.MORE_RESULTS_EXISTS, warnings)]
  for (const row of rows) {
    const b = new PayloadBuilder()
    for (const v of row) {
      if (v === null) b.u8(0xfb)
      else b.lenencBytes(cellBytes(v))
    }
    out.push(b.build())
  }
  out.push(eofPacket(status & ~Status.MORE_RESULTS_EXISTS, warnings))
  return out
}

/**
 * The OK of a write that ran on several shards: affected rows add up (each shard changed its own
 * rows), the insert id is the one shard that generated one (a split multi-row INSERT: the first
 * shard's, in shard order), warnings add up.
 */
export function combineOk(oks: readonly OkFields[], status: number): OkFields {
  let affectedRows = 0
  let lastInsertId = 0
  let warnings = 0
  for (const ok of oks) {
    affectedRows += ok.affectedRows
    if (lastInsertId === 0 && ok.lastInsertId > 0) lastInsertId = ok.lastInsertId
    warnings += ok.warnings
  }
  return { affectedRows, lastInsertId, status, warnings: Math.min(warnings, 0xffff) }
}
