#!/usr/bin/env node
// Generates adapters/amqp091/methods.generated.ts from the AMQP 0-9-1 spec JSON (RabbitMQ's
// codegen format) kept outside the project in ../shared/spec/.
//
//   node scripts/gen-amqp-methods.mjs [--check] [path/to/amqp-rabbitmq-0.9.1.json]
//
// --check regenerates in memory and exits 1 when the committed file differs (used by
// test/unit/amqp-codec-generated.test.ts), so the generated code cannot drift from this script.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const DEFAULT_SPEC = new URL('../../shared/spec/amqp-rabbitmq-0.9.1.json', import.meta.url)
const OUTPUT = new URL('../adapters/amqp091/methods.generated.ts', import.meta.url)

// Classes whose methods are on the hot path (publish/deliver/ack) are tested first when
// dispatching; the rest keep the spec's order.
const HOT_CLASSES = ['basic']

// Size in bytes of the fixed-width domains; bits are packed separately.
const FIXED_SIZE = { octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8 }

const TS_TYPE = {
  bit: 'boolean',
  octet: 'number',
  short: 'number',
  long: 'number',
  longlong: 'number',
  timestamp: 'number',
  shortstr: 'string',
  longstr: 'Buffer',
  table: 'FieldTable',
}

// Names that cannot be local variables in strict-mode code.
const RESERVED_LOCALS = new Set(['arguments', 'eval'])

function main(argv) {
  const check = argv.includes('--check')
  const specArg = argv.find((a) => !a.startsWith('--'))
  const specPath = specArg ? path.resolve(specArg) : fileURLToPath(DEFAULT_SPEC)
  const spec = JSON.parse(readFileSync(specPath, 'utf8'))
  const source = generate(spec)
  const outPath = fileURLToPath(OUTPUT)
  if (check) {
    let current = ''
    try {
      current = readFileSync(outPath, 'utf8')
    } catch {
      // A missing file is reported as a difference below.
    }
    if (current !== source) {
      console.error(`${path.relative(process.cwd(), outPath)} is out of date; run: npm run gen:amqp`)
      process.exit(1)
    }
    console.log(`${path.relative(process.cwd(), outPath)} is up to date`)
    return
  }
  writeFileSync(outPath, source)
  console.log(`wrote ${path.relative(process.cwd(), outPath)}`)
}

// ---------------------------------------------------------------------------------------------
// Spec model
// ---------------------------------------------------------------------------------------------

function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase())
}

function pascal(name) {
  const c = camel(name)
  return c[0].toUpperCase() + c.slice(1)
}

function hex32(n) {
  return `0x${n.toString(16).padStart(8, '0').replace(/^(.{4})/, '$1_')}`
}

/** Flattens the spec into classes and methods with resolved wire types and TS names. */
function model(spec) {
  const domains = new Map(spec.domains)
  const resolve = (field) => {
    let type = field.type ?? field.domain
    // Domains may be defined in terms of other domains; base types map to themselves.
    for (let hops = 0; domains.has(type) && domains.get(type) !== type; hops++) {
      if (hops > 10) throw new Error(`domain cycle at ${type}`)
      type = domains.get(type)
    }
    if (!(type in TS_TYPE)) throw new Error(`unsupported wire type ${type} for ${field.name}`)
    return type
  }
  const classes = spec.classes.map((c) => ({
    name: c.name,
    id: c.id,
    properties: (c.properties ?? []).map((p) => ({ name: p.name, field: camel(p.name), type: resolve(p) })),
    methods: c.methods.map((m) => {
      const fullName = `${c.name}.${m.name}`
      const args = m.arguments.map((a) => {
        const field = camel(a.name)
        return { name: a.name, field, local: RESERVED_LOCALS.has(field) ? `${field}Value` : field, type: resolve(a) }
      })
      return {
        fullName,
        pascal: pascal(c.name) + pascal(m.name),
        classId: c.id,
        methodId: m.id,
        id: ((c.id << 16) | m.id) >>> 0,
        synchronous: m.synchronous === true,
        hasContent: m.content === true,
        args,
      }
    }),
  }))
  const hot = classes.filter((c) => HOT_CLASSES.includes(c.name))
  const rest = classes.filter((c) => !HOT_CLASSES.includes(c.name))
  return {
    spec,
    classes,
    methods: classes.flatMap((c) => c.methods),
    dispatchOrder: [...hot, ...rest].flatMap((c) => c.methods),
  }
}

/**
 * Groups arguments into wire items: runs of fixed-width fields (bits packed into shared octets,
 * a new octet after 8 bits or after any non-bit field) and single variable-width fields.
 */
function layout(args) {
  const items = []
  let run = null
  let bitOctet = null
  for (const arg of args) {
    if (arg.type === 'shortstr' || arg.type === 'longstr' || arg.type === 'table') {
      run = null
      bitOctet = null
      items.push({ kind: arg.type, arg })
      continue
    }
    if (run === null) {
      run = { kind: 'fixed', size: 0, fields: [] }
      items.push(run)
    }
    if (arg.type === 'bit') {
      if (bitOctet === null || bitOctet.bits.length === 8) {
        bitOctet = { kind: 'bits', at: run.size, bits: [] }
        run.fields.push(bitOctet)
        run.size += 1
      }
      bitOctet.bits.push(arg)
    } else {
      bitOctet = null
      run.fields.push({ kind: 'int', at: run.size, arg })
      run.size += FIXED_SIZE[arg.type]
    }
  }
  return items
}

// ---------------------------------------------------------------------------------------------
// Code generation
// ---------------------------------------------------------------------------------------------

function at(base, offset) {
  return offset === 0 ? base : `${base} + ${offset}`
}

const READ_FIXED = {
  octet: (p) => `p[${p}]!`,
  short: (p) => `p.readUInt16BE(${p})`,
  long: (p) => `p.readUInt32BE(${p})`,
  longlong: (p) => `readUint64(p, ${p})`,
  timestamp: (p) => `readUint64(p, ${p})`,
}

const WRITE_FIXED = {
  octet: (p, v) => `f.writeUInt8(${v}, ${p})`,
  short: (p, v) => `f.writeUInt16BE(${v}, ${p})`,
  long: (p, v) => `f.writeUInt32BE(${v}, ${p})`,
  longlong: (p, v) => `writeUint64(f, ${p}, ${v})`,
  timestamp: (p, v) => `writeUint64(f, ${p}, ${v})`,
}

function genHeader(m) {
  const s = m.spec
  return `// GENERATED FILE: do not edit by hand.
// Source: ../shared/spec/amqp-rabbitmq-0.9.1.json (${s.name} ${s['major-version']}-${s['minor-version']}-${s.revision} with RabbitMQ extensions)
// Regenerate: npm run gen:amqp  (node scripts/gen-amqp-methods.mjs [--check] [spec.json])
// test/unit/amqp-codec-generated.test.ts fails when this file and the generator disagree.
//
// Straight-line encoders and decoders for every method of AMQP 0-9-1, the content header
// properties, and the spec's constants. Decoders validate every length and throw only
// AmqpCodecError; decoded Buffers and tables' Buffers are views into the payload. Encoders size
// the frame first, allocate it once, and throw TypeError/RangeError for values that cannot be
// encoded (a caller bug, not bad input).
import { AmqpCodecError, malformed } from './codec-errors.js'
import {
  type FieldTable,
  decodeFieldTable,
  fieldTableSize,
  longstrLength,
  readLongstr,
  readShortstr,
  readUint64,
  shortstrLength,
  writeFieldTable,
  writeLongstr,
  writeShortstr,
  writeUint64,
} from './field-table.js'
`
}

function genConstants(m) {
  const constName = (c) => c.name.replace(/-/g, '_')
  // Reply codes carry a soft/hard class, except REPLY-SUCCESS; the rest are framing constants.
  const isReply = (c) => c.class !== undefined || c.name.startsWith('REPLY-')
  const frame = m.spec.constants.filter((c) => !isReply(c))
  const replies = m.spec.constants.filter(isReply)
  const hard = replies.filter((c) => c.class === 'hard-error')
  return `
// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

${frame.map((c) => `export const ${constName(c)} = ${c.name === 'FRAME-END' ? '0xce' : c.value}`).join('\n')}

/** Reply codes for connection.close / channel.close, by their spec names. */
export const ReplyCode = {
${replies.map((c) => `  ${constName(c)}: ${c.value},`).join('\n')}
} as const

export type ReplyCodeName = keyof typeof ReplyCode

/** True for the spec's hard errors, which close the connection; soft errors close only the channel. */
export function isHardError(code: number): boolean {
  switch (code) {
${hard.map((c) => `    case ${c.value}: // ${constName(c)}`).join('\n')}
      return true
    default:
      return false
  }
}

export const ClassId = {
${m.classes.map((c) => `  ${camel(c.name)}: ${c.id},`).join('\n')}
} as const
`
}

function genTypes(m) {
  const out = [
    `
// ---------------------------------------------------------------------------------------------
// Method arguments
// ---------------------------------------------------------------------------------------------
`,
  ]
  for (const method of m.methods) {
    const traits = [method.synchronous && 'synchronous', method.hasContent && 'carries content'].filter(Boolean)
    const doc = `/** ${method.fullName} (${method.classId}/${method.methodId})${traits.length ? `: ${traits.join(', ')}` : ''} */`
    if (method.args.length === 0) {
      out.push(`${doc}\nexport type ${method.pascal}Args = Record<string, never>\n`)
    } else {
      const fields = method.args.map((a) => `  ${a.field}: ${TS_TYPE[a.type]}`).join('\n')
      out.push(`${doc}\nexport interface ${method.pascal}Args {\n${fields}\n}\n`)
    }
  }
  out.push(`export type AmqpMethod =
${m.methods.map((x) => `  | { name: '${x.fullName}'; args: ${x.pascal}Args }`).join('\n')}

export type MethodName = AmqpMethod['name']

export type ArgsOf<N extends MethodName> = Extract<AmqpMethod, { name: N }>['args']

export interface MethodInfo {
  classId: number
  methodId: number
  /** The spec marks it synchronous: the peer answers with the matching -ok method. */
  synchronous: boolean
  /** A content header and body frames follow it. */
  hasContent: boolean
}

export const methodInfo: Record<MethodName, MethodInfo> = {
${m.methods
  .map(
    (x) =>
      `  '${x.fullName}': { classId: ${x.classId}, methodId: ${x.methodId}, synchronous: ${x.synchronous}, hasContent: ${x.hasContent} },`,
  )
  .join('\n')}
}

/** The key used by methodNameById: both ids in one unsigned 32-bit number, as on the wire. */
export function methodKey(classId: number, methodId: number): number {
  return ((classId << 16) | methodId) >>> 0
}

export const methodNameById: ReadonlyMap<number, MethodName> = new Map(
  (Object.keys(methodInfo) as MethodName[]).map((name) => [methodKey(methodInfo[name].classId, methodInfo[name].methodId), name]),
)
`)
  return out.join('\n')
}

function genDecoders(m) {
  const out = [
    `
// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Decodes a method frame's payload (class-id, method-id, arguments). Throws AmqpCodecError:
 * UNKNOWN_METHOD for ids the spec does not define, MALFORMED for truncated, overlong or invalid
 * arguments; both carry classId and methodId.
 */
export function decodeMethod(payload: Buffer): AmqpMethod {
  if (payload.length < 4) throw malformed(\`method payload of \${payload.length} bytes has no class and method ids\`)
  const id = payload.readUInt32BE(0)
  try {
    switch (id) {
${m.dispatchOrder
  .map((x) => `      case ${hex32(x.id)}:\n        return { name: '${x.fullName}', args: decode${x.pascal}(payload) }`)
  .join('\n')}
    }
  } catch (err) {
    throw withMethodIds(err, id)
  }
  throw new AmqpCodecError('UNKNOWN_METHOD', \`unknown method \${id >>> 16}/\${id & 0xffff}\`, id >>> 16, id & 0xffff)
}

function withMethodIds(err: unknown, id: number): unknown {
  if (!(err instanceof AmqpCodecError)) return err
  return new AmqpCodecError(err.code, \`\${methodNameById.get(id)}: \${err.message}\`, id >>> 16, id & 0xffff)
}

function need(p: Buffer, o: number, n: number): void {
  if (o + n > p.length) throw malformed(\`arguments truncated at offset \${o}\`)
}

function expectEnd(p: Buffer, o: number): void {
  if (o !== p.length) throw malformed(\`\${p.length - o} unexpected bytes after the arguments\`)
}
`,
  ]
  for (const method of m.methods) out.push(genDecoder(method))
  return out.join('\n')
}

function genDecoder(method) {
  const sig = `function decode${method.pascal}(p: Buffer): ${method.pascal}Args {`
  if (method.args.length === 0) return `${sig}\n  expectEnd(p, 4)\n  return {}\n}\n`
  const body = ['  let o = 4']
  for (const item of layout(method.args)) {
    if (item.kind === 'fixed') {
      body.push(`  need(p, o, ${item.size})`)
      for (const f of item.fields) {
        if (f.kind === 'int') {
          body.push(`  const ${f.arg.local} = ${READ_FIXED[f.arg.type](at('o', f.at))}`)
        } else {
          f.bits.forEach((bit, i) => body.push(`  const ${bit.local} = (p[${at('o', f.at)}]! & ${1 << i}) !== 0`))
        }
      }
      body.push(`  o += ${item.size}`)
    } else if (item.kind === 'shortstr') {
      body.push(`  const ${item.arg.local} = readShortstr(p, o)`, `  o += 1 + p[o]!`)
    } else if (item.kind === 'longstr') {
      body.push(`  const ${item.arg.local} = readLongstr(p, o)`, `  o += 4 + ${item.arg.local}.length`)
    } else {
      body.push(`  const ${item.arg.local} = decodeFieldTable(p, o)`, `  o += 4 + p.readUInt32BE(o)`)
    }
  }
  body.push('  expectEnd(p, o)')
  const fields = method.args.map((a) => (a.local === a.field ? a.field : `${a.field}: ${a.local}`))
  body.push(`  return { ${fields.join(', ')} }`)
  return `${sig}\n${body.join('\n')}\n}\n`
}

function genEncoders(m) {
  const out = [
    `
// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Encodes a complete method frame: type, channel, size, class-id, method-id, arguments, frame-end. */
export function encodeMethodFrame(channel: number, m: AmqpMethod): Buffer {
  switch (m.name) {
${m.dispatchOrder.map((x) => `    case '${x.fullName}':\n      return encode${x.pascal}(channel, m.args)`).join('\n')}
  }
  throw new TypeError(\`Unknown AMQP method '\${(m as { name: unknown }).name}'\`)
}

/** Allocates a method frame of \`size\` payload bytes with everything but the arguments written. */
function methodFrame(channel: number, id: number, size: number): Buffer {
  const f = Buffer.allocUnsafe(size + 8)
  f[0] = FRAME_METHOD
  f.writeUInt16BE(channel, 1)
  f.writeUInt32BE(size, 3)
  f.writeUInt32BE(id, 7)
  f[size + 7] = FRAME_END
  return f
}
`,
  ]
  for (const method of m.methods) out.push(genEncoder(method))
  return out.join('\n')
}

function genEncoder(method) {
  const id = hex32(method.id)
  if (method.args.length === 0) {
    return `function encode${method.pascal}(channel: number, _a: ${method.pascal}Args): Buffer {\n  return methodFrame(channel, ${id}, 4)\n}\n`
  }
  const items = layout(method.args)
  const body = []
  let fixedSize = 4
  const sizeTerms = []
  for (const item of items) {
    if (item.kind === 'fixed') {
      fixedSize += item.size
      continue
    }
    const { field } = item.arg
    if (item.kind === 'shortstr') {
      body.push(`  const ${field}Length = shortstrLength(a.${field}, '${field}')`)
      fixedSize += 1
      sizeTerms.push(`${field}Length`)
    } else if (item.kind === 'longstr') {
      body.push(`  const ${field}Length = longstrLength(a.${field}, '${field}')`)
      fixedSize += 4
      sizeTerms.push(`${field}Length`)
    } else {
      body.push(`  const ${field}Size = fieldTableSize(a.${field})`)
      sizeTerms.push(`${field}Size`)
    }
  }
  body.push(`  const f = methodFrame(channel, ${id}, ${[fixedSize, ...sizeTerms].join(' + ')})`)
  const writes = []
  items.forEach((item, index) => {
    const last = index === items.length - 1
    if (item.kind === 'fixed') {
      for (const f of item.fields) {
        if (f.kind === 'int') {
          writes.push(`  ${WRITE_FIXED[f.arg.type](at('o', f.at), `a.${f.arg.field}`)}`)
        } else {
          const bits = f.bits.map((bit, i) => `a.${bit.field} ? ${1 << i} : 0`)
          const octet = bits.length === 1 ? bits[0] : bits.map((b) => `(${b})`).join(' | ')
          writes.push(`  f[${at('o', f.at)}] = ${octet}`)
        }
      }
      if (!last) writes.push(`  o += ${item.size}`)
      return
    }
    const call =
      item.kind === 'shortstr' ? 'writeShortstr' : item.kind === 'longstr' ? 'writeLongstr' : 'writeFieldTable'
    writes.push(`  ${last ? '' : 'o = '}${call}(f, o, a.${item.arg.field})`)
  })
  const reassigned = writes.some((w) => /^\s+o (=|\+=) /.test(w))
  body.push(`  ${reassigned ? 'let' : 'const'} o = 11`, ...writes, '  return f')
  return `function encode${method.pascal}(channel: number, a: ${method.pascal}Args): Buffer {\n${body.join('\n')}\n}\n`
}

function genProperties(m) {
  const withProps = m.classes.filter((c) => c.properties.length > 0)
  // The spec gives properties to basic only; content headers for several classes would need a
  // properties union, so fail loudly rather than generate something half right.
  if (withProps.length !== 1) throw new Error(`expected exactly one class with properties, got ${withProps.length}`)
  const cls = withProps[0]
  const props = cls.properties
  // One 16-bit flag word: properties take bits 15 down, bit 0 announces a continuation word.
  if (props.length > 15) throw new Error(`${cls.name} has ${props.length} properties; continuation words unsupported`)
  const typeName = `${pascal(cls.name)}Properties`
  const flag = (i) => `0x${(0x8000 >>> i).toString(16).padStart(4, '0')}`
  const unusedMask = `0x${((1 << (16 - props.length)) - 1).toString(16).padStart(4, '0')}`

  const decode = props.map((prop, i) => {
    const lines = [`  let ${prop.field}: ${TS_TYPE[prop.type]} | undefined`, `  if (flags & ${flag(i)}) {`]
    if (prop.type in FIXED_SIZE) {
      const size = FIXED_SIZE[prop.type]
      lines.push(`    need(p, o, ${size})`, `    ${prop.field} = ${READ_FIXED[prop.type]('o')}`, `    o += ${size}`)
    } else if (prop.type === 'shortstr') {
      lines.push(`    ${prop.field} = readShortstr(p, o)`, `    o += 1 + p[o]!`)
    } else if (prop.type === 'longstr') {
      lines.push(`    ${prop.field} = readLongstr(p, o)`, `    o += 4 + ${prop.field}.length`)
    } else if (prop.type === 'table') {
      lines.push(`    ${prop.field} = decodeFieldTable(p, o)`, `    o += 4 + p.readUInt32BE(o)`)
    } else {
      throw new Error(`unsupported property type ${prop.type}`)
    }
    lines.push('  }')
    return lines.join('\n')
  })

  const sizing = props.map((prop, i) => {
    const v = prop.field
    let grow
    if (prop.type in FIXED_SIZE) grow = [`    size += ${FIXED_SIZE[prop.type]}`]
    else if (prop.type === 'shortstr') grow = [`    size += 1 + shortstrLength(${v}, '${v}')`]
    else if (prop.type === 'longstr') grow = [`    size += 4 + longstrLength(${v}, '${v}')`]
    else grow = [`    size += fieldTableSize(${v})`]
    return `  const ${v} = props.${v}\n  if (${v} != null) {\n    flags |= ${flag(i)}\n${grow.join('\n')}\n  }`
  })

  const writes = props.map((prop) => {
    const v = prop.field
    let w
    if (prop.type === 'octet') w = `o = f.writeUInt8(${v}, o)`
    else if (prop.type === 'short') w = `o = f.writeUInt16BE(${v}, o)`
    else if (prop.type === 'long') w = `o = f.writeUInt32BE(${v}, o)`
    else if (prop.type === 'longlong' || prop.type === 'timestamp') w = `writeUint64(f, o, ${v})\n    o += 8`
    else if (prop.type === 'shortstr') w = `o = writeShortstr(f, o, ${v})`
    else if (prop.type === 'longstr') w = `o = writeLongstr(f, o, ${v})`
    else w = `o = writeFieldTable(f, o, ${v})`
    return `  if (${v} != null) {\n    ${w}\n  }`
  })

  return `
// ---------------------------------------------------------------------------------------------
// Content header
// ---------------------------------------------------------------------------------------------

/** Content properties of class ${cls.name}; names and types as amqplib's. */
export interface ${typeName} {
${props.map((p) => `  ${p.field}?: ${TS_TYPE[p.type]}`).join('\n')}
}

export interface ContentHeader {
  classId: number
  /** Total body size announced; the body frames that follow must add up to it. */
  bodySize: number
  /** Every property key is present, undefined when absent on the wire (one object shape). */
  properties: ${typeName}
}

/**
 * Decodes a content header frame's payload: class-id, weight (unused), body-size, property flags
 * and the properties they announce. Throws AmqpCodecError MALFORMED on truncation, trailing
 * bytes, a set continuation or reserved flag bit, a class without properties, or a body size
 * beyond 2^53.
 */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  if (payload.length < 14) throw malformed(\`content header of \${payload.length} bytes is shorter than 14\`)
  const classId = payload.readUInt16BE(0)
  const bodySize = readUint64(payload, 4)
  if (bodySize > Number.MAX_SAFE_INTEGER) throw malformed(\`body size \${bodySize} is beyond 2^53\`, classId)
  if (classId !== ${cls.id}) throw malformed(\`content header for class \${classId}, which has no content\`, classId)
  const flags = payload.readUInt16BE(12)
  // Bit 0 would announce another flag word, which ${cls.name} never needs; the bits between the
  // last property and it are reserved. Either set means a broken or hostile peer.
  if (flags & ${unusedMask}) {
    throw malformed(\`property flags 0x\${flags.toString(16)} set a continuation or reserved bit\`, classId)
  }
  try {
    return { classId, bodySize, properties: decode${typeName}(payload, flags) }
  } catch (err) {
    if (err instanceof AmqpCodecError) throw malformed(\`content header: \${err.message}\`, classId)
    throw err
  }
}

function decode${typeName}(p: Buffer, flags: number): ${typeName} {
  let o = 14
${decode.join('\n')}
  expectEnd(p, o)
  return {
${props.map((p) => `    ${p.field},`).join('\n')}
  }
}

/**
 * Encodes a complete content header frame. Properties that are undefined or null are absent.
 * \`tailroom\` extra bytes are allocated after the frame end and left unwritten, so a caller can
 * append the first body frame without a second allocation.
 */
export function encodeHeaderFrame(
  channel: number,
  classId: number,
  bodySize: number,
  props: ${typeName},
  tailroom = 0,
): Buffer {
  if (classId !== ${cls.id}) throw new TypeError(\`Class \${classId} has no content properties\`)
  let flags = 0
  let size = 14
${sizing.join('\n')}
  const f = Buffer.allocUnsafe(size + 8 + tailroom)
  f[0] = FRAME_HEADER
  f.writeUInt16BE(channel, 1)
  f.writeUInt32BE(size, 3)
  f.writeUInt16BE(classId, 7)
  f.writeUInt16BE(0, 9) // weight, unused
  writeUint64(f, 11, bodySize)
  f.writeUInt16BE(flags, 19)
  let o = 21
${writes.join('\n')}
  f[o] = FRAME_END
  return f
}
`
}

function generate(spec) {
  const m = model(spec)
  return [genHeader(m), genConstants(m), genTypes(m), genDecoders(m), genEncoders(m), genProperties(m)].join('')
}

main(process.argv.slice(2))
