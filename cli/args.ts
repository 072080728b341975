/**
 * Command-line parsing: argv in, a typed CliCommand out (or a CliUsageError naming what is wrong).
 * Pure: reads no environment and no files; cli/main.ts acts on the result.
 */
import { parseArgs } from 'node:util'
import type { ConfigOverrides } from '../app/config.js'
import type { LogConfig } from '../app/config-types.js'

export const COMMANDS = ['serve', 'check-config', 'routes', 'parked', 'help'] as const
export type CommandName = (typeof COMMANDS)[number]

export type CliCommand =
  | { command: 'serve'; configPath?: string; overrides: ConfigOverrides }
  | { command: 'check-config'; configPath?: string; overrides: ConfigOverrides }
  | RoutesCommand
  | ParkedCommand
  | { command: 'help'; topic?: CommandName }
  | { command: 'version' }

/** `cellgate routes`: ask a running cellgate's admin listener, or (--offline) the configuration alone. */
export interface RoutesCommand {
  command: 'routes'
  configPath?: string
  /** Base URL of the admin listener, normalised (no trailing slash, no /routes). */
  adminUrl?: string
  json: boolean
  offline: boolean
  /** Hosts to explain, in the order given. */
  hosts: string[]
}

/** `cellgate parked list|replay`: what waits in the parking cell, and re-sending it once its host has a cell. */
export interface ParkedCommand {
  command: 'parked'
  action: 'list' | 'replay'
  configPath?: string
  json: boolean
  /** Only messages for these hosts (all when empty). */
  hosts: string[]
  limit: number
}

export const PARKED_ACTIONS = ['list', 'replay'] as const
export const DEFAULT_PARKED_LIMIT = 1000

/** A command line cellgate cannot act on; the message says what and points to --help. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CliUsageError'
  }
}

export interface CliOptionSpec {
  /** Long name without dashes. */
  name: string
  short?: string
  type: 'string' | 'boolean'
  /** Placeholder for the value in help ("FILE"). */
  arg?: string
  /** One line for --help. */
  help: string
  /** What applies when the option is absent, for --help. */
  default?: string
  /** May be given several times; every value is kept, in order. */
  multiple?: boolean
  /** The commands it applies to; absent = every command. Elsewhere it is refused, not ignored. */
  commands?: readonly CommandName[]
}

/** Options of the proxy itself, meaningless to a command that only asks it. */
const PROXY_COMMANDS: readonly CommandName[] = ['serve', 'check-config']

export const LOG_LEVELS: readonly LogConfig['level'][] = ['debug', 'info', 'warn', 'error']
export const LOG_FORMATS: readonly LogConfig['format'][] = ['text', 'json']

/** Every option cellgate accepts; --help is rendered from this table. */
export const CLI_OPTIONS: readonly CliOptionSpec[] = [
  {
    name: 'config',
    type: 'string',
    arg: 'FILE',
    help: 'configuration file: YAML (.yaml, .yml) or JSON (.json)',
    default: '$CELLGATE_CONFIG if set, else the built-in defaults',
  },
  {
    name: 'amqp-host',
    commands: PROXY_COMMANDS,
    type: 'string',
    arg: 'HOST',
    help: 'address of the AMQP listener (overrides listen.amqp.host)',
    default: 'listen.amqp.host from the config, 127.0.0.1 by default',
  },
  {
    name: 'amqp-port',
    commands: PROXY_COMMANDS,
    type: 'string',
    arg: 'N',
    help: 'port of the AMQP listener, 0 = any free port (overrides listen.amqp.port)',
    default: 'listen.amqp.port from the config, 5673 by default',
  },
  {
    name: 'log-level',
    commands: PROXY_COMMANDS,
    type: 'string',
    arg: 'LEVEL',
    help: `least severe level logged: ${LOG_LEVELS.join(', ')} (overrides log.level)`,
    default: 'log.level from the config, info by default',
  },
  {
    name: 'log-format',
    commands: PROXY_COMMANDS,
    type: 'string',
    arg: 'FORMAT',
    help: `log line format: ${LOG_FORMATS.join(', ')} (overrides log.format)`,
    default: 'log.format from the config, text by default',
  },
  {
    name: 'admin',
    type: 'string',
    arg: 'URL',
    help: 'routes: the admin listener of a running cellgate, e.g. http://127.0.0.1:9464',
    default: 'admin.host and admin.port of --config FILE (or $CELLGATE_CONFIG), else http://127.0.0.1:9464',
    commands: ['routes'],
  },
  { name: 'json', type: 'boolean', help: 'routes, parked: print JSON instead of tables', commands: ['routes', 'parked'] },
  {
    name: 'host',
    type: 'string',
    arg: 'HOST',
    help: "routes: explain where HOST's messages go and why (mapping, rendezvous, parked); parked: only HOST's messages; repeatable",
    multiple: true,
    commands: ['routes', 'parked'],
  },
  {
    name: 'offline',
    type: 'boolean',
    help: 'routes: no running cellgate needed; build the cell map from the --config file alone',
    commands: ['routes'],
  },
  {
    name: 'limit',
    type: 'string',
    arg: 'N',
    help: 'parked: look at no more than N parked messages',
    default: String(DEFAULT_PARKED_LIMIT),
    commands: ['parked'],
  },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help (or `cellgate help COMMAND`) and exit' },
  { name: 'version', type: 'boolean', help: 'print the cellgate version and exit' },
]

const SEE_HELP = "see 'cellgate --help'"

/** Parse `argv` (without the node and script entries, i.e. process.argv.slice(2)). */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const o of CLI_OPTIONS) options[o.name] = o.short ? { type: o.type, short: o.short } : { type: o.type }

  let tokens
  try {
    ;({ tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true }))
  } catch (err) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)} (${SEE_HELP})`)
  }

  const positionals: string[] = []
  const values = new Map<string, string | true>()
  const lists = new Map<string, string[]>()
  for (const tok of tokens) {
    if (tok.kind === 'positional') {
      positionals.push(tok.value)
      continue
    }
    if (tok.kind !== 'option') continue
    // parseArgs reports a known short option under its long name, an unknown one as itself.
    const spec = CLI_OPTIONS.find((o) => o.name === tok.name)
    if (!spec) {
      throw new CliUsageError(`unknown option ${tok.rawName} (${SEE_HELP})`)
    }
    if (spec.type === 'boolean') {
      if (tok.value !== undefined) throw new CliUsageError(`${tok.rawName} does not take a value (${SEE_HELP})`)
      values.set(spec.name, true)
    } else {
      const v = tok.value
      if (v === undefined || (!tok.inlineValue && v.startsWith('-') && v !== '-')) {
        throw new CliUsageError(`${tok.rawName} needs a value: ${tok.rawName} ${spec.arg ?? 'VALUE'} (${SEE_HELP})`)
      }
      values.set(spec.name, v)
      if (spec.multiple) lists.set(spec.name, [...(lists.get(spec.name) ?? []), v])
    }
  }

  const [first, ...rest] = positionals
  let command: CommandName = 'serve'
  if (first !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(first)) {
      throw new CliUsageError(`unknown command "${first}" (commands: ${COMMANDS.join(', ')}; ${SEE_HELP})`)
    }
    command = first as CommandName
  }

  if (command === 'help') {
    const [topic, ...extra] = rest
    if (extra.length > 0) throw new CliUsageError(`unexpected argument "${extra[0]}" (${SEE_HELP})`)
    if (topic === undefined) return { command: 'help' }
    if (!(COMMANDS as readonly string[]).includes(topic)) {
      throw new CliUsageError(`unknown help topic "${topic}" (commands: ${COMMANDS.join(', ')})`)
    }
    return { command: 'help', topic: topic as CommandName }
  }
  const action = command === 'parked' ? rest.shift() : undefined
  if (rest.length > 0) throw new CliUsageError(`unexpected argument "${rest[0]}" (${SEE_HELP})`)
  if (values.has('help')) return first === undefined ? { command: 'help' } : { command: 'help', topic: command }
  if (values.has('version')) return { command: 'version' }

  for (const name of values.keys()) {
    const applies = CLI_OPTIONS.find((o) => o.name === name)?.commands
    if (applies !== undefined && !applies.includes(command)) {
      throw new CliUsageError(`--${name} does not apply to "${command}" (only to: ${applies.join(', ')}; ${SEE_HELP})`)
    }
  }

  const config = values.get('config')
  const configPath = typeof config === 'string' ? config : undefined
  if (command === 'routes') return routesCommand(values, lists.get('host') ?? [], configPath)
  if (command === 'parked') return parkedCommand(action, values, lists.get('host') ?? [], configPath)

  const overrides: ConfigOverrides = {}
  const host = values.get('amqp-host')
  if (typeof host === 'string') {
    if (host.trim() === '') throw new CliUsageError(`--amqp-host must not be empty (${SEE_HELP})`)
    overrides.amqpHost = host
  }
  const port = values.get('amqp-port')
  if (typeof port === 'string') overrides.amqpPort = parsePort(port, '--amqp-port')
  const level = values.get('log-level')
  if (typeof level === 'string') overrides.logLevel = oneOf(level, LOG_LEVELS, '--log-level')
  const format = values.get('log-format')
  if (typeof format === 'string') overrides.logFormat = oneOf(format, LOG_FORMATS, '--log-format')

  return configPath === undefined ? { command, overrides } : { command, configPath, overrides }
}

function parkedCommand(action: string | undefined, values: ReadonlyMap<string, string | true>, hosts: string[], configPath: string | undefined): ParkedCommand {
  if (action === undefined || !(PARKED_ACTIONS as readonly string[]).includes(action)) {
    throw new CliUsageError(`parked needs an action: ${PARKED_ACTIONS.join(' or ')} (got ${action === undefined ? 'none' : `"${action}"`}; ${SEE_HELP})`)
  }
  if (hosts.some((h) => h.trim() === '')) throw new CliUsageError(`--host must not be empty (${SEE_HELP})`)
  const limitText = values.get('limit')
  let limit = DEFAULT_PARKED_LIMIT
  if (typeof limitText === 'string') {
    limit = Number(limitText)
    if (!/^\d+$/u.test(limitText) || limit < 1 || limit > 1_000_000) throw new CliUsageError(`--limit must be an integer in 1..1000000 (got "${limitText}")`)
  }
  const cmd: ParkedCommand = { command: 'parked', action: action as ParkedCommand['action'], json: values.has('json'), hosts, limit }
  if (configPath !== undefined) cmd.configPath = configPath
  return cmd
}

function routesCommand(values: ReadonlyMap<string, string | true>, hosts: string[], configPath: string | undefined): RoutesCommand {
  const offline = values.has('offline')
  const admin = values.get('admin')
  if (offline && typeof admin === 'string') throw new CliUsageError(`--offline and --admin exclude each other: --offline asks no running cellgate (${SEE_HELP})`)
  if (hosts.some((h) => h.trim() === '')) throw new CliUsageError(`--host must not be empty (${SEE_HELP})`)
  const cmd: RoutesCommand = { command: 'routes', json: values.has('json'), offline, hosts }
  if (configPath !== undefined) cmd.configPath = configPath
  if (typeof admin === 'string') cmd.adminUrl = adminBase(admin)
  return cmd
}

/**
 * "127.0.0.1:9464", "http://h:9464/", "http://h:9464/routes" and a path prefix behind a reverse
 * proxy ("https://ops/cellgate") all name the same thing: the base the admin routes hang off.
 */
export function adminBase(s: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`
  let u: URL
  try {
    u = new URL(withScheme)
  } catch {
    throw new CliUsageError(`--admin must be an http(s) URL such as http://127.0.0.1:9464 (got ${JSON.stringify(s)})`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CliUsageError(`--admin must be an http(s) URL such as http://127.0.0.1:9464 (got ${JSON.stringify(s)})`)
  }
  const path = u.pathname.replace(/\/+$/, '').replace(/\/routes$/, '')
  return `${u.origin}${path}`
}

function parsePort(s: string, flag: string): number {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new CliUsageError(`${flag} must be an integer in 0..65535 (got ${JSON.stringify(s)})`)
  }
  return n
}

function oneOf<T extends string>(s: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(s)) {
    throw new CliUsageError(`${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(s)})`)
  }
  return s as T
}
