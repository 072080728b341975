/**
 * Loading the configuration file: parse (YAML or JSON), validate against
 * schemas/config.schema.json, merge over the built-in defaults, then check what a schema cannot
 * (names unique, references resolve, TLS files readable). Every refusal is a ConfigError naming
 * the offending field as a JSON pointer, so a typo is found without reading code.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import YAML from 'yaml'
import { isLocalBroker } from '../adapters/rabbit/vhost-prep.js'
import { DEFAULT_AMQPS_PORT, DEFAULT_LISTEN_HOST, DEFAULT_USER_VHOSTS, defaultConfig } from './config-defaults.js'
import type { CellgateConfig, LogConfig } from './config-types.js'

/** Environment variable naming the config file when --config is not given. */
export const CONFIG_ENV_VAR = 'CELLGATE_CONFIG'
/** `source` used in messages for the built-in defaults. */
export const DEFAULTS_SOURCE = 'built-in defaults'

/**
 * A configuration that cellgate refuses. `field` is a JSON pointer into the file ("/users/1/vhosts/0";
 * "/" for the whole document); the message reads `<source>: <field>: <detail>`.
 */
export class ConfigError extends Error {
  readonly field: string
  readonly source: string
  readonly detail: string
  constructor(source: string, field: string, detail: string) {
    super(`${source}: ${field}: ${detail}`)
    this.name = 'ConfigError'
    this.source = source
    this.field = field
    this.detail = detail
  }
}

// ---------------------------------------------------------------------------------------------
// Locating shipped files (works from source under a TS loader and from dist/).

/**
 * Absolute path of `rel` (e.g. "schemas/config.schema.json") in the nearest directory at or above
 * `from` that contains it. Throws if none does.
 */
export function findProjectFile(rel: string, from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : resolve(from))
  for (;;) {
    const candidate = join(dir, rel)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find ${rel} in any directory above ${from}`)
    dir = parent
  }
}

let cachedSchema: Record<string, unknown> | undefined
let cachedValidator: ValidateFunction | undefined

/** The parsed config JSON Schema (read once). */
export function configSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(findProjectFile('schemas/config.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >
  return cachedSchema
}

function validator(): ValidateFunction {
  if (!cachedValidator) {
    const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, strictTypes: false, strictRequired: false })
    cachedValidator = ajv.compile(configSchema())
  }
  return cachedValidator
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Which file to load: --config wins, else $CELLGATE_CONFIG, else none (built-in defaults). */
export function configPathFrom(cliPath: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (cliPath !== undefined && cliPath !== '') return cliPath
  const fromEnv = env[CONFIG_ENV_VAR]
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined
}

/**
 * Load `path` if given, else the built-in defaults (validated the same way).
 * `source` is what messages call it: the path, or "built-in defaults".
 */
export function loadConfig(path: string | undefined): { config: CellgateConfig; source: string } {
  if (path === undefined) return { config: resolveConfig({}, DEFAULTS_SOURCE), source: DEFAULTS_SOURCE }
  return { config: loadConfigFile(path), source: path }
}

/**
 * Read, parse and resolve a config file. `.yaml`/`.yml` are YAML, `.json` is JSON; any other
 * extension is tried as JSON, then as YAML. An empty file means "all defaults". Relative TLS file
 * paths are resolved against the file's directory.
 */
export function loadConfigFile(path: string): CellgateConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(path, '/', `cannot read config file: ${errMessage(err)}`)
  }
  const ext = extname(path).toLowerCase()
  let raw: unknown
  if (ext === '.json') raw = parseJson(text, path)
  else if (ext === '.yaml' || ext === '.yml') raw = parseYaml(text, path)
  else {
    try {
      raw = JSON.parse(text) as unknown
    } catch {
      raw = parseYaml(text, path)
    }
  }
  return resolveConfig(raw, path, { baseDir: dirname(resolve(path)) })
}

export interface ResolveOptions {
  /** Directory that relative file paths in the config (TLS PEM files) are relative to. Default: cwd. */
  baseDir?: string
}

/**
 * Validate `raw` (the parsed file; null/undefined = empty file) against the schema, merge it over
 * the defaults (arrays replace, objects merge), fill per-item defaults, and run the cross-field
 * checks. Throws ConfigError naming the first problem.
 */
export function resolveConfig(raw: unknown, source: string, opts: ResolveOptions = {}): CellgateConfig {
  const file: unknown = raw === null || raw === undefined ? {} : raw
  const validate = validator()
  if (!validate(file)) throw ajvToConfigError(validate.errors ?? [], source)

  const { $schema: _ignored, ...rest } = file as Record<string, unknown>
  const merged = deepMerge(defaultConfig(), rest) as CellgateConfig
  normalize(merged, opts.baseDir ?? process.cwd())
  crossCheck(merged, source)
  return merged
}

/** Command-line overrides, already validated by the argument parser. */
export interface ConfigOverrides {
  amqpHost?: string
  amqpPort?: number
  logLevel?: LogConfig['level']
  logFormat?: LogConfig['format']
}

/** A copy of `config` with the command-line overrides applied. */
export function applyOverrides(config: CellgateConfig, o: ConfigOverrides): CellgateConfig {
  const out = structuredClone(config)
  if (o.amqpHost !== undefined) out.listen.amqp.host = o.amqpHost
  if (o.amqpPort !== undefined) out.listen.amqp.port = o.amqpPort
  if (o.logLevel !== undefined) out.log.level = o.logLevel
  if (o.logFormat !== undefined) out.log.format = o.logFormat
  return out
}

/** "1 cell, 2 users, listening on 127.0.0.1:5673 (amqps 0.0.0.0:5674)" */
export function summarizeConfig(config: CellgateConfig): string {
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`
  const enabled = config.cells.filter((c) => !c.disabled).length
  const disabled = config.cells.length - enabled
  let s = `${n(config.cells.length, 'cell')}${disabled > 0 ? ` (${disabled} disabled)` : ''}, ${n(config.users.length, 'user')}, `
  s += `${n(config.vhosts.length, 'vhost')}, listening on ${hostPort(config.listen.amqp.host, config.listen.amqp.port)}`
  if (config.listen.amqps) s += ` and amqps ${hostPort(config.listen.amqps.host, config.listen.amqps.port)}`
  return s
}

/** "host:port", bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The URL with its password replaced by "***" (for logs and messages). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const msg = errMessage(err)
    const pos = /position (\d+)/.exec(msg)
    if (pos?.[1] !== undefined) {
      const { line, col } = lineCol(text, Number(pos[1]))
      throw new ConfigError(source, '/', `invalid JSON at line ${line} column ${col}: ${msg}`)
    }
    throw new ConfigError(source, '/', `invalid JSON: ${msg}`)
  }
}

function parseYaml(text: string, source: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const first = doc.errors[0]
  if (first) {
    const where = first.linePos?.[0]
    const at = where ? ` at line ${where.line} column ${where.col}` : ''
    const what = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '')
    throw new ConfigError(source, '/', `invalid YAML${at}: ${what}`)
  }
  return doc.toJS({ maxAliasCount: 1000 }) as unknown
}

function lineCol(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos)
  const line = before.split('\n').length
  const col = pos - before.lastIndexOf('\n')
  return { line, col }
}

// ---------------------------------------------------------------------------------------------
// Schema errors -> ConfigError

function ajvToConfigError(errors: ErrorObject[], source: string): ConfigError {
  // Errors from inside an anyOf branch come before the anyOf error itself; report the anyOf.
  const e = errors.find((x) => !x.schemaPath.includes('/anyOf/')) ?? errors[0]
  if (!e) return new ConfigError(source, '/', 'does not match the schema')
  const at = e.instancePath
  const parent = (e.parentSchema ?? {}) as SchemaNode
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty)
      const known = Object.keys(parent.properties ?? {})
      const guess = closest(name, known)
      const hint = guess ? `did you mean "${guess}"? ` : ''
      return new ConfigError(
        source,
        `${at}/${escapePointer(name)}`,
        `unknown property "${name}" (${hint}known: ${known.join(', ')})`,
      )
    }
    case 'required': {
      const name = String((e.params as { missingProperty: string }).missingProperty)
      return new ConfigError(source, `${at}/${escapePointer(name)}`, 'is required')
    }
    case 'anyOf': {
      const alternatives = (parent.anyOf ?? []).flatMap((s) => s.required ?? [])
      if (alternatives.length > 0 && alternatives.length === (parent.anyOf ?? []).length) {
        return new ConfigError(
          source,
          `${at}/${escapePointer(alternatives[0] ?? '')}`,
          `is required: give ${alternatives.map((a) => `"${a}"`).join(' or ')}`,
        )
      }
      return new ConfigError(source, pointer(at), e.message ?? 'does not match any allowed form')
    }
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf':
    case 'enum':
    case 'const':
    case 'pattern':
      return new ConfigError(source, pointer(at), `must be ${describeSchema(parent)} (got ${show(e.data)})`)
    case 'minLength': {
      const min = Number((e.params as { limit: number }).limit)
      return new ConfigError(source, pointer(at), min <= 1 ? 'must not be empty' : `must be at least ${min} characters (got ${show(e.data)})`)
    }
    case 'maxLength': {
      const max = Number((e.params as { limit: number }).limit)
      return new ConfigError(source, pointer(at), `must be at most ${max} characters (got ${String(e.data).length})`)
    }
    case 'minItems': {
      const min = Number((e.params as { limit: number }).limit)
      return new ConfigError(source, pointer(at), `must list at least ${min} item${min === 1 ? '' : 's'} (got ${show(e.data)})`)
    }
    default:
      return new ConfigError(source, pointer(at), `${e.message ?? 'is invalid'} (got ${show(e.data)})`)
  }
}

interface SchemaNode {
  type?: string | string[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  enum?: unknown[]
  properties?: Record<string, SchemaNode>
  anyOf?: SchemaNode[]
  required?: string[]
}

const PATTERN_WORDS: Record<string, string> = {
  '^amqps?://': 'an amqp:// or amqps:// URL',
  '^[0-9a-fA-F]{64}$': '64 hex digits (a SHA-256)',
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': 'a name of letters, digits, ".", "_" and "-"',
}

/** Human words for what a schema node accepts: "an integer in 1..65535", "one of "a", "b"". */
export function describeSchema(s: SchemaNode): string {
  if (s.enum) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type
  switch (type) {
    case 'integer':
    case 'number': {
      const noun = type === 'integer' ? 'an integer' : 'a number'
      if (s.minimum !== undefined && s.maximum !== undefined) return `${noun} in ${s.minimum}..${s.maximum}`
      if (s.minimum !== undefined) return `${noun} >= ${s.minimum}`
      if (s.maximum !== undefined) return `${noun} <= ${s.maximum}`
      return noun
    }
    case 'string':
      if (s.pattern !== undefined) return PATTERN_WORDS[s.pattern] ?? `a string matching /${s.pattern}/`
      return 'a string'

    case 'boolean':
      return 'true or false'
    case 'array':
      return 'a list'
    case 'object':
      return 'a mapping of keys to values'
    default:
      return type ?? 'valid'
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list`
  if (v !== null && typeof v === 'object') return 'a mapping'
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

function pointer(p: string): string {
  return p === '' ? '/' : p
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** The candidate within edit distance 2 (or a case-insensitive match) of `word`, if any. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c)
    if (d < bestD) {
      best = c
      bestD = d
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost))
    }
    prev = cur
  }
  return prev[b.length] ?? 0
}

// ---------------------------------------------------------------------------------------------
// Merge, normalize, cross-field checks

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Objects merge key by key; arrays and scalars in `over` replace what `base` has. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base }
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) continue
      out[k] = k in base ? deepMerge(base[k], v) : structuredClone(v)
    }
    return out
  }
  return structuredClone(over)
}

/** RFC 6901: a key inside a JSON pointer escapes ~ and /. */
function escapePointerToken(key: string): string {
  return key.replace(/~/gu, '~0').replace(/\//gu, '~1')
}

/** Fill per-item defaults the object merge cannot (array items, the optional TLS listener). */
function normalize(c: CellgateConfig, baseDir: string): void {
  for (const cell of c.cells) cell.disabled ??= false
  for (const user of c.users) {
    user.vhosts ??= [...DEFAULT_USER_VHOSTS]
    if (user.passwordSha256 !== undefined) user.passwordSha256 = user.passwordSha256.toLowerCase()
  }
  if (c.mapping.file !== undefined) c.mapping.file = resolve(baseDir, c.mapping.file)
  if (c.recorder.enabled) c.recorder.file = resolve(baseDir, c.recorder.file)
  if (c.mapping.store !== undefined && !/^[a-z+]+:\/\//u.test(c.mapping.store) && c.mapping.store !== ':memory:') c.mapping.store = resolve(baseDir, c.mapping.store)
  const tls = c.listen.amqps
  if (tls) {
    tls.host ??= DEFAULT_LISTEN_HOST
    tls.port ??= DEFAULT_AMQPS_PORT
    tls.cert = resolve(baseDir, tls.cert)
    tls.key = resolve(baseDir, tls.key)
    if (tls.ca !== undefined) tls.ca = resolve(baseDir, tls.ca)
  }
}

function crossCheck(c: CellgateConfig, source: string): void {
  const fail = (field: string, detail: string): never => {
    throw new ConfigError(source, field, detail)
  }

  // Cells: unique names, parseable URLs, at least one enabled.
  const cellIndex = new Map<string, number>()
  c.cells.forEach((cell, i) => {
    const prev = cellIndex.get(cell.name)
    if (prev !== undefined) fail(`/cells/${i}/name`, `duplicate cell name "${cell.name}" (also /cells/${prev}/name)`)
    cellIndex.set(cell.name, i)
    let url: URL | undefined
    try {
      url = new URL(cell.rabbit)
    } catch {
      url = undefined
    }
    if (!url || url.hostname === '') {
      fail(`/cells/${i}/rabbit`, `not a usable broker URL (got ${JSON.stringify(redactUrl(cell.rabbit))}); expected amqp://user:password@host:port/vhost`)
    }
    if (cell.createVhost === true && !isLocalBroker(cell.rabbit)) {
      fail(`/cells/${i}/createVhost`, `cellgate can only create vhosts on a broker on this machine (rabbitmqctl); ${url!.hostname} is not 127.0.0.1/localhost — prepare the vhost there with rabbitmqctl add_vhost`)
    }
  })
  if (!c.cells.some((cell) => !cell.disabled)) {
    fail('/cells', `every cell is disabled; at least one must be enabled (cells: ${[...cellIndex.keys()].join(', ')})`)
  }
  const knownCells = [...cellIndex.keys()].join(', ')

  // Vhosts: unique names; `cell` names a configured cell.
  const vhostIndex = new Map<string, number>()
  c.vhosts.forEach((v, i) => {
    const prev = vhostIndex.get(v.name)
    if (prev !== undefined) fail(`/vhosts/${i}/name`, `duplicate vhost name "${v.name}" (also /vhosts/${prev}/name)`)
    vhostIndex.set(v.name, i)
    if (v.cell !== undefined && !cellIndex.has(v.cell)) {
      fail(`/vhosts/${i}/cell`, `cell "${v.cell}" is not configured (known: ${knownCells})`)
    }
  })
  const knownVhosts = [...vhostIndex.keys()].join(', ')

  // Routing and mapping name configured cells; the parking cell takes no work, so it cannot be the default.
  for (const key of ['defaultCell', 'parkingCell', 'notificationsCell'] as const) {
    const name = c.routing[key]
    if (name !== undefined && !cellIndex.has(name)) fail(`/routing/${key}`, `cell "${name}" is not configured (known: ${knownCells})`)
  }
  if (c.routing.parkingCell !== undefined && c.routing.parkingCell === c.routing.defaultCell) {
    fail('/routing/defaultCell', `the parking cell "${c.routing.parkingCell}" takes no work and cannot be the default cell`)
  }
  if (c.routing.parkingCell !== undefined && !c.cells.some((cell) => !cell.disabled && cell.name !== c.routing.parkingCell)) {
    fail('/routing/parkingCell', `"${c.routing.parkingCell}" is the only enabled cell; the parking cell takes no work, so another must be enabled`)
  }
  for (const [what, table] of [['hosts', c.mapping.hosts], ['instances', c.mapping.instances]] as const) {
    for (const [key, cell] of Object.entries(table)) {
      if (!cellIndex.has(cell)) fail(`/mapping/${what}/${escapePointerToken(key)}`, `cell "${cell}" is not configured (known: ${knownCells})`)
    }
  }
  const sqlUsers = new Map<string, number>()
  c.sql.users.forEach((u, i) => {
    const prev = sqlUsers.get(u.name)
    if (prev !== undefined) fail(`/sql/users/${i}/name`, `duplicate SQL user "${u.name}" (also /sql/users/${prev}/name)`)
    sqlUsers.set(u.name, i)
    if (u.password === undefined && u.nativePasswordHash === undefined) fail(`/sql/users/${i}/password`, 'give password (may be empty) or nativePasswordHash')
    if (u.password !== undefined && u.nativePasswordHash !== undefined) fail(`/sql/users/${i}/nativePasswordHash`, 'give password or nativePasswordHash, not both')
  })
  for (const [field, url] of [['/sql/defaultBackend', c.sql.defaultBackend], ...Object.entries(c.sql.databases).map(([k, v]) => [`/sql/databases/${escapePointerToken(k)}`, v])] as const) {
    let ok = false
    try {
      ok = new URL(url).hostname !== ''
    } catch {
      ok = false
    }
    if (!ok) fail(field, `not a usable database URL (got ${JSON.stringify(redactUrl(url))}); expected mysql://user:password@host:port/`)
  }
  const shardNames = new Map<string, number>()
  c.sql.shardMode?.shards.forEach((sh, i) => {
    const prev = shardNames.get(sh.name)
    if (prev !== undefined) fail(`/sql/shardMode/shards/${i}/name`, `duplicate shard name "${sh.name}" (also /sql/shardMode/shards/${prev}/name)`)
    shardNames.set(sh.name, i)
  })
  const uuidIndex = new Map<string, number>()
  c.cells.forEach((cell, i) => {
    if (cell.uuid === undefined) return
    cell.uuid = cell.uuid.toLowerCase()
    const prev = uuidIndex.get(cell.uuid)
    if (prev !== undefined) fail(`/cells/${i}/uuid`, `duplicate cell uuid ${cell.uuid} (also /cells/${prev}/uuid)`)
    uuidIndex.set(cell.uuid, i)
  })

  // Users: unique names; exactly one way to give the password; vhosts configured or "*".
  const userIndex = new Map<string, number>()
  c.users.forEach((u, i) => {
    const prev = userIndex.get(u.name)
    if (prev !== undefined) fail(`/users/${i}/name`, `duplicate user name "${u.name}" (also /users/${prev}/name)`)
    userIndex.set(u.name, i)
    if (u.password !== undefined && u.passwordSha256 !== undefined) {
      fail(`/users/${i}/passwordSha256`, 'give password or passwordSha256, not both')
    }
    u.vhosts.forEach((name, j) => {
      if (name !== '*' && !vhostIndex.has(name)) {
        fail(`/users/${i}/vhosts/${j}`, `vhost "${name}" is not configured (known: ${knownVhosts}; or "*" for all)`)
      }
    })
  })

  // Upstream reconnect backoff.
  if (c.upstream.reconnectMaxDelayMs < c.upstream.reconnectDelayMs) {
    fail(
      '/upstream/reconnectMaxDelayMs',
      `must be >= reconnectDelayMs (${c.upstream.reconnectDelayMs}) (got ${c.upstream.reconnectMaxDelayMs})`,
    )
  }

  // TLS listener: PEM files readable, address distinct from the plain listener.
  const tls = c.listen.amqps
  if (tls) {
    checkPem(tls.cert, '/listen/amqps/cert', fail)
    checkPem(tls.key, '/listen/amqps/key', fail)
    if (tls.ca !== undefined) checkPem(tls.ca, '/listen/amqps/ca', fail)
    const plain = c.listen.amqp
    if (tls.port !== 0 && tls.port === plain.port && tls.host === plain.host) {
      fail('/listen/amqps/port', `same address as /listen/amqp (${hostPort(tls.host, tls.port)})`)
    }
  }
}

function checkPem(path: string, field: string, fail: (field: string, detail: string) => never): void {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    fail(field, `cannot read ${JSON.stringify(path)}: ${errMessage(err)}`)
  }
  if (!text.includes('-----BEGIN ')) fail(field, `${JSON.stringify(path)} is not a PEM file (no "-----BEGIN" line)`)
}

/** The error's message; for fs errors without the path repeated ("ENOENT: no such file or directory"). */
function errMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  return 'code' in err && 'path' in err ? err.message.replace(/, \w+ '[^']*'$/, '') : err.message
}
