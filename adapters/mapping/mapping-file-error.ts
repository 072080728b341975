/**
 * A mapping file that cellgate refuses, with the offending field as a JSON pointer
 * ("/hosts/compute-7"), like configuration errors. A pointer, not a dotted path, because host
 * names contain dots: "/hosts/node-1.example.org" is unambiguous where "hosts.node-1.example.org"
 * is not.
 */
import type { ErrorObject } from 'ajv'

export class MappingFileError extends Error {
  readonly source: string
  /** JSON pointer into the file; "/" for the whole document. */
  readonly field: string
  readonly detail: string
  constructor(source: string, field: string, detail: string) {
    super(`${source}: ${field}: ${detail}`)
    this.name = 'MappingFileError'
    this.source = source
    this.field = field
    this.detail = detail
  }
}

interface SchemaNode {
  type?: string
  pattern?: string
  description?: string
  properties?: Record<string, unknown>
}

/** What each pattern of mapping.schema.json means, in words. */
const PATTERN_WORDS: Record<string, string> = {
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': "a cell name (letters, digits, '.', '_' and '-', starting with a letter or digit)",
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$':
    'a uuid with dashes (8-4-4-4-12 hex digits)',
}

function expected(s: SchemaNode): string {
  if (s.pattern !== undefined) return PATTERN_WORDS[s.pattern] ?? `a string matching /${s.pattern}/`
  switch (s.type) {
    case 'string':
      return 'a string'
    case 'boolean':
      return 'true or false'
    case 'object':
      return 'a mapping of keys to values'
    default:
      return s.type ?? 'valid'
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** The first ajv error as a MappingFileError naming the field. */
export function schemaError(errors: readonly ErrorObject[], source: string): MappingFileError {
  const e = errors[0]
  if (e === undefined) return new MappingFileError(source, '/', 'does not match the mapping schema')
  const parent = (e.parentSchema ?? {}) as SchemaNode
  // A bad key (propertyNames) is reported at the key itself, since that is what to fix.
  const badKey = e.propertyName
  if (badKey !== undefined) {
    const what = e.keyword === 'minLength' ? 'must not be empty' : `must be ${expected(parent)}`
    return new MappingFileError(source, `${e.instancePath}/${escapePointer(badKey)}`, `key ${what} (got ${show(badKey)})`)
  }
  const at = e.instancePath === '' ? '/' : e.instancePath
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: unknown }).additionalProperty)
      const known = Object.keys(parent.properties ?? {}).filter((k) => k !== '$schema')
      return new MappingFileError(source, `${e.instancePath}/${escapePointer(name)}`, `unknown property "${name}" (known: ${known.join(', ')})`)
    }
    case 'type':
    case 'pattern':
      return new MappingFileError(source, at, `must be ${expected(parent)} (got ${show(e.data)})`)
    case 'minLength':
      return new MappingFileError(source, at, 'must not be empty')
    case 'maxLength':
      return new MappingFileError(source, at, `must be at most ${String((e.params as { limit: unknown }).limit)} characters`)
    default:
      return new MappingFileError(source, at, `${e.message ?? 'is invalid'} (got ${show(e.data)})`)
  }
}
