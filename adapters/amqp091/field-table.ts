/**
 * AMQP 0-9-1 field tables in RabbitMQ's dialect, plus the few wire primitives the generated method
 * codec (methods.generated.ts) shares with them.
 *
 * Representation is amqplib 2.3.1's (lib/codec.js), so a decoded table can be handed to amqplib's
 * publish/assertQueue unchanged: strings ('S'), numbers, booleans ('t'), Buffers ('x'), null ('V'),
 * arrays ('A'), nested objects ('F'), and the typed trapdoor `{ '!': typeName, value }`.
 *
 * Decoding is exact: a value whose wire tag differs from the tag amqplib would guess for the plain
 * JS value is returned wrapped, so decode → encode reproduces the bytes. Known, deliberate
 * exceptions, all inherent to plain-object tables: invalid UTF-8 in strings and keys, a 't' byte
 * other than 0/1 (normalised to true, as RabbitMQ does), duplicate keys (last wins) and
 * integer-like keys, which JS objects enumerate first.
 *
 *   tag  wire                    decoded as
 *   t    bool (octet)            boolean
 *   b    int8                    number
 *   B    uint8                   { '!': 'unsignedbyte', value }
 *   s    int16                   number, or { '!': 'short' } when it fits int8
 *   u    uint16                  { '!': 'unsignedshort', value }
 *   I    int32                   number, or { '!': 'int' } when it fits int16
 *   i    uint32                  { '!': 'unsignedint', value }
 *   l    int64                   number, or { '!': 'long' } when it fits int32 (value: bigint beyond 2^53)
 *   f    float32                 { '!': 'float', value }
 *   d    float64                 number, or { '!': 'double' } when it looks integral
 *   D    decimal (octet, uint32) { '!': 'decimal', value: { places, digits } }
 *   T    timestamp (uint64)      { '!': 'timestamp', value } (value: bigint beyond 2^53)
 *   S    longstr                 string (UTF-8)
 *   x    byte array              Buffer (a view into the frame payload, not a copy)
 *   V    void                    null
 *   A    array                   FieldValue[]
 *   F    table                   FieldTable, or { '!': 'object', value } when it has a '!' key
 */
import { malformed } from './codec-errors.js'

export type NumericTypeName =
  | 'byte'
  | 'unsignedbyte'
  | 'short'
  | 'unsignedshort'
  | 'int'
  | 'unsignedint'
  | 'float'
  | 'double'

export type TypedFieldValue =
  | { '!': NumericTypeName; value: number }
  | { '!': 'long' | 'timestamp'; value: number | bigint }
  | { '!': 'decimal'; value: { places: number; digits: number } }
  /** A nested table that itself has a '!' key; amqplib would otherwise take it for a trapdoor. */
  | { '!': 'object'; value: FieldTable }

export type FieldValue = string | number | boolean | Buffer | null | FieldValue[] | FieldTable | TypedFieldValue

/** Keys whose value is undefined are skipped when encoding, as amqplib does. */
export interface FieldTable {
  [key: string]: FieldValue | undefined
}

/** Deeper nesting than this is refused both ways: hostile input must not exhaust the stack. */
export const MAX_FIELD_NESTING = 32

// Tag octets (RabbitMQ's table dialect, not the one printed in the 0-9-1 spec).
const TAG_BOOL = 0x74 // t
const TAG_INT8 = 0x62 // b
const TAG_UINT8 = 0x42 // B
const TAG_INT16 = 0x73 // s
const TAG_UINT16 = 0x75 // u
const TAG_INT32 = 0x49 // I
const TAG_UINT32 = 0x69 // i
const TAG_INT64 = 0x6c // l
const TAG_FLOAT = 0x66 // f
const TAG_DOUBLE = 0x64 // d
const TAG_DECIMAL = 0x44 // D
const TAG_TIMESTAMP = 0x54 // T
const TAG_LONGSTR = 0x53 // S
const TAG_BYTES = 0x78 // x
const TAG_VOID = 0x56 // V
const TAG_ARRAY = 0x41 // A
const TAG_TABLE = 0x46 // F

/** amqplib's trapdoor names (with its aliases) → tag. */
const TAG_BY_TYPE_NAME: ReadonlyMap<string, number> = new Map([
  ['byte', TAG_INT8],
  ['int8', TAG_INT8],
  ['unsignedbyte', TAG_UINT8],
  ['uint8', TAG_UINT8],
  ['short', TAG_INT16],
  ['int16', TAG_INT16],
  ['unsignedshort', TAG_UINT16],
  ['uint16', TAG_UINT16],
  ['int', TAG_INT32],
  ['int32', TAG_INT32],
  ['unsignedint', TAG_UINT32],
  ['uint32', TAG_UINT32],
  ['long', TAG_INT64],
  ['int64', TAG_INT64],
  ['float', TAG_FLOAT],
  ['double', TAG_DOUBLE],
  ['float64', TAG_DOUBLE],
  ['decimal', TAG_DECIMAL],
  ['timestamp', TAG_TIMESTAMP],
])

const TWO_POW_32 = 0x1_0000_0000
const TWO_POW_64 = 2 ** 64
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

// ---------------------------------------------------------------------------------------------
// Wire primitives shared with the generated method codec. Readers check bounds and throw
// AmqpCodecError('MALFORMED'); writers assume the caller sized the buffer with the *Length helpers,
// which validate and throw TypeError (a bad value to encode is a cellgate bug, not bad input).
// ---------------------------------------------------------------------------------------------

/** Unsigned 64-bit read as a number (exact up to 2^53, correctly rounded above). Unchecked. */
export function readUint64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4)
}

/** Unsigned 64-bit write of a non-negative integer number, without going through BigInt. */
export function writeUint64(buf: Buffer, offset: number, value: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value < TWO_POW_64)) {
    throw new RangeError(`Expected an unsigned 64-bit integer, got ${value}`)
  }
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset)
  buf.writeUInt32BE(value >>> 0, offset + 4)
}

/** A shortstr at `offset` (length octet + UTF-8). The caller advances by 1 + buf[offset]. */
export function readShortstr(buf: Buffer, offset: number): string {
  if (offset >= buf.length) throw malformed(`shortstr length missing at offset ${offset}`)
  const start = offset + 1
  const end = start + buf[offset]!
  if (end > buf.length) throw malformed(`shortstr at offset ${offset} overruns the payload`)
  return buf.toString('utf8', start, end)
}

/** A longstr at `offset` as a view (no copy). The caller advances by 4 + result.length. */
export function readLongstr(buf: Buffer, offset: number): Buffer {
  if (offset + 4 > buf.length) throw malformed(`longstr length missing at offset ${offset}`)
  const start = offset + 4
  const end = start + buf.readUInt32BE(offset)
  if (end > buf.length) throw malformed(`longstr at offset ${offset} overruns the payload`)
  return buf.subarray(start, end)
}

/** UTF-8 length of a shortstr value; throws TypeError if it is not a string of at most 255 bytes. */
export function shortstrLength(value: string, field: string): number {
  if (typeof value !== 'string') throw new TypeError(`Field '${field}' must be a string`)
  const length = Buffer.byteLength(value)
  if (length > 255) throw new TypeError(`Field '${field}' is ${length} bytes; a shortstr holds at most 255`)
  return length
}

/** Length of a longstr value; throws TypeError if it is not a Buffer. */
export function longstrLength(value: Buffer, field: string): number {
  if (!Buffer.isBuffer(value)) throw new TypeError(`Field '${field}' must be a Buffer`)
  return value.length
}

/** Writes a shortstr already validated by shortstrLength; returns the offset after it. */
export function writeShortstr(buf: Buffer, offset: number, value: string): number {
  const length = buf.write(value, offset + 1)
  buf[offset] = length
  return offset + 1 + length
}

/** Writes a longstr; returns the offset after it. */
export function writeLongstr(buf: Buffer, offset: number, value: Buffer): number {
  buf.writeUInt32BE(value.length, offset)
  return offset + 4 + value.copy(buf, offset + 4)
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

// The read position while decoding one table. Module state rather than a cursor object because the
// decoder is synchronous, calls no user code and so cannot be re-entered; it saves an allocation
// and a closure per table on the hot path (message headers).
let pos = 0

/**
 * Decodes the length-prefixed table at `offset`. Does not require the table to end the buffer; the
 * caller advances by 4 + buf.readUInt32BE(offset).
 */
export function decodeFieldTable(buf: Buffer, offset = 0): FieldTable {
  const end = sizedSection(buf, offset, 'table')
  pos = offset + 4
  return readTableEntries(buf, end, 0)
}

/** Decodes the length-prefixed field array at `offset`. */
export function decodeFieldArray(buf: Buffer, offset = 0): FieldValue[] {
  const end = sizedSection(buf, offset, 'array')
  pos = offset + 4
  return readArrayItems(buf, end, 0)
}

function sizedSection(buf: Buffer, offset: number, what: string): number {
  if (offset + 4 > buf.length) throw malformed(`${what} length missing at offset ${offset}`)
  const end = offset + 4 + buf.readUInt32BE(offset)
  if (end > buf.length) throw malformed(`${what} at offset ${offset} overruns its container`)
  return end
}

function need(end: number, n: number): void {
  if (pos + n > end) throw malformed(`field value at offset ${pos} overruns its table`)
}

function readTableEntries(buf: Buffer, end: number, depth: number): FieldTable {
  if (depth > MAX_FIELD_NESTING) throw malformed(`field tables nested deeper than ${MAX_FIELD_NESTING}`)
  const table: FieldTable = {}
  while (pos < end) {
    const keyStart = pos + 1
    const keyEnd = keyStart + buf[pos]!
    if (keyEnd > end) throw malformed(`field name at offset ${pos} overruns its table`)
    const key = buf.toString('utf8', keyStart, keyEnd)
    pos = keyEnd
    const value = readValue(buf, end, depth)
    // A '__proto__' key must become an own property, not replace the object's prototype.
    if (key === '__proto__') {
      Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true })
    } else {
      table[key] = value
    }
  }
  return table
}

function readArrayItems(buf: Buffer, end: number, depth: number): FieldValue[] {
  if (depth > MAX_FIELD_NESTING) throw malformed(`field arrays nested deeper than ${MAX_FIELD_NESTING}`)
  const items: FieldValue[] = []
  while (pos < end) items.push(readValue(buf, end, depth))
  return items
}

/** Reads one tagged value at `pos`, which must end by `end`. */
function readValue(buf: Buffer, end: number, depth: number): FieldValue {
  need(end, 1)
  const tag = buf[pos++]!
  switch (tag) {
    case TAG_LONGSTR: {
      const stop = lengthPrefixedEnd(buf, end)
      const value = buf.toString('utf8', pos, stop)
      pos = stop
      return value
    }
    case TAG_BOOL:
      need(end, 1)
      return buf[pos++] !== 0
    case TAG_INT8:
      need(end, 1)
      return buf.readInt8(pos++)
    case TAG_UINT8:
      need(end, 1)
      return { '!': 'unsignedbyte', value: buf[pos++]! }
    case TAG_INT16: {
      need(end, 2)
      const value = buf.readInt16BE(pos)
      pos += 2
      return guessTag(value) === TAG_INT16 ? value : { '!': 'short', value }
    }
    case TAG_UINT16: {
      need(end, 2)
      const value = buf.readUInt16BE(pos)
      pos += 2
      return { '!': 'unsignedshort', value }
    }
    case TAG_INT32: {
      need(end, 4)
      const value = buf.readInt32BE(pos)
      pos += 4
      return guessTag(value) === TAG_INT32 ? value : { '!': 'int', value }
    }
    case TAG_UINT32: {
      need(end, 4)
      const value = buf.readUInt32BE(pos)
      pos += 4
      return { '!': 'unsignedint', value }
    }
    case TAG_INT64: {
      need(end, 8)
      const value = exactNumber(buf.readBigInt64BE(pos))
      pos += 8
      return typeof value === 'number' && guessTag(value) === TAG_INT64 ? value : { '!': 'long', value }
    }
    case TAG_FLOAT: {
      need(end, 4)
      const value = buf.readFloatBE(pos)
      pos += 4
      return { '!': 'float', value }
    }
    case TAG_DOUBLE: {
      need(end, 8)
      const value = buf.readDoubleBE(pos)
      pos += 8
      return guessTag(value) === TAG_DOUBLE ? value : { '!': 'double', value }
    }
    case TAG_DECIMAL: {
      need(end, 5)
      const places = buf[pos]!
      const digits = buf.readUInt32BE(pos + 1)
      pos += 5
      return { '!': 'decimal', value: { places, digits } }
    }
    case TAG_TIMESTAMP: {
      need(end, 8)
      const value = exactNumber(buf.readBigUInt64BE(pos))
      pos += 8
      return { '!': 'timestamp', value }
    }
    case TAG_BYTES: {
      const stop = lengthPrefixedEnd(buf, end)
      const value = buf.subarray(pos, stop)
      pos = stop
      return value
    }
    case TAG_VOID:
      return null
    case TAG_ARRAY: {
      const stop = lengthPrefixedEnd(buf, end)
      return readArrayItems(buf, stop, depth + 1)
    }
    case TAG_TABLE: {
      const stop = lengthPrefixedEnd(buf, end)
      const table = readTableEntries(buf, stop, depth + 1)
      return Object.hasOwn(table, '!') ? { '!': 'object', value: table } : table
    }
    default:
      throw malformed(`unknown field type tag 0x${tag.toString(16)} at offset ${pos - 1}`)
  }
}

/** Reads a uint32 length at `pos`, checks the section fits in `end`, leaves pos at its first byte. */
function lengthPrefixedEnd(buf: Buffer, end: number): number {
  need(end, 4)
  const stop = pos + 4 + buf.readUInt32BE(pos)
  pos += 4
  if (stop > end) throw malformed(`field value at offset ${pos - 5} overruns its table`)
  return stop
}

/** A number when it represents the integer exactly, else the bigint, so re-encoding is lossless. */
function exactNumber(value: bigint): number | bigint {
  const n = Number(value)
  return Number.isSafeInteger(n) || BigInt(n) === value ? n : value
}

// ---------------------------------------------------------------------------------------------
// Encoding: a sizing pass that validates (so the frame is allocated once), then a writing pass.
// ---------------------------------------------------------------------------------------------

/** Encodes a table with its 4-byte length prefix into a new Buffer. */
export function encodeFieldTable(table: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(fieldTableSize(table))
  writeFieldTable(buf, 0, table)
  return buf
}

/** Encodes a field array with its 4-byte length prefix into a new Buffer. */
export function encodeFieldArray(items: readonly FieldValue[]): Buffer {
  const buf = Buffer.allocUnsafe(4 + arrayItemsSize(items, 0))
  writeArray(buf, 0, items)
  return buf
}

/** Encoded size of a table, length prefix included. Throws TypeError for unencodable values. */
export function fieldTableSize(table: FieldTable): number {
  return 4 + tableEntriesSize(table, 0)
}

/** Writes a table sized by fieldTableSize (which validated it); returns the offset after it. */
export function writeFieldTable(buf: Buffer, offset: number, table: FieldTable): number {
  let o = offset + 4
  for (const key in table) {
    const value = table[key]
    if (value === undefined) continue
    o = writeShortstr(buf, o, key)
    o = writeValue(buf, o, value)
  }
  buf.writeUInt32BE(o - offset - 4, offset)
  return o
}

function writeArray(buf: Buffer, offset: number, items: readonly FieldValue[]): number {
  let o = offset + 4
  for (let i = 0; i < items.length; i++) o = writeValue(buf, o, items[i]!)
  buf.writeUInt32BE(o - offset - 4, offset)
  return o
}

// Tables are walked with for-in like amqplib, so inherited enumerable keys (amqplib itself builds
// headers with Object.create(userHeaders)) are encoded too.
function tableEntriesSize(table: FieldTable, depth: number): number {
  if (typeof table !== 'object' || table === null) throw new TypeError('A field table must be an object')
  if (depth > MAX_FIELD_NESTING) throw new TypeError(`Field tables nested deeper than ${MAX_FIELD_NESTING}`)
  let size = 0
  for (const key in table) {
    const value = table[key]
    if (value === undefined) continue
    size += 1 + shortstrLength(key, 'field table key') + valueSize(value, depth)
  }
  return size
}

function arrayItemsSize(items: readonly FieldValue[], depth: number): number {
  if (depth > MAX_FIELD_NESTING) throw new TypeError(`Field arrays nested deeper than ${MAX_FIELD_NESTING}`)
  let size = 0
  for (let i = 0; i < items.length; i++) size += valueSize(items[i], depth)
  return size
}

/** amqplib's rule: is this number better sent as a double than as an integer? */
function isFloatingPoint(n: number): boolean {
  return n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n)
}

/** The tag amqplib picks for a plain JS number. */
function guessTag(n: number): number {
  if (isFloatingPoint(n)) return TAG_DOUBLE
  if (n >= -0x80 && n < 0x80) return TAG_INT8
  if (n >= -0x8000 && n < 0x8000) return TAG_INT16
  if (n >= -0x80000000 && n < 0x80000000) return TAG_INT32
  return TAG_INT64
}

function isTyped(value: unknown): value is { '!': unknown; value: unknown } {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, '!')
}

/** The tag a value encodes as, trapdoor resolved; TypeError when amqplib could not encode it either. */
function tagOf(value: unknown): number {
  if (!isTyped(value)) return plainTag(value)
  const name = value['!']
  const tag = typeof name === 'string' ? TAG_BY_TYPE_NAME.get(name) : undefined
  if (tag !== undefined) return tag
  // amqplib also accepts the JS type names ('object', 'string', 'number', 'boolean').
  if (typeof name === 'string' && name === typeof value.value) return plainTag(value.value)
  throw new TypeError(`Cannot encode field value of type '${String(name)}'`)
}

function plainTag(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return TAG_LONGSTR
    case 'number':
      return guessTag(value)
    case 'boolean':
      return TAG_BOOL
    case 'object':
      if (value === null) return TAG_VOID
      if (Array.isArray(value)) return TAG_ARRAY
      if (Buffer.isBuffer(value)) return TAG_BYTES
      return TAG_TABLE
    default:
      throw new TypeError(`Cannot encode a ${typeof value} in a field table`)
  }
}

function unwrap(value: unknown): unknown {
  return isTyped(value) ? value.value : value
}

/** Encoded size (tag included) of one value; validates what the writer will assume. */
function valueSize(value: unknown, depth: number): number {
  const tag = tagOf(value)
  const v = unwrap(value)
  switch (tag) {
    case TAG_LONGSTR:
      if (typeof v !== 'string') throw new TypeError('A string field value must be a string')
      return 5 + Buffer.byteLength(v)
    case TAG_BOOL:
      return 2
    case TAG_VOID:
      return 1
    case TAG_BYTES:
      return 5 + (v as Buffer).length
    case TAG_ARRAY:
      return 5 + arrayItemsSize(v as FieldValue[], depth + 1)
    case TAG_TABLE:
      return 5 + tableEntriesSize(v as FieldTable, depth + 1)
    case TAG_INT8:
      return 1 + checkInt(v, -0x80, 0x7f, 1)
    case TAG_UINT8:
      return 1 + checkInt(v, 0, 0xff, 1)
    case TAG_INT16:
      return 1 + checkInt(v, -0x8000, 0x7fff, 2)
    case TAG_UINT16:
      return 1 + checkInt(v, 0, 0xffff, 2)
    case TAG_INT32:
      return 1 + checkInt(v, -0x80000000, 0x7fffffff, 4)
    case TAG_UINT32:
      return 1 + checkInt(v, 0, 0xffffffff, 4)
    case TAG_INT64:
      return 1 + checkInt64(v, INT64_MIN, INT64_MAX)
    case TAG_TIMESTAMP:
      return 1 + checkInt64(v, 0n, UINT64_MAX)
    case TAG_FLOAT:
      return 1 + checkFloat(v, 4)
    case TAG_DOUBLE:
      return 1 + checkFloat(v, 8)
    case TAG_DECIMAL: {
      const d = v as { places?: unknown; digits?: unknown } | null
      if (typeof d !== 'object' || d === null) throw new TypeError('A decimal must be { places, digits }')
      checkInt(d.places, 0, 0xff, 1)
      checkInt(d.digits, 0, 0xffffffff, 4)
      return 6
    }
    default:
      throw new TypeError(`[BUG] no size for field tag 0x${tag.toString(16)}`)
  }
}

function checkInt(v: unknown, min: number, max: number, size: number): number {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) {
    throw new TypeError(`Field value ${String(v)} is not an integer in [${min}, ${max}]`)
  }
  return size
}

function checkInt64(v: unknown, min: bigint, max: bigint): number {
  const big = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined
  if (big === undefined || big < min || big > max) {
    throw new TypeError(`Field value ${String(v)} is not a 64-bit integer in [${min}, ${max}]`)
  }
  return 8
}

function checkFloat(v: unknown, size: number): number {
  if (typeof v !== 'number') throw new TypeError(`Field value ${String(v)} is not a number`)
  return size
}

function writeValue(buf: Buffer, offset: number, value: FieldValue): number {
  const tag = tagOf(value)
  const v = unwrap(value)
  let o = offset
  buf[o++] = tag
  switch (tag) {
    case TAG_LONGSTR: {
      const length = buf.write(v as string, o + 4)
      buf.writeUInt32BE(length, o)
      return o + 4 + length
    }
    case TAG_BOOL:
      buf[o] = v ? 1 : 0
      return o + 1
    case TAG_VOID:
      return o
    case TAG_BYTES:
      return writeLongstr(buf, o, v as Buffer)
    case TAG_ARRAY:
      return writeArray(buf, o, v as FieldValue[])
    case TAG_TABLE:
      return writeFieldTable(buf, o, v as FieldTable)
    case TAG_INT8:
      return buf.writeInt8(v as number, o)
    case TAG_UINT8:
      return buf.writeUInt8(v as number, o)
    case TAG_INT16:
      return buf.writeInt16BE(v as number, o)
    case TAG_UINT16:
      return buf.writeUInt16BE(v as number, o)
    case TAG_INT32:
      return buf.writeInt32BE(v as number, o)
    case TAG_UINT32:
      return buf.writeUInt32BE(v as number, o)
    case TAG_INT64:
      return buf.writeBigInt64BE(BigInt(v as number | bigint), o)
    case TAG_TIMESTAMP:
      return buf.writeBigUInt64BE(BigInt(v as number | bigint), o)
    case TAG_FLOAT:
      return buf.writeFloatBE(v as number, o)
    case TAG_DOUBLE:
      return buf.writeDoubleBE(v as number, o)
    case TAG_DECIMAL: {
      const d = v as { places: number; digits: number }
      buf[o] = d.places
      return buf.writeUInt32BE(d.digits, o + 1)
    }
    default:
      throw new TypeError(`[BUG] no writer for field tag 0x${tag.toString(16)}`)
  }
}
