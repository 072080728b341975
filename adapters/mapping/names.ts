/**
 * The names a mapping may contain, checked where code (not the schema) accepts them: the store's
 * write operations that an operator command calls. Same rules as schemas/mapping.schema.json.
 */
export const CELL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
export const MAX_CELL_NAME = 128
export const MAX_HOST = 255

/** A value an operator gave that the mapping cannot hold; `field` says which argument. */
export class MappingInputError extends Error {
  readonly field: string
  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`)
    this.name = 'MappingInputError'
    this.field = field
  }
}

export function checkCellName(name: string, field = 'cell'): string {
  if (name.length === 0 || name.length > MAX_CELL_NAME || !CELL_NAME_RE.test(name)) {
    throw new MappingInputError(
      field,
      `must be a cell name of 1..${MAX_CELL_NAME} letters, digits, '.', '_' and '-', starting with a letter or digit (got ${JSON.stringify(name)})`,
    )
  }
  return name
}

export function checkHost(host: string, field = 'host'): string {
  if (host.length === 0 || host.length > MAX_HOST || /\s/.test(host)) {
    throw new MappingInputError(field, `must be a host name of 1..${MAX_HOST} characters without spaces (got ${JSON.stringify(host)})`)
  }
  return host
}

/** Lower case, as nova stores uuids and the router looks them up. */
export function normalizeUuid(uuid: string, field = 'instance'): string {
  if (!UUID_RE.test(uuid)) throw new MappingInputError(field, `must be a uuid with dashes (got ${JSON.stringify(uuid)})`)
  return uuid.toLowerCase()
}
