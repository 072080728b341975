import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_OPTIONS, COMMANDS, CliUsageError, parseCliArgs, type CliCommand } from '../../cli/args.js'
import { helpText } from '../../cli/help.js'
import { main, type CliIo } from '../../cli/main.js'
import { configSchema } from '../../app/config.js'

const ok: Array<[string[], CliCommand]> = [
  [[], { command: 'serve', overrides: {} }],
  [['serve'], { command: 'serve', overrides: {} }],
  [['--config', 'f.yaml'], { command: 'serve', configPath: 'f.yaml', overrides: {} }],
  [['serve', '--config=f.yaml'], { command: 'serve', configPath: 'f.yaml', overrides: {} }],
  [['--config', 'f.yaml', 'check-config'], { command: 'check-config', configPath: 'f.yaml', overrides: {} }],
  [['check-config'], { command: 'check-config', overrides: {} }],
  [
    ['serve', '--amqp-port', '0', '--amqp-host', '0.0.0.0', '--log-level', 'debug', '--log-format', 'json'],
    { command: 'serve', overrides: { amqpPort: 0, amqpHost: '0.0.0.0', logLevel: 'debug', logFormat: 'json' } },
  ],
  [['--amqp-port=65535', '--amqp-port', '5680'], { command: 'serve', overrides: { amqpPort: 5680 } }],
  [['--amqp-host', '::1'], { command: 'serve', overrides: { amqpHost: '::1' } }],
  [['--config', '-'], { command: 'serve', configPath: '-', overrides: {} }],
  [['--config=-odd-name.yaml'], { command: 'serve', configPath: '-odd-name.yaml', overrides: {} }],
  [['--help'], { command: 'help' }],
  [['-h'], { command: 'help' }],
  [['help'], { command: 'help' }],
  [['help', 'serve'], { command: 'help', topic: 'serve' }],
  [['help', 'check-config'], { command: 'help', topic: 'check-config' }],
  [['help', 'help'], { command: 'help', topic: 'help' }],
  [['serve', '--help'], { command: 'help', topic: 'serve' }],
  [['check-config', '-h', '--amqp-port', 'x'], { command: 'help', topic: 'check-config' }],
  [['--version'], { command: 'version' }],
  [['--version', '--help'], { command: 'help' }],
  [['routes'], { command: 'routes', json: false, offline: false, hosts: [] }],
  [['routes', '--json', '--host', 'node7', '--host=node8.example.com', '--host', 'h@lvm'], { command: 'routes', json: true, offline: false, hosts: ['node7', 'node8.example.com', 'h@lvm'] }],
  [['routes', '--admin', 'http://10.0.0.5:9464'], { command: 'routes', adminUrl: 'http://10.0.0.5:9464', json: false, offline: false, hosts: [] }],
  [['routes', '--admin', '127.0.0.1:9999'], { command: 'routes', adminUrl: 'http://127.0.0.1:9999', json: false, offline: false, hosts: [] }],
  [['routes', '--admin', 'https://ops.example/cellgate/routes/'], { command: 'routes', adminUrl: 'https://ops.example/cellgate', json: false, offline: false, hosts: [] }],
  [['routes', '--admin', 'http://[::1]:9464/'], { command: 'routes', adminUrl: 'http://[::1]:9464', json: false, offline: false, hosts: [] }],
  [['routes', '--offline', '--config', 'f.yaml', '--host', 'a'], { command: 'routes', configPath: 'f.yaml', json: false, offline: true, hosts: ['a'] }],
  [['--config', 'f.yaml', 'routes'], { command: 'routes', configPath: 'f.yaml', json: false, offline: false, hosts: [] }],
  [['help', 'routes'], { command: 'help', topic: 'routes' }],
  [['routes', '--help', '--json'], { command: 'help', topic: 'routes' }],
]

t.test('valid command lines', async (t) => {
  for (const [argv, want] of ok) t.same(parseCliArgs(argv), want, argv.join(' ') || '(no arguments)')
})

const bad: Array<[string[], RegExp]> = [
  [['--foo'], /^unknown option --foo \(see 'cellgate --help'\)$/],
  [['serve', '--port', '1'], /unknown option --port .*--help/],
  [['-z'], /unknown option -z .*--help/],
  [['-hz'], /unknown option -z/],
  [['--h'], /unknown option --h\b/],
  [['--amqp-port', 'abc'], /--amqp-port must be an integer in 0\.\.65535 \(got "abc"\)/],
  [['--amqp-port', '70000'], /--amqp-port must be an integer in 0\.\.65535 \(got "70000"\)/],
  [['--amqp-port', '-1'], /--amqp-port needs a value/],
  [['--amqp-port=-1'], /--amqp-port must be an integer/],
  [['--amqp-port', '1.5'], /--amqp-port must be an integer/],
  [['--amqp-host', ''], /--amqp-host must not be empty/],
  [['--log-level', 'verbose'], /--log-level must be one of debug, info, warn, error \(got "verbose"\)/],
  [['--log-format', 'xml'], /--log-format must be one of text, json/],
  [['--config'], /--config needs a value: --config FILE/],
  [['--config', '--help'], /--config needs a value/],
  [['--help=yes'], /--help does not take a value/],
  [['--version=1'], /--version does not take a value/],
  [['bogus'], /unknown command "bogus" \(commands: serve, check-config, routes, parked, help; see 'cellgate --help'\)/],
  [['serve', 'extra'], /unexpected argument "extra"/],
  [['help', 'bogus'], /unknown help topic "bogus"/],
  [['help', 'serve', 'more'], /unexpected argument "more"/],
  [['routes', 'node7'], /unexpected argument "node7"/],
  [['routes', '--host'], /--host needs a value: --host HOST/],
  [['routes', '--host', ''], /--host must not be empty/],
  [['routes', '--json=yes'], /--json does not take a value/],
  [['routes', '--offline', '--admin', 'http://h:1'], /--offline and --admin exclude each other/],
  [['routes', '--admin', 'ftp://h/'], /--admin must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:9464 \(got "ftp:\/\/h\/"\)/],
  [['routes', '--admin', 'http://'], /--admin must be an http\(s\) URL/],
  [['routes', '--amqp-port', '1'], /^--amqp-port does not apply to "routes" \(only to: serve, check-config; see 'cellgate --help'\)$/],
  [['routes', '--log-level', 'debug'], /--log-level does not apply to "routes"/],
  [['parked'], /^parked needs an action: list or replay \(got none; see 'cellgate --help'\)$/],
  [['parked', 'drop'], /^parked needs an action: list or replay \(got "drop"/],
  [['parked', 'list', '--limit', '0'], /^--limit must be an integer in 1\.\.1000000 \(got "0"\)$/],
  [['routes', '--limit', '5'], /^--limit does not apply to "routes" \(only to: parked/],
  [['serve', '--json'], /^--json does not apply to "serve" \(only to: routes, parked; see 'cellgate --help'\)$/],
  [['--host', 'x'], /--host does not apply to "serve"/],
  [['check-config', '--offline'], /--offline does not apply to "check-config"/],
  [['check-config', '--admin', 'http://h:1'], /--admin does not apply to "check-config"/],
]

t.test('bad command lines are refused naming what is wrong', async (t) => {
  for (const [argv, message] of bad) {
    t.throws(() => parseCliArgs(argv), { name: 'CliUsageError', message }, argv.join(' '))
  }
  t.ok(new CliUsageError('x') instanceof Error)
})

t.test('--help mentions every command, option and config section', async (t) => {
  const text = helpText(undefined, '9.9.9')
  t.match(text, /^cellgate 9\.9\.9\n/)
  for (const c of COMMANDS) t.ok(text.includes(c), `command ${c}`)
  for (const o of CLI_OPTIONS) {
    t.ok(text.includes(`--${o.name}`), `option --${o.name}`)
    if (o.short) t.ok(text.includes(`-${o.short},`), `short option -${o.short}`)
  }
  t.ok(text.includes('schemas/config.schema.json'))
  t.ok(text.includes('transport_url = rabbit://guest:guest@127.0.0.1:5673/'))
  t.ok(text.includes('npm start -- --config examples/one-shard.yaml'))
  t.ok(text.includes('cellgate check-config --config f.yaml'))
  t.ok(text.includes('CELLGATE_CONFIG'))

  // Every top-level section of the config schema and every option inside it.
  type Node = { properties?: Record<string, Node>; items?: Node }
  const sections = (configSchema() as Node).properties ?? {}
  for (const [name, node] of Object.entries(sections)) {
    if (name === '$schema') continue
    t.match(text, new RegExp(`\\n {4}${name} `), `config section ${name}`)
    const fields = node.properties ?? node.items?.properties ?? {}
    for (const [field, sub] of Object.entries(fields)) {
      t.match(text, new RegExp(`\\b${field}\\b`), `${name}.${field}`)
      for (const leaf of Object.keys(sub.properties ?? {})) t.match(text, new RegExp(`\\b${leaf}\\b`), `${name}.${field}.${leaf}`)
    }
  }
})

t.test('per-command help', async (t) => {
  t.match(helpText('serve'), /^Usage: cellgate \[serve\] \[options\]/)
  t.match(helpText('serve'), /shutting down/)
  t.match(helpText('check-config'), /^Usage: cellgate check-config/)
  t.match(helpText('check-config'), /config OK: /)
  t.match(helpText('help'), /^Usage: cellgate help \[COMMAND\]/)
  const routes = helpText('routes')
  t.match(routes, /^Usage: cellgate routes \[--admin URL\] \[--config FILE\] \[--json\] \[--host HOST\]\.\.\.\n/)
  for (const o of CLI_OPTIONS.filter((o) => o.commands?.includes('routes'))) t.ok(routes.includes(`--${o.name}`), `routes help: --${o.name}`)
  t.match(routes, /\/healthz/)
  t.match(routes, /\/readyz/)
  t.match(routes, /http:\/\/127\.0\.0\.1:9464/)
  t.notMatch(routes, /--amqp-port/, 'only the options routes takes')
  for (const c of COMMANDS) {
    for (const o of CLI_OPTIONS) {
      if (o.commands !== undefined && !o.commands.includes(c)) t.notOk(helpText(c).includes(`--${o.name} `), `help ${c} does not offer --${o.name}`)
    }
  }
})

// main() without serving: help, version, check-config and the error paths.
function fakeIo(env: NodeJS.ProcessEnv = {}): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env,
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
  }
  return io
}

t.test('main: help, version, check-config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cellgate-cli-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const good = join(dir, 'good.yaml')
  writeFileSync(good, 'cells:\n  - {name: a, rabbit: "amqp://h/"}\n  - {name: b, rabbit: "amqp://h2/"}\nlisten: {amqp: {port: 6000}}\n')
  const broken = join(dir, 'broken.yaml')
  writeFileSync(broken, 'upstream:\n  prefetch: abc\n')

  let io = fakeIo()
  t.equal(await main(['--help'], io), 0)
  t.match(io.out, /Usage:/)

  io = fakeIo()
  t.equal(await main(['help', 'serve'], io), 0)
  t.match(io.out, /^Usage: cellgate \[serve\]/)

  io = fakeIo()
  t.equal(await main(['--version'], io), 0)
  t.match(io.out, /^\d+\.\d+\.\d+/)

  io = fakeIo()
  t.equal(await main(['check-config'], io), 0, 'defaults are valid')
  t.equal(io.out, 'config OK: 1 cell, 1 user, 1 vhost, listening on 127.0.0.1:5673\n')

  io = fakeIo()
  t.equal(await main(['check-config', '--config', good, '--amqp-host', '0.0.0.0'], io), 0)
  t.equal(io.out, 'config OK: 2 cells, 1 user, 1 vhost, listening on 0.0.0.0:6000\n')

  io = fakeIo({ CELLGATE_CONFIG: good })
  t.equal(await main(['check-config'], io), 0, '$CELLGATE_CONFIG names the file')
  t.match(io.out, /2 cells/)

  io = fakeIo({ CELLGATE_CONFIG: good })
  t.equal(await main(['check-config', '--config', broken], io), 2, '--config wins over $CELLGATE_CONFIG')
  t.equal(io.err, `cellgate: invalid configuration: ${broken}: /upstream/prefetch: must be an integer in 1..65535 (got "abc")\n`)

  io = fakeIo()
  t.equal(await main(['serve', '--config', join(dir, 'missing.yaml')], io), 2, 'serve refuses a bad config before starting')
  t.match(io.err, /missing\.yaml: \/: cannot read config file/)

  io = fakeIo()
  t.equal(await main(['--bogus'], io), 2)
  t.equal(io.err, "cellgate: unknown option --bogus (see 'cellgate --help')\n")
})
