/**
 * `cellgate routes`: print the operator view of a running cellgate (its admin listener's
 * `/routes`), or with --offline the map the configuration file alone describes, so an operator
 * can ask "where would host H go" before starting anything.
 */
import { ConfigError, configPathFrom, loadConfig } from '../app/config.js'
import { DEFAULT_ADMIN_PORT, DEFAULT_LISTEN_HOST } from '../app/config-defaults.js'
import type { CellgateConfig } from '../app/config-types.js'
import { buildRoutesView, configOnlyRouting } from '../app/routes-view.js'
import { renderExplanations, renderRoutesText } from '../adapters/admin/routes-text.js'
import type { RoutesCommand } from './args.js'
import { fetchText, type FetchedText } from './http-get.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js'

/** A running cellgate answers from memory; longer than this means something is wrong. */
const FETCH_TIMEOUT_MS = 5_000

export async function routesCommand(cmd: RoutesCommand, io: CliIo): Promise<number> {
  const path = configPathFrom(cmd.configPath, io.env)
  let config: CellgateConfig | undefined
  if (path !== undefined) {
    try {
      config = loadConfig(path).config
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      io.stderr(`cellgate: invalid configuration: ${err.message}\n`)
      return EXIT_USAGE
    }
  }
  if (cmd.offline) {
    if (config === undefined) {
      io.stderr("cellgate: routes --offline needs the configuration: --config FILE (or $CELLGATE_CONFIG) (see 'cellgate help routes')\n")
      return EXIT_USAGE
    }
    return offline(cmd, config, io)
  }
  if (cmd.adminUrl === undefined && config?.admin.enabled === false) {
    io.stderr(`cellgate: the admin listener is disabled in ${path ?? 'the configuration'} (admin.enabled: false): no running cellgate to ask; use --offline, or --admin URL\n`)
    return EXIT_FAILURE
  }
  return live(cmd, cmd.adminUrl ?? adminUrlOf(config), io)
}

async function offline(cmd: RoutesCommand, config: CellgateConfig, io: CliIo): Promise<number> {
  // Loaded only here: compose.ts pulls in the broker and AMQP adapters, which the live path never needs.
  const { cellMapFromConfig } = await import('../app/compose.js')
  const view = buildRoutesView({ routing: configOnlyRouting(cellMapFromConfig(config)), source: 'config', explain: cmd.hosts })
  const unread = (['novaApi', 'store', 'file'] as const).filter((k) => config.mapping[k] !== undefined)
  if (unread.length > 0) {
    // Said on stderr, so --json output stays clean: the answer may differ from a running cellgate's.
    io.stderr(
      `cellgate: note: --offline reads the configuration file only, not ${unread.map((k) => `mapping.${k}`).join(', ')}; ` +
        'hosts mapped only there are shown as placed by rendezvous\n',
    )
  }
  if (cmd.json) io.stdout(`${JSON.stringify(view, null, 2)}\n`)
  else io.stdout(cmd.hosts.length > 0 ? renderExplanations(view.explain) : renderRoutesText(view))
  return EXIT_OK
}

async function live(cmd: RoutesCommand, base: string, io: CliIo): Promise<number> {
  const url = new URL(`${base}/routes`)
  url.searchParams.set('format', cmd.json ? 'json' : 'text')
  for (const h of cmd.hosts) url.searchParams.append('host', h)

  let answer: FetchedText
  try {
    answer = await fetchText(url, FETCH_TIMEOUT_MS)
  } catch (err) {
    io.stderr(
      `cellgate: no cellgate answers at ${url.href} (${err instanceof Error ? err.message : String(err)}); ` +
        'is it running with its admin listener there? (--admin URL, or --config FILE for admin.host/admin.port; --offline needs no running cellgate)\n',
    )
    return EXIT_FAILURE
  }
  if (answer.status !== 200) {
    io.stderr(`cellgate: ${url.href} answered HTTP ${answer.status}: ${answer.body.trim().slice(0, 500)}\n`)
    return EXIT_FAILURE
  }
  const want = cmd.json ? 'application/json' : 'text/plain'
  if (!answer.contentType.startsWith(want)) {
    io.stderr(`cellgate: ${url.href} is not a cellgate admin listener (answered ${answer.contentType || 'no content type'}, expected ${want})\n`)
    return EXIT_FAILURE
  }
  io.stdout(answer.body.endsWith('\n') ? answer.body : `${answer.body}\n`)
  return EXIT_OK
}

/** Where the configured admin listener is reachable from this machine (a wildcard bind means loopback). */
export function adminUrlOf(config: CellgateConfig | undefined): string {
  if (config === undefined) return `http://${DEFAULT_LISTEN_HOST}:${DEFAULT_ADMIN_PORT}`
  const { host, port } = config.admin
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}`
}
