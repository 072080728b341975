/**
 * A mapping file (YAML or JSON, schemas/mapping.schema.json, example in examples/mapping.yaml):
 * cells by cellgate name, `hosts: {host: cell}`, `instances: {uuid: cell}`. The simplest source:
 * an operator can run cellgate with no database at all.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'
import YAML from 'yaml'
import type { CellRef, MappingSnapshot } from '../../router/mapping-snapshot.js'
import type { Logger } from '../log/logger.js'
import { escapePointer, MappingFileError, schemaError } from './mapping-file-error.js'
import type { MappingSource, PlacedSnapshotCell, SourceVersion } from './source.js'

/** The file as the schema describes it. */
export interface MappingFileDocument {
  cells?: Record<string, MappingFileCell>
  hosts?: Record<string, string>
  instances?: Record<string, string>
}

export interface MappingFileCell {
  uuid?: string
  transportUrl?: string
  databaseUrl?: string
  region?: string
  pod?: string
  disabled?: boolean
}

export const SCHEMA_FILE = 'schemas/mapping.schema.json'

let cachedValidator: ValidateFunction | undefined

/** schemas/ is found by walking up from this file: works from the sources and from dist/. */
function schemaPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, SCHEMA_FILE)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find ${SCHEMA_FILE} above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

function validator(): ValidateFunction {
  if (!cachedValidator) {
    const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as Record<string, unknown>
    const ajv = new Ajv({ allErrors: false, verbose: true, strict: true })
    cachedValidator = ajv.compile(schema)
  }
  return cachedValidator
}

/** `.json` is JSON, `.yaml`/`.yml` YAML; anything else is tried as JSON, then YAML. */
export function parseMappingText(text: string, source: string, ext = ''): unknown {
  const e = ext.toLowerCase()
  if (e === '.json') return parseJson(text, source)
  if (e === '.yaml' || e === '.yml') return parseYaml(text, source)
  try {
    return JSON.parse(text) as unknown
  } catch {
    return parseYaml(text, source)
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new MappingFileError(source, '/', `invalid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function parseYaml(text: string, source: string): unknown {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  const first = doc.errors[0]
  if (first) {
    const where = first.linePos?.[0]
    const at = where ? ` at line ${where.line} column ${where.col}` : ''
    const what = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '')
    throw new MappingFileError(source, '/', `invalid YAML${at}: ${what}`)
  }
  return doc.toJS({ maxAliasCount: 1000 }) as unknown
}

/** Validate a parsed document and turn it into a snapshot labelled `source`. */
export function mappingFromDocument(raw: unknown, source: string): MappingSnapshot {
  // An empty file is an empty mapping, not an error: an operator may start with nothing.
  const doc: unknown = raw === null || raw === undefined ? {} : raw
  const validate = validator()
  if (!validate(doc)) throw schemaError(validate.errors ?? [], source)
  const d = doc as MappingFileDocument

  const cells: PlacedSnapshotCell[] = Object.entries(d.cells ?? {}).map(([name, c]) => ({
    name,
    ...(c.uuid !== undefined ? { uuid: c.uuid.toLowerCase() } : {}),
    ...(c.transportUrl !== undefined ? { transportUrl: c.transportUrl } : {}),
    ...(c.databaseUrl !== undefined ? { databaseUrl: c.databaseUrl } : {}),
    ...(c.region !== undefined ? { region: c.region } : {}),
    ...(c.pod !== undefined ? { pod: c.pod } : {}),
    disabled: c.disabled ?? false,
  }))
  const hosts = new Map<string, CellRef>()
  for (const [host, cell] of Object.entries(d.hosts ?? {})) hosts.set(host, { name: cell })
  const instances = new Map<string, CellRef>()
  for (const [uuid, cell] of Object.entries(d.instances ?? {})) {
    const key = uuid.toLowerCase()
    // JSON/YAML keys are case-sensitive, uuids are not: two spellings of one uuid are a conflict.
    if (instances.has(key)) {
      throw new MappingFileError(source, `/instances/${escapePointer(uuid)}`, `duplicate of another spelling of instance ${key}`)
    }
    instances.set(key, { name: cell })
  }
  return { source, cells, hosts, instances }
}

export interface FileSourceOptions {
  path: string
  logger: Logger
}

export class FileMappingSource implements MappingSource {
  readonly name: string
  readonly path: string
  private readonly log: Logger

  constructor(opts: FileSourceOptions) {
    this.path = resolve(opts.path)
    this.name = `file:${opts.path}`
    this.log = opts.logger.child({ source: this.name })
  }

  async read(): Promise<MappingSnapshot> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      throw new MappingFileError(this.name, '/', `cannot read mapping file: ${err instanceof Error ? err.message : String(err)}`)
    }
    return mappingFromDocument(parseMappingText(text, this.name, extname(this.path)), this.name)
  }

  /** A hash of the bytes: the file is small, and mtime can miss two writes in one tick. */
  async version(): Promise<SourceVersion> {
    const bytes = await readFile(this.path)
    return { token: createHash('sha256').update(bytes).digest('hex'), settled: true }
  }

  /**
   * Watch the directory, not the file: editors and config managers replace the file by rename,
   * after which a watch on the old inode would stay silent. Polling remains the fallback where
   * fs.watch is unreliable (network file systems).
   */
  subscribe(poke: () => void): () => void {
    const file = basename(this.path)
    let w: FSWatcher | undefined
    try {
      w = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name === file) poke()
      })
      w.on('error', (err) => {
        this.log.warn('fs.watch failed; relying on polling', { error: err.message })
        w?.close()
      })
    } catch (err) {
      this.log.warn('fs.watch unavailable; relying on polling', { error: err instanceof Error ? err.message : String(err) })
    }
    return () => w?.close()
  }

  async close(): Promise<void> {}
}
