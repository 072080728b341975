/**
 * The text of `cellgate --help` and `cellgate help COMMAND`. Options come from the table in
 * cli/args.ts and default values from app/config-defaults.ts, so neither can drift from the code.
 */
import { CLI_OPTIONS, type CliOptionSpec, type CommandName } from './args.js'
import { DEFAULT_AMQPS_PORT, DEFAULT_CONFIG } from '../app/config-defaults.js'

const d = DEFAULT_CONFIG
const firstCell = d.cells[0]

const ABOUT = [
  'cellgate: a transparent AMQP 0-9-1 proxy for OpenStack. Unmodified services keep one transport_url;',
  'cellgate terminates their AMQP connections and spreads the traffic over RabbitMQ shards ("cells").',
]

const USAGE = [
  'Usage:',
  '  cellgate [serve] [options]        run the proxy (the default command)',
  '  cellgate check-config [options]   load and validate the configuration, print a summary, exit',
  '  cellgate routes [options]         the operator view: cells and their brokers, host mapping, where',
  '                                    queues live; --host H explains where H goes (--offline: no proxy needed)',
  '  cellgate parked list|replay       messages parked in the parking cell (cell0): show them, or re-send',
  '                                    those whose host now has a cell',
  '  cellgate help [COMMAND]           show this help, or the help of one command',
  '  npm start -- [COMMAND] [options]  the same from a checkout: installs dependencies and builds first',
]

function optionLines(names?: readonly string[]): string[] {
  const specs = CLI_OPTIONS.filter((o) => !names || names.includes(o.name))
  const label = (o: CliOptionSpec): string =>
    `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.arg ? ` ${o.arg}` : ''}`
  const width = Math.max(...specs.map((o) => label(o).length)) + 2
  const out = ['Options:']
  for (const o of specs) {
    out.push(`  ${label(o).padEnd(width)}${o.help}`)
    if (o.default) out.push(`  ${''.padEnd(width)}default: ${o.default}`)
  }
  return out
}

const CONFIG_FILE = [
  'Configuration file (--config FILE, or $CELLGATE_CONFIG):',
  '  YAML or JSON, validated against schemas/config.schema.json; unknown keys are errors, and every',
  '  error names the field (e.g. "f.yaml: /upstream/prefetch: must be an integer in 1..65535").',
  '  Every field is optional: objects are merged over the built-in defaults, while the lists',
  '  (cells, vhosts, users) replace the default lists. Sections and defaults:',
  `    listen     amqp.host (${d.listen.amqp.host}), amqp.port (${d.listen.amqp.port});`,
  `               amqps: optional TLS listener {host, port (${DEFAULT_AMQPS_PORT}), cert, key, ca} (PEM files)`,
  '    cells      the RabbitMQ shards: list of {name, rabbit (amqp[s]://user:pass@host:port/vhost), disabled,',
  '               uuid (nova cell uuid), database (mysql://...), region, pod, createVhost (local brokers)}',
  `               default: one cell "${firstCell?.name ?? 'default'}" at ${firstCell?.rabbit ?? ''}`,
  `    vhosts     vhosts clients may open: list of {name, cell (routing hint)}; default: ${d.vhosts.map((v) => `"${v.name}"`).join(', ')}`,
  '    users      client credentials checked by cellgate: list of {name, password or passwordSha256,',
  `               vhosts (names or "*")}; default: ${d.users.map((u) => `${u.name}/${u.password ?? '***'}`).join(', ')}`,
  `    amqp       heartbeat (${d.amqp.heartbeat} s), frameMax (${d.amqp.frameMax}), channelMax (${d.amqp.channelMax}),`,
  `               maxMessageBytes (${d.amqp.maxMessageBytes})`,
  `    upstream   connectionsPerCell (${d.upstream.connectionsPerCell}), channelsPerConnection (${d.upstream.channelsPerConnection}), prefetch (${d.upstream.prefetch}),`,
  `               maxUnconfirmedPerChannel (${d.upstream.maxUnconfirmedPerChannel}), heartbeat (${d.upstream.heartbeat} s),`,
  `               reconnectDelayMs (${d.upstream.reconnectDelayMs}), reconnectMaxDelayMs (${d.upstream.reconnectMaxDelayMs})`,
  '    routing    host (sidecar: the host this cellgate serves), defaultCell, parkingCell (cell0: messages',
  '               for hosts of disabled/unknown cells wait there), notificationsCell (aggregate notifications)',
  '    mapping    hosts {host: cell}, instances {uuid: cell}, novaApi (nova_api DB URL), store (cellgate\'s',
  `               own tables: SQLite path or mysql:// URL), file (mapping file), pollIntervalMs (${d.mapping.pollIntervalMs});`,
  '               unmapped hosts go by rendezvous hashing',
  `    admin      HTTP admin listener: enabled (${String(d.admin.enabled)}), host (${d.admin.host}), port (${d.admin.port})`,
  `    telemetry  serviceName (${d.telemetry.serviceName}); tracing {exporter (${d.telemetry.tracing.exporter}: none|console|otlp-http),`,
  `               sampleRatio (${d.telemetry.tracing.sampleRatio}), endpoint}; metrics {prometheus (${String(d.telemetry.metrics.prometheus)}: /metrics on the admin`,
  `               listener), otlpEndpoint, otlpIntervalMs (${d.telemetry.metrics.otlpIntervalMs})}`,
  `    recorder   enabled (false): record what passes through as a storm trace (sizes, timing, hashed`,
  `               payloads); file, maxSeconds, maxEvents, pseudonymizeHosts`,
  `    sql        MySQL-protocol front end: enabled (${String(d.sql.enabled)}), host (${d.sql.host}), port (${d.sql.port}), defaultBackend`,
  `               (${d.sql.defaultBackend}), databases {name: mysql://...}, users [{name, password|nativePasswordHash}],`,
  '               shardMode {database, shards [{name, url}]}: one logical database spread over shards',
  `    log        level (${d.log.level}: debug|info|warn|error), format (${d.log.format}: text|json)`,
  '  A commented example: examples/one-shard.yaml. Full reference: README.md.',
]

const EXAMPLES = [
  'Examples:',
  '  npm start                                         # install, build, serve with the built-in defaults',
  '  npm start -- --config examples/one-shard.yaml     # serve with a config file',
  '  cellgate check-config --config f.yaml             # validate f.yaml, exit 2 on an error',
  '  CELLGATE_CONFIG=/etc/cellgate.yaml cellgate serve --log-level debug',
  '  cellgate routes                                   # the view of the cellgate at http://127.0.0.1:9464',
  '  cellgate routes --host node7 --host node8         # where those hosts\' messages go, and why',
  '  cellgate routes --offline --config f.yaml --host node7   # the same from f.yaml alone',
]

const OPENSTACK = [
  'Pointing an OpenStack (oslo.messaging) service at cellgate, e.g. in nova.conf:',
  '  [DEFAULT]',
  `  transport_url = rabbit://guest:guest@${d.listen.amqp.host}:${d.listen.amqp.port}/`,
  '  (the user and password are one of cellgate\'s `users`; the path is one of its `vhosts`)',
]

const EXIT = ['Exit status: 0 ok; 1 failed to start, stopped on an error, or (routes) nothing answered; 2 bad command line or configuration.']

const COMMAND_HELP: Record<CommandName, () => string[]> = {
  serve: () => [
    'Usage: cellgate [serve] [options]',
    '',
    'Run the proxy: listen on listen.amqp (and listen.amqps if configured), connect to every enabled',
    'cell, and serve AMQP 0-9-1 clients until SIGINT or SIGTERM. The first signal closes gracefully',
    '("shutting down"); a second one forces the exit.',
    '',
    ...optionLines(['config', 'amqp-host', 'amqp-port', 'log-level', 'log-format', 'help']),
    '',
    ...OPENSTACK,
    '',
    EXIT[0] ?? '',
  ],
  'check-config': () => [
    'Usage: cellgate check-config [options]',
    '',
    'Load the configuration (--config FILE, $CELLGATE_CONFIG, or the built-in defaults), validate it',
    'against schemas/config.schema.json and the cross-field rules (unique names, vhosts and cells that',
    'exist, readable TLS files), apply the command-line overrides, and print',
    '  config OK: N cells, N users, N vhosts, listening on HOST:PORT',
    'or the error naming the field, e.g.',
    '  f.yaml: /users/1/vhosts/0: vhost "cell9" is not configured (known: /, cell1; or "*" for all)',
    'Connects to nothing. Exit status 0 when valid, 2 when not.',
    '',
    ...optionLines(['config', 'amqp-host', 'amqp-port', 'log-level', 'log-format', 'help']),
  ],
  routes: () => [
    'Usage: cellgate routes [--admin URL] [--config FILE] [--json] [--host HOST]...',
    '       cellgate routes --offline --config FILE [--json] [--host HOST]...',
    '',
    'The operator view. Asks a running cellgate\'s admin listener (GET /routes) and prints its cells',
    '(state: work, parking or disabled; broker up or down, connections, reconnects), the mapped hosts',
    'and where their messages go, the queues declared through it and the cells holding them, the',
    'processes it has learned and its routing counters (routed per cell, parked and refused per host).',
    'With --host HOST (repeatable) it prints one line per host instead, e.g.',
    '  node7 → cell2 (host-mapping from nova_api)',
    '  node9 → cell1 (rendezvous)',
    '  old1 → parked in cell0 (mapped to disabled cell3)',
    'The listener is --admin URL, else admin.host:admin.port of the configuration (--config FILE or',
    `$CELLGATE_CONFIG), else http://${d.admin.host}:${d.admin.port}. If nothing answers there, it says so and exits 1.`,
    'The same listener serves /routes (JSON; ?format=text, ?host=H), /healthz and /readyz (200 when',
    'every enabled cell\'s broker is reachable, else 503 with the unreachable cells).',
    '',
    'With --offline no cellgate needs to run: the cell map is built from the configuration file alone',
    '(cells, routing.parkingCell, mapping.hosts and mapping.instances; mapping.novaApi, mapping.store',
    'and mapping.file are not read), so it answers "where would HOST go" before anything starts.',
    '',
    ...optionLines(['admin', 'config', 'json', 'host', 'offline', 'help']),
    '',
    'Exit status: 0 printed; 1 nothing answered (or an error answer); 2 bad command line or configuration.',
  ],
  parked: () => [
    'Usage: cellgate parked list [--config FILE] [--json] [--host HOST]... [--limit N]',
    '       cellgate parked replay [--config FILE] [--host HOST]... [--limit N]',
    '',
    'Messages for a host whose cell is disabled or unknown to cellgate wait in the queue',
    '"cellgate.parked" of routing.parkingCell, with their original exchange, routing key, host and',
    'reason in x-cellgate-parked-* headers. Both actions talk to the brokers named in the',
    'configuration directly; no running cellgate is needed.',
    '  list    shows them (position, host, reason, the cell the mapping named, destination, size)',
    '          without consuming them.',
    '  replay  re-sends each message whose host now belongs to a cell that takes work (per the',
    '          configuration and its mapping sources) to that cell\'s broker, under its original',
    '          exchange and routing key, mandatory and confirmed; only then is it removed from the',
    '          parking queue. One that comes back unroutable (no queue for the host there yet) or whose',
    '          host still has no cell stays parked. Prints what was re-sent and what stays, and why.',
    '',
    ...optionLines(['config', 'json', 'host', 'limit', 'help']),
    '',
    'Exit status: 0 done (also when messages stay parked); 1 a broker could not be reached; 2 bad command line',
    'or configuration (e.g. no routing.parkingCell).',
  ],
  help: () => [
    'Usage: cellgate help [COMMAND]    (or: cellgate [COMMAND] --help)',
    '',
    `Show the general help, or the help of one command (${Object.keys(COMMAND_HELP).join(', ')}).`,
  ],
}

/** The general help (no topic) or the help of one command, ending in a newline. */
export function helpText(topic?: CommandName, version?: string): string {
  if (topic) return [...COMMAND_HELP[topic](), ''].join('\n')
  const title = version ? [`cellgate ${version}`, ''] : []
  return [
    ...title,
    ...ABOUT,
    '',
    ...USAGE,
    '',
    ...optionLines(),
    '',
    ...CONFIG_FILE,
    '',
    ...EXAMPLES,
    '',
    ...OPENSTACK,
    '',
    ...EXIT,
    '',
  ].join('\n')
}
