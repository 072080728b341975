// Hostile and random input: decoders throw nothing but AmqpCodecError. Field tables: decoding is
// exact (decode → encode gives back the bytes) and what we decode, amqplib encodes identically.
// A seeded PRNG keeps every run reproducible; bump SEED to explore, keep failures as cases.
import t from 'tap'
import path from 'node:path'
import { createRequire } from 'node:module'
import { AmqpCodecError } from '../../adapters/amqp091/codec-errors.js'
import {
  decodeFieldArray,
  decodeFieldTable,
  encodeFieldArray,
  encodeFieldTable,
  type FieldTable,
} from '../../adapters/amqp091/field-table.js'
import {
  decodeContentHeader,
  decodeMethod,
  encodeHeaderFrame,
  encodeMethodFrame,
  methodInfo,
  methodKey,
  type AmqpMethod,
  type MethodName,
} from '../../adapters/amqp091/methods.generated.js'

const require = createRequire(import.meta.url)
const amqplibCodec = require(path.join(path.dirname(require.resolve('amqplib')), 'lib/codec.js')) as {
  encodeTable(buf: Buffer, table: object, offset: number): number
}

const SEED = 0x5eed_c0de
const ITERATIONS = 3000

/** mulberry32: tiny, fast, good enough to drive a fuzzer. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(SEED)
const int = (n: number): number => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)))

/** Runs fn; passes if it returns or throws an AmqpCodecError, otherwise records the input. */
function survives(fn: () => unknown): unknown {
  try {
    fn()
    return undefined
  } catch (err) {
    return err instanceof AmqpCodecError ? undefined : err
  }
}

function mutate(input: Buffer): Buffer {
  switch (int(4)) {
    case 0:
      return input.subarray(0, int(input.length + 1))
    case 1:
      return Buffer.concat([input, bytes(1 + int(8))])
    default: {
      const out = Buffer.from(input)
      for (let flips = 1 + int(4); flips > 0 && out.length > 0; flips--) out[int(out.length)] = int(256)
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Wire generator: random, valid field tables built as bytes, in RabbitMQ's dialect.
// ---------------------------------------------------------------------------------------------

const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz-_.!é✓'

/** Distinct keys that are not integer-like (JS objects would enumerate those first). */
function keys(n: number): string[] {
  const out = new Set<string>()
  while (out.size < n) {
    const k = int(10) === 0 ? '!' : Array.from({ length: 1 + int(8) }, () => pick([...KEY_CHARS])).join('')
    out.add(k)
  }
  return [...out]
}

function shortstr(s: string): Buffer {
  const b = Buffer.from(s)
  return Buffer.concat([Buffer.from([b.length]), b])
}

function sized(content: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(content.length)
  return Buffer.concat([len, content])
}

function randomFloat32Bytes(): Buffer {
  const b = bytes(4)
  // NaN payloads are not preserved by JS numbers; keep to ordinary values.
  if (Number.isNaN(b.readFloatBE(0))) b[0] = 0x3f
  return b
}

function randomFloat64Bytes(): Buffer {
  const b = bytes(8)
  if (Number.isNaN(b.readDoubleBE(0))) b[0] = 0x3f
  // Also integral doubles, which must come back wrapped as { '!': 'double' }.
  if (int(3) === 0) b.writeDoubleBE(int(1000) - 500)
  return b
}

function randomInt64Bytes(): Buffer {
  const b = Buffer.alloc(8)
  const choice = int(4)
  if (choice === 0) b.writeBigInt64BE(BigInt(int(256) - 128))
  else if (choice === 1) b.writeBigInt64BE(BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (int(2) ? 1n : -1n))
  else return bytes(8)
  return b
}

function randomText(): string {
  return Array.from({ length: int(12) }, () => pick([...'abc xyz0123 éü✓😀'])).join('')
}

function wireValue(depth: number): Buffer {
  const tags = depth < 3 ? 'tbBsuIilfdDTSxVAF' : 'tbBsuIilfdDTSxV'
  const tag = pick([...tags])
  const t = Buffer.from(tag)
  switch (tag) {
    case 't':
      return Buffer.concat([t, Buffer.from([int(2)])])
    case 'b':
    case 'B':
      return Buffer.concat([t, bytes(1)])
    case 's':
    case 'u':
      return Buffer.concat([t, int(2) ? bytes(2) : Buffer.from([0, int(128)])])
    case 'I':
    case 'i':
      return Buffer.concat([t, int(2) ? bytes(4) : Buffer.from([0, 0, int(2) ? 0 : 1, int(256)])])
    case 'l':
      return Buffer.concat([t, randomInt64Bytes()])
    case 'f':
      return Buffer.concat([t, randomFloat32Bytes()])
    case 'd':
      return Buffer.concat([t, randomFloat64Bytes()])
    case 'D':
      return Buffer.concat([t, bytes(5)])
    case 'T':
      return Buffer.concat([t, int(2) ? bytes(8) : Buffer.from([0, 0, 0, 0, ...bytes(4)])])
    case 'S':
      return Buffer.concat([t, sized(Buffer.from(randomText()))])
    case 'x':
      return Buffer.concat([t, sized(bytes(int(6)))])
    case 'V':
      return t
    case 'A':
      return Buffer.concat([t, wireArray(depth + 1)])
    default:
      return Buffer.concat([t, wireTable(depth + 1)])
  }
}

function wireArray(depth: number): Buffer {
  return sized(Buffer.concat(Array.from({ length: int(5) }, () => wireValue(depth))))
}

function wireTable(depth: number): Buffer {
  return sized(Buffer.concat(keys(int(6)).flatMap((k) => [shortstr(k), wireValue(depth)])))
}

function amqplibEncode(table: FieldTable): Buffer {
  const scratch = Buffer.alloc(65536)
  return Buffer.from(scratch.subarray(0, amqplibCodec.encodeTable(scratch, table, 0)))
}

t.test('field tables: decode → encode reproduces the wire bytes, ours and amqplib', async (t) => {
  let failures = 0
  for (let i = 0; i < ITERATIONS && failures < 5; i++) {
    const wire = wireTable(0)
    const decoded = decodeFieldTable(wire)
    const ours = encodeFieldTable(decoded)
    const theirs = amqplibEncode(decoded)
    if (!ours.equals(wire) || !theirs.equals(wire)) {
      failures++
      t.fail('re-encoding changed the bytes', { wire: wire.toString('hex'), ours: ours.toString('hex'), theirs: theirs.toString('hex') })
    }
  }
  t.equal(failures, 0)
})

t.test('field arrays round-trip too', async (t) => {
  for (let i = 0; i < 200; i++) {
    const wire = wireArray(0)
    t.ok(encodeFieldArray(decodeFieldArray(wire)).equals(wire))
  }
})

t.test('plain numbers are encoded with amqplib guesses', async (t) => {
  const numbers = [0, -1, 127, 128, -128, -129, 32767, 32768, -32769, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 50, 2 ** 53]
  const more = [1.5, -0.25, 2 ** 63, 1e300, Infinity, -0, 0.1 + 0.2]
  for (const n of [...numbers, ...more]) {
    const table = { n }
    t.equal(encodeFieldTable(table).toString('hex'), amqplibEncode(table).toString('hex'), String(n))
  }
})

t.test('awkward keys and values stay exact', async (t) => {
  const wire = Buffer.concat([
    shortstr('__proto__'),
    Buffer.from('t'),
    Buffer.from([1]),
    shortstr('!'),
    Buffer.from('S'),
    sized(Buffer.from('byte')),
  ])
  const table = decodeFieldTable(sized(wire))
  t.equal(Object.getPrototypeOf(table), Object.prototype, 'a __proto__ key does not replace the prototype')
  t.ok(Object.hasOwn(table, '__proto__'))
  t.ok(encodeFieldTable(table).equals(sized(wire)))
})

t.test('deep nesting is refused, not a stack overflow', async (t) => {
  let nested = sized(Buffer.alloc(0))
  for (let i = 0; i < 40; i++) nested = sized(Buffer.concat([shortstr('k'), Buffer.from('F'), nested]))
  t.throws(() => decodeFieldTable(nested), { code: 'MALFORMED' })
  let arrays = sized(Buffer.alloc(0))
  for (let i = 0; i < 40; i++) arrays = sized(Buffer.concat([Buffer.from('A'), arrays]))
  t.throws(() => decodeFieldArray(arrays), { code: 'MALFORMED' })

  const cyclic: FieldTable = {}
  cyclic['self'] = cyclic
  t.throws(() => encodeFieldTable(cyclic), TypeError)
})

t.test('decodeFieldTable: random and mutated bytes throw only AmqpCodecError', async (t) => {
  const seeds = Array.from({ length: 50 }, () => wireTable(0))
  let bad: unknown
  for (let i = 0; i < ITERATIONS && bad === undefined; i++) {
    // Mostly with a consistent outer length, so the damage is met inside the table.
    const choice = i % 4
    const input =
      choice === 0 ? bytes(int(40)) : choice === 1 ? mutate(pick(seeds)) : sized(mutate(pick(seeds).subarray(4)))
    bad = survives(() => decodeFieldTable(input))
    if (bad === undefined) bad = survives(() => decodeFieldArray(input))
  }
  t.equal(bad, undefined)
})

// ---------------------------------------------------------------------------------------------
// Methods and content headers
// ---------------------------------------------------------------------------------------------

/**
 * A valid payload for a method. All-zero arguments parse (zero numbers, empty strings and tables),
 * so grow a zeroed payload until it decodes, then give its strings and tables random content.
 */
function samplePayload(name: MethodName): Buffer {
  const { classId, methodId } = methodInfo[name]
  for (let size = 0; size < 64; size++) {
    const payload = Buffer.alloc(4 + size)
    payload.writeUInt32BE(methodKey(classId, methodId))
    let m: AmqpMethod
    try {
      m = decodeMethod(payload)
    } catch {
      continue
    }
    const args = m.args as Record<string, unknown>
    for (const [key, value] of Object.entries(args)) {
      if (typeof value === 'string') args[key] = randomText().slice(0, 10)
      else if (typeof value === 'object' && !Buffer.isBuffer(value)) args[key] = decodeFieldTable(wireTable(0))
    }
    return encodeMethodFrame(1, m).subarray(7, -1)
  }
  throw new Error(`no sample payload for ${name}`)
}

t.test('decodeMethod: random and mutated payloads throw only AmqpCodecError', async (t) => {
  const names = Object.keys(methodInfo) as MethodName[]
  const seeds = names.map(samplePayload)
  let bad: unknown
  for (let i = 0; i < ITERATIONS * 3 && bad === undefined; i++) {
    let input: Buffer
    if (i % 3 === 0) input = bytes(int(48))
    else if (i % 3 === 1) input = Buffer.concat([pick(seeds).subarray(0, 4), bytes(int(48))])
    else input = mutate(pick(seeds))
    bad = survives(() => decodeMethod(input))
  }
  t.equal(bad, undefined)
})

t.test('decodeContentHeader: random and mutated payloads throw only AmqpCodecError', async (t) => {
  const seeds = Array.from({ length: 30 }, () =>
    encodeHeaderFrame(1, 60, int(100000), {
      contentType: int(2) ? 'application/json' : undefined,
      headers: int(2) ? decodeFieldTable(wireTable(0)) : undefined,
      deliveryMode: int(2) ? 2 : undefined,
      correlationId: int(2) ? randomText() : undefined,
      timestamp: int(2) ? int(2 ** 31) : undefined,
      appId: int(2) ? 'nova' : undefined,
    }).subarray(7, -1),
  )
  let bad: unknown
  for (let i = 0; i < ITERATIONS && bad === undefined; i++) {
    const input = i % 4 === 0 ? bytes(int(40)) : mutate(pick(seeds))
    bad = survives(() => decodeContentHeader(input))
  }
  t.equal(bad, undefined)
})
