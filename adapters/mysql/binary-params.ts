/**
 * COM_STMT_EXECUTE parameters (binary protocol), for shard mode: decoded once per execution so
 * the statement can be planned as the equivalent text (each value rendered as a SQL literal,
 * router/sql/placeholders.ts), and re-encoded for the shard's own statement id with every value
 * inline (types always bound, long data folded in), because the shard-side statement may have
 * been prepared just now and has never seen the client's earlier types or long data.
 *
 * Packet: 0x17, stmt id u32, flags u8, iteration count u32, then for n > 0 parameters a NULL
 * bitmap ((n+7)/8 bytes), new-params-bound u8, [type u8, flag u8] * n when bound, values of the
 * non-NULL parameters that were not sent with COM_STMT_SEND_LONG_DATA.
 */
import type { SqlError } from './packets.js'
import { Com } from './protocol.js'
import { PayloadBuilder, PayloadReader, lenencIntBytes } from './wire-codec.js'

/** enum_field_types values the codec needs. */
const T = {
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
} as const

const UNSIGNED = 0x80
/** Cursor types (READ_ONLY, FOR_UPDATE, SCROLLABLE): COM_STMT_FETCH would follow. */
export const CURSOR_FLAGS = 0x07

export interface BoundParam {
  readonly type: number
  readonly flag: number
  /** The value as the protocol encodes it (lenenc for strings), or null for NULL. */
  readonly raw: Buffer | null
}

export interface ExecuteRequest {
  readonly statementId: number
  readonly flags: number
  /** [type, flag] per parameter: what the client bound (or bound before, when it sent 0). */
  readonly types: Buffer
  readonly params: readonly BoundParam[]
}

const wrongArguments = (why: string): SqlError => ({ code: 1210, sqlState: 'HY000', message: `Incorrect arguments to mysqld_stmt_execute (${why})` })

function fixedWidth(type: number): number | null {
  switch (type) {
    case T.TINY:
      return 1
    case T.SHORT:
    case T.YEAR:
      return 2
    case T.LONG:
    case T.INT24:
    case T.FLOAT:
      return 4
    case T.LONGLONG:
    case T.DOUBLE:
      return 8
    case T.NULL:
      return 0
    default:
      return null
  }
}

const isTemporal = (type: number): boolean => type === T.DATE || type === T.DATETIME || type === T.TIMESTAMP || type === T.TIME

/**
 * Decodes an execute packet for a statement with `count` parameters. `remembered` are the types
 * of the previous execution (new-params-bound = 0 reuses them); `longData` the bytes each
 * parameter received through COM_STMT_SEND_LONG_DATA since the last execution.
 */
export function parseExecute(p: Buffer, count: number, remembered: Buffer | null, longData: ReadonlyMap<number, readonly Buffer[]>): ExecuteRequest | SqlError {
  const r = new PayloadReader(p, 1)
  const statementId = r.u32()
  const flags = r.u8()
  const iterations = r.u32()
  if (iterations !== 1) return wrongArguments(`iteration count ${iterations}`)
  if (count === 0) return { statementId, flags, types: Buffer.alloc(0), params: [] }
  const bitmap = r.bytes((count + 7) >> 3)
  const bound = r.u8()
  let types: Buffer
  if (bound === 1) types = Buffer.from(r.bytes(2 * count))
  else if (remembered !== null) types = remembered
  else return wrongArguments('no parameter types were ever bound')
  const params: BoundParam[] = []
  for (let i = 0; i < count; i++) {
    const type = types[2 * i]!
    const flag = types[2 * i + 1]!
    if (bitmap[i >> 3]! & (1 << (i & 7)) || type === T.NULL) {
      params.push({ type, flag, raw: null })
      continue
    }
    const long = longData.get(i)
    if (long !== undefined) {
      const data = Buffer.concat(long)
      params.push({ type, flag, raw: Buffer.concat([lenencIntBytes(data.length), data]) })
      continue
    }
    const start = r.pos
    const width = fixedWidth(type)
    if (width !== null) r.bytes(width)
    else if (isTemporal(type)) r.bytes(r.u8())
    else r.lenencBytes()
    params.push({ type, flag, raw: p.subarray(start, r.pos) })
  }
  return { statementId, flags, types, params }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** Numbers, dates and times as SQL text; null for string-like values. */
function scalarText(b: BoundParam): string | SqlError | null {
  const raw = b.raw!
  const u = (b.flag & UNSIGNED) !== 0
  switch (b.type) {
    case T.TINY:
      return String(u ? raw.readUInt8(0) : raw.readInt8(0))
    case T.SHORT:
    case T.YEAR:
      return String(u ? raw.readUInt16LE(0) : raw.readInt16LE(0))
    case T.LONG:
    case T.INT24:
      return String(u ? raw.readUInt32LE(0) : raw.readInt32LE(0))
    case T.LONGLONG:
      return String(u ? raw.readBigUInt64LE(0) : raw.readBigInt64LE(0))
    case T.FLOAT:
    case T.DOUBLE: {
      const v = b.type === T.FLOAT ? raw.readFloatLE(0) : raw.readDoubleLE(0)
      if (!Number.isFinite(v)) return wrongArguments(`parameter value ${v}`)
      return String(v)
    }
    case T.DATE:
    case T.DATETIME:
    case T.TIMESTAMP: {
      const n = raw[0]!
      if (n === 0) return b.type === T.DATE ? "'0000-00-00'" : "'0000-00-00 00:00:00'"
      const date = `${pad(raw.readUInt16LE(1), 4)}-${pad(raw[3]!)}-${pad(raw[4]!)}`
      if (n < 7) return `'${date}'`
      const time = `${pad(raw[5]!)}:${pad(raw[6]!)}:${pad(raw[7]!)}`
      return n >= 11 ? `'${date} ${time}.${pad(raw.readUInt32LE(8), 6)}'` : `'${date} ${time}'`
    }
    case T.TIME: {
      const n = raw[0]!
      if (n === 0) return "'00:00:00'"
      const sign = raw[1] ? '-' : ''
      const hours = raw.readUInt32LE(2) * 24 + raw[6]!
      const t = `${sign}${pad(hours)}:${pad(raw[7]!)}:${pad(raw[8]!)}`
      return n >= 12 ? `'${t}.${pad(raw.readUInt32LE(9), 6)}'` : `'${t}'`
    }
    default:
      return null
  }
}

function stringBytes(b: BoundParam): Buffer {
  return new PayloadReader(b.raw!).lenencBytes()
}

const ESCAPE: Record<number, string> = { 0: '\\0', 10: '\\n', 13: '\\r', 26: '\\Z', 34: '\\"', 39: "\\'", 92: '\\\\' }

/**
 * The value as a SQL literal: what the planner reads for routing, and what the shards run when
 * the bound statement goes the text way (multi-shard writes, DDL). Strings keep their own bytes,
 * escaped as mysql_real_escape_string does (only doubled quotes under NO_BACKSLASH_ESCAPES);
 * bytes that are not UTF-8 (statement text is) become X'…'.
 */
export function literal(b: BoundParam, noBackslashEscapes: boolean): Buffer | SqlError {
  if (b.raw === null) return Buffer.from('NULL')
  const s = scalarText(b)
  if (typeof s === 'string') return Buffer.from(s, 'latin1')
  if (s !== null) return s
  const bytes = stringBytes(b)
  if (!Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) return Buffer.from(`X'${bytes.toString('hex')}'`, 'latin1')
  const out: number[] = [39]
  for (const c of bytes) {
    if (noBackslashEscapes) {
      out.push(c)
      if (c === 39) out.push(39)
      continue
    }
    const e = ESCAPE[c]
    if (e === undefined) out.push(c)
    else for (let k = 0; k < e.length; k++) out.push(e.charCodeAt(k))
  }
  out.push(39)
  return Buffer.from(out)
}

/** COM_STMT_EXECUTE for a shard's statement id: no cursor, types bound, every value inline. */
export function executePacket(backendId: number, req: ExecuteRequest): Buffer {
  const b = new PayloadBuilder().u8(Com.STMT_EXECUTE).u32(backendId).u8(0).u32(1)
  const n = req.params.length
  if (n === 0) return b.build()
  const bitmap = Buffer.alloc((n + 7) >> 3)
  req.params.forEach((x, i) => {
    if (x.raw === null) bitmap[i >> 3]! |= 1 << (i & 7)
  })
  b.bytes(bitmap).u8(1).bytes(req.types)
  for (const x of req.params) if (x.raw !== null) b.bytes(x.raw)
  return b.build()
}

export const closePacket = (id: number): Buffer => new PayloadBuilder().u8(Com.STMT_CLOSE).u32(id).build()

export const preparePacket = (sql: Buffer): Buffer => Buffer.concat([Buffer.from([Com.STMT_PREPARE]), sql])
