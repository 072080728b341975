import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ConfigError,
  DEFAULTS_SOURCE,
  applyOverrides,
  configPathFrom,
  configSchema,
  findProjectFile,
  loadConfig,
  loadConfigFile,
  resolveConfig,
  summarizeConfig,
} from '../../app/config.js'
import { DEFAULT_CONFIG } from '../../app/config-defaults.js'

const dir = mkdtempSync(join(tmpdir(), 'cellgate-config-test-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'
writeFileSync(join(dir, 'server.crt'), PEM)
writeFileSync(join(dir, 'server.key'), PEM.replace(/CERTIFICATE/g, 'PRIVATE KEY'))
writeFileSync(join(dir, 'not-pem.txt'), 'hello\n')

let n = 0
function file(content: string, ext: string): string {
  const p = join(dir, `cfg-${++n}${ext}`)
  writeFileSync(p, content)
  return p
}
const json = (v: unknown): string => file(JSON.stringify(v, null, 2), '.json')

t.test('defaults', async (t) => {
  t.same(resolveConfig({}, 'x'), DEFAULT_CONFIG, 'empty object = defaults')
  t.same(resolveConfig(null, 'x'), DEFAULT_CONFIG, 'empty YAML document = defaults')
  const { config, source } = loadConfig(undefined)
  t.equal(source, DEFAULTS_SOURCE)
  t.same(config, DEFAULT_CONFIG)
  t.equal(summarizeConfig(config), '1 cell, 1 user, 1 vhost, listening on 127.0.0.1:5673')
  t.same(loadConfigFile(file('', '.yaml')), DEFAULT_CONFIG, 'empty file = defaults')
  t.same(loadConfigFile(file('# only a comment\n', '.yml')), DEFAULT_CONFIG)
  // The result is a fresh object: changing it does not change the defaults.
  config.upstream.prefetch = 1
  t.equal(DEFAULT_CONFIG.upstream.prefetch, 256)
})

t.test('schema "default" values agree with app/config-defaults.ts', async (t) => {
  type Node = { properties?: Record<string, Node>; default?: unknown }
  const schema = configSchema() as Node
  const sections = schema.properties ?? {}
  const check = (node: Node, value: unknown, path: string): void => {
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      const v = (value as Record<string, unknown> | undefined)?.[k]
      if ('default' in child) t.same(v, child.default, `${path}/${k}`)
      if (child.properties && v !== undefined) check(child, v, `${path}/${k}`)
    }
  }
  for (const s of ['listen', 'amqp', 'upstream', 'log']) {
    const node = sections[s]
    t.ok(node, s)
    if (node) check(node, (DEFAULT_CONFIG as unknown as Record<string, unknown>)[s], `/${s}`)
  }
})

t.test('schema: every property has a description; every object forbids extra keys', async (t) => {
  type Node = { type?: string; properties?: Record<string, Node>; items?: Node; description?: string; additionalProperties?: unknown }
  const walk = (node: Node, path: string): void => {
    // A record ({host: cell}) has no fixed keys: its values must then be constrained by a schema.
    if (node.type === 'object' && node.properties !== undefined) t.equal(node.additionalProperties, false, `${path || '/'} additionalProperties`)
    else if (node.type === 'object') t.type(node.additionalProperties, 'object', `${path || '/'} is a record with typed values`)
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      t.ok(child.description, `${path}/${k} has a description`)
      walk(child, `${path}/${k}`)
    }
    if (node.items) walk(node.items, `${path}/items`)
  }
  walk(configSchema() as Node, '')
})

t.test('schema is found by walking up from the module', async (t) => {
  t.match(findProjectFile('schemas/config.schema.json'), /schemas[\\/]config\.schema\.json$/)
  t.throws(() => findProjectFile('no/such/file.anywhere'))
})

t.test('a valid YAML file', async (t) => {
  const path = file(
    `
listen:
  amqp: { host: 0.0.0.0, port: 0 }
  amqps:
    cert: server.crt        # relative to this file
    key: ${join(dir, 'server.key')}
cells:
  - name: cell1
    rabbit: amqp://u:p@rabbit1:5672/
  - name: cell2
    rabbit: amqps://u:p@rabbit2:5671/nova
    disabled: true
vhosts:
  - name: /
  - name: cell1
    cell: cell1
users:
  - name: nova
    passwordSha256: 2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B
  - name: guest
    password: guest
    vhosts: [cell1]
upstream:
  prefetch: 10
log: { format: json }
`,
    '.yaml',
  )
  const c = loadConfigFile(path)
  t.same(c.listen.amqp, { host: '0.0.0.0', port: 0 })
  t.same(c.listen.amqps, { host: '127.0.0.1', port: 5674, cert: join(dir, 'server.crt'), key: join(dir, 'server.key') })
  t.same(c.cells, [
    { name: 'cell1', rabbit: 'amqp://u:p@rabbit1:5672/', disabled: false },
    { name: 'cell2', rabbit: 'amqps://u:p@rabbit2:5671/nova', disabled: true },
  ])
  t.same(c.vhosts, [{ name: '/' }, { name: 'cell1', cell: 'cell1' }])
  t.same(c.users, [
    { name: 'nova', passwordSha256: '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b', vhosts: ['*'] },
    { name: 'guest', password: 'guest', vhosts: ['cell1'] },
  ])
  t.same(c.upstream, { ...DEFAULT_CONFIG.upstream, prefetch: 10 }, 'objects merge over the defaults')
  t.same(c.amqp, DEFAULT_CONFIG.amqp)
  t.same(c.log, { level: 'info', format: 'json' })
  t.equal(summarizeConfig(c), '2 cells (1 disabled), 2 users, 2 vhosts, listening on 0.0.0.0:0 and amqps 127.0.0.1:5674')
})

t.test('a valid JSON file, and other extensions', async (t) => {
  const raw = {
    $schema: '../schemas/config.schema.json',
    cells: [{ name: 'a', rabbit: 'amqp://x:y@[::1]:5672/' }],
    amqp: { heartbeat: 1, frameMax: 4096, channelMax: 65535, maxMessageBytes: 1 },
  }
  const c = loadConfigFile(json(raw))
  t.same(c.cells, [{ name: 'a', rabbit: 'amqp://x:y@[::1]:5672/', disabled: false }])
  t.same(c.amqp, raw.amqp)
  t.same(c.users, DEFAULT_CONFIG.users, 'arrays not given keep the defaults')
  t.notOk('$schema' in c, '$schema is accepted and dropped')
  t.same(loadConfigFile(file(JSON.stringify(raw), '.conf')), c, 'JSON in a .conf file')
  t.same(loadConfigFile(file('cells:\n  - {name: a, rabbit: "amqp://x:y@[::1]:5672/"}\namqp: {heartbeat: 1, frameMax: 4096, channelMax: 65535, maxMessageBytes: 1}\n', '.conf')), c, 'YAML in a .conf file')
})

t.test('examples/one-shard.yaml is valid and equals the defaults plus vhost cell1 and its user', async (t) => {
  const c = loadConfigFile(findProjectFile('examples/one-shard.yaml'))
  t.same(c.cells, DEFAULT_CONFIG.cells)
  t.same(c.amqp, DEFAULT_CONFIG.amqp)
  t.same(c.upstream, DEFAULT_CONFIG.upstream)
  t.same(c.log, DEFAULT_CONFIG.log)
  t.same(c.listen, DEFAULT_CONFIG.listen)
  t.same(c.vhosts, [{ name: '/' }, { name: 'cell1', cell: 'default' }])
  t.same(c.users[0], DEFAULT_CONFIG.users[0])
  t.same(c.users[1]?.vhosts, ['cell1'])
})

t.test('config path: --config, else $CELLGATE_CONFIG, else defaults', async (t) => {
  t.equal(configPathFrom('a.yaml', { CELLGATE_CONFIG: 'b.yaml' }), 'a.yaml')
  t.equal(configPathFrom(undefined, { CELLGATE_CONFIG: 'b.yaml' }), 'b.yaml')
  t.equal(configPathFrom(undefined, { CELLGATE_CONFIG: '' }), undefined)
  t.equal(configPathFrom(undefined, {}), undefined)
})

t.test('command-line overrides', async (t) => {
  const c = applyOverrides(DEFAULT_CONFIG, { amqpPort: 0, amqpHost: '::', logLevel: 'debug', logFormat: 'json' })
  t.same(c.listen.amqp, { host: '::', port: 0 })
  t.same(c.log, { level: 'debug', format: 'json' })
  t.equal(DEFAULT_CONFIG.listen.amqp.port, 5673, 'input untouched')
  t.equal(summarizeConfig(c), '1 cell, 1 user, 1 vhost, listening on [::]:0')
})

interface Bad {
  name: string
  /** A value to write as JSON, or [text, extension]. */
  raw: unknown
  field: string
  /** Further text the message must contain. */
  says?: string | RegExp
}

const user = { name: 'u', password: 'p' }
const cell = { name: 'cell1', rabbit: 'amqp://guest:guest@127.0.0.1:5672/' }
const tls = (more: object): object => ({ listen: { amqps: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ...more } } })

const bad: Bad[] = [
  // Types and ranges
  { name: 'wrong type (string for integer)', raw: { upstream: { prefetch: 'abc' } }, field: '/upstream/prefetch', says: 'must be an integer in 1..65535 (got "abc")' },
  { name: 'wrong type (number for string)', raw: { listen: { amqp: { host: 5 } } }, field: '/listen/amqp/host', says: '(got 5)' },
  { name: 'wrong type (object for list)', raw: { cells: { name: 'x' } }, field: '/cells', says: 'a list' },
  { name: 'wrong type (boolean)', raw: { cells: [{ ...cell, disabled: 'no' }] }, field: '/cells/0/disabled', says: 'true or false' },
  { name: 'not an integer', raw: { amqp: { channelMax: 1.5 } }, field: '/amqp/channelMax' },
  { name: 'document is a list', raw: [1, 2], field: '/', says: 'mapping' },
  { name: 'document is a string (YAML)', raw: ['just text\n', '.yaml'], field: '/' },
  { name: 'port too large', raw: { listen: { amqp: { port: 70000 } } }, field: '/listen/amqp/port', says: '0..65535 (got 70000)' },
  { name: 'port negative', raw: { listen: { amqp: { port: -1 } } }, field: '/listen/amqp/port' },
  { name: 'port as text', raw: { listen: { amqp: { port: '5673' } } }, field: '/listen/amqp/port' },
  { name: 'amqps port too large', raw: tls({ port: 65536 }), field: '/listen/amqps/port' },
  { name: 'heartbeat 0', raw: { amqp: { heartbeat: 0 } }, field: '/amqp/heartbeat', says: '1..3600 (got 0)' },
  { name: 'heartbeat too large', raw: { amqp: { heartbeat: 3601 } }, field: '/amqp/heartbeat' },
  { name: 'upstream heartbeat 0', raw: { upstream: { heartbeat: 0 } }, field: '/upstream/heartbeat' },
  { name: 'frameMax too small', raw: { amqp: { frameMax: 4095 } }, field: '/amqp/frameMax', says: '4096..1048576' },
  { name: 'frameMax too large', raw: { amqp: { frameMax: 1048577 } }, field: '/amqp/frameMax' },
  { name: 'channelMax 0', raw: { amqp: { channelMax: 0 } }, field: '/amqp/channelMax' },
  { name: 'maxMessageBytes 0', raw: { amqp: { maxMessageBytes: 0 } }, field: '/amqp/maxMessageBytes' },
  { name: 'prefetch 0', raw: { upstream: { prefetch: 0 } }, field: '/upstream/prefetch' },
  { name: 'log level', raw: { log: { level: 'verbose' } }, field: '/log/level', says: 'one of "debug", "info", "warn", "error" (got "verbose")' },
  { name: 'log format', raw: { log: { format: 'xml' } }, field: '/log/format' },
  { name: 'reconnect max below first delay', raw: { upstream: { reconnectDelayMs: 2000, reconnectMaxDelayMs: 1000 } }, field: '/upstream/reconnectMaxDelayMs', says: '>= reconnectDelayMs' },
  // Unknown keys, at every level
  { name: 'unknown top-level key', raw: { cell: [] }, field: '/cell', says: 'did you mean "cells"' },
  { name: 'unknown nested key', raw: { listen: { amqp: { prot: 1 } } }, field: '/listen/amqp/prot', says: 'unknown property "prot" (did you mean "port"? known: host, port)' },
  { name: 'unknown key in a list item', raw: { cells: [{ ...cell, weight: 2 }] }, field: '/cells/0/weight', says: 'unknown property "weight"' },
  { name: 'unknown key in a user', raw: { users: [{ ...user, pasword: 'x' }] }, field: '/users/0/pasword', says: 'did you mean "password"' },
  { name: 'unknown key (YAML)', raw: ['upstream:\n  prefech: 3\n', '.yml'], field: '/upstream/prefech', says: 'did you mean "prefetch"' },
  // Required fields
  { name: 'missing password', raw: { users: [{ name: 'u', vhosts: ['/'] }] }, field: '/users/0/password', says: '"password" or "passwordSha256"' },
  { name: 'missing user name', raw: { users: [{ password: 'p' }] }, field: '/users/0/name', says: 'is required' },
  { name: 'blank password', raw: { users: [{ name: 'u', password: '' }] }, field: '/users/0/password', says: 'must not be empty' },
  { name: 'password and passwordSha256', raw: { users: [{ ...user, passwordSha256: 'a'.repeat(64) }] }, field: '/users/0/passwordSha256', says: 'not both' },
  { name: 'passwordSha256 not 64 hex', raw: { users: [{ name: 'u', passwordSha256: 'abc' }] }, field: '/users/0/passwordSha256', says: '64 hex digits' },
  { name: 'missing cell rabbit', raw: { cells: [{ name: 'c' }] }, field: '/cells/0/rabbit', says: 'is required' },
  { name: 'amqps without key', raw: { listen: { amqps: { cert: join(dir, 'server.crt') } } }, field: '/listen/amqps/key', says: 'is required' },
  // Values
  { name: 'rabbit URL not amqp', raw: { cells: [{ name: 'c', rabbit: 'http://h:5672/' }] }, field: '/cells/0/rabbit', says: 'amqp:// or amqps:// URL' },
  { name: 'rabbit URL without host', raw: { cells: [{ name: 'c', rabbit: 'amqp://' }] }, field: '/cells/0/rabbit', says: 'not a usable broker URL' },
  { name: 'rabbit URL password not echoed', raw: { cells: [{ name: 'c', rabbit: 'amqp://u:s3cret@' }] }, field: '/cells/0/rabbit', says: /^(?!.*s3cret)/ },
  { name: 'bad cell name', raw: { cells: [{ name: 'cell 1', rabbit: cell.rabbit }] }, field: '/cells/0/name' },
  // Cell routing
  { name: 'routing names an unknown cell', raw: { cells: [cell], routing: { parkingCell: 'cell0' } }, field: '/routing/parkingCell', says: 'cell "cell0" is not configured (known: cell1)' },
  { name: 'parking cell as default cell', raw: { cells: [cell, { ...cell, name: 'cell0' }], routing: { parkingCell: 'cell0', defaultCell: 'cell0' } }, field: '/routing/defaultCell', says: 'takes no work' },
  { name: 'parking cell is the only enabled cell', raw: { cells: [{ ...cell, disabled: true }, { ...cell, name: 'cell0' }], routing: { parkingCell: 'cell0' } }, field: '/routing/parkingCell', says: 'only enabled cell' },
  { name: 'host mapped to an unknown cell', raw: { cells: [cell], mapping: { hosts: { 'compute/7': 'cell9' } } }, field: '/mapping/hosts/compute~17', says: 'cell "cell9" is not configured' },
  { name: 'instance key is not a uuid', raw: { cells: [cell], mapping: { instances: { 'not-a-uuid': 'cell1' } } }, field: '/mapping/instances' },
  { name: 'cell uuid malformed', raw: { cells: [{ ...cell, uuid: 'abc' }] }, field: '/cells/0/uuid' },
  { name: 'duplicate cell uuid', raw: { cells: [{ ...cell, uuid: '11111111-2222-3333-4444-555555555555' }, { ...cell, name: 'c2', uuid: '11111111-2222-3333-4444-555555555555' }] }, field: '/cells/1/uuid', says: 'duplicate cell uuid' },
  { name: 'empty vhost name', raw: { vhosts: [{ name: '' }] }, field: '/vhosts/0/name', says: 'must not be empty' },
  { name: 'vhost name too long', raw: { vhosts: [{ name: 'v'.repeat(256) }] }, field: '/vhosts/0/name', says: 'at most 255 characters (got 256)' },
  { name: 'no cells', raw: { cells: [] }, field: '/cells', says: 'at least 1 item' },
  { name: 'no users', raw: { users: [] }, field: '/users' },
  { name: 'every cell disabled', raw: { cells: [{ ...cell, disabled: true }] }, field: '/cells', says: 'at least one must be enabled' },
  // Cross-field
  { name: 'vhost -> unknown cell', raw: { cells: [cell], vhosts: [{ name: '/' }, { name: 'x', cell: 'cell9' }] }, field: '/vhosts/1/cell', says: 'cell "cell9" is not configured (known: cell1)' },
  {
    name: 'user -> unknown vhost',
    raw: { vhosts: [{ name: '/' }, { name: 'cell1' }], users: [user, { ...user, name: 'v', vhosts: ['/', 'cell1'] }, { ...user, name: 'w', vhosts: ['cell9'] }] },
    field: '/users/2/vhosts/0',
    says: 'vhost "cell9" is not configured (known: /, cell1',
  },
  { name: 'user -> unknown vhost (defaults)', raw: { users: [{ ...user, vhosts: ['*', 'cell1'] }] }, field: '/users/0/vhosts/1', says: '(known: /' },
  { name: 'duplicate cell names', raw: { cells: [cell, { ...cell, rabbit: 'amqp://h2/' }] }, field: '/cells/1/name', says: 'duplicate cell name "cell1" (also /cells/0/name)' },
  { name: 'duplicate vhost names', raw: { vhosts: [{ name: '/' }, { name: 'a' }, { name: 'a' }] }, field: '/vhosts/2/name' },
  { name: 'duplicate user names', raw: { users: [user, user] }, field: '/users/1/name' },
  { name: 'unreadable TLS cert', raw: tls({ cert: join(dir, 'missing.crt') }), field: '/listen/amqps/cert', says: 'cannot read' },
  { name: 'TLS key not PEM', raw: tls({ key: join(dir, 'not-pem.txt') }), field: '/listen/amqps/key', says: 'not a PEM file' },
  { name: 'TLS ca unreadable (relative path)', raw: tls({ ca: 'nope/ca.crt' }), field: '/listen/amqps/ca', says: join(dir, 'nope/ca.crt') },
  { name: 'amqps on the amqp address', raw: tls({ port: 5673 }), field: '/listen/amqps/port', says: 'same address' },
  // Syntax
  { name: 'YAML syntax error', raw: ['listen:\n  amqp: {host: a\n', '.yaml'], field: '/', says: 'invalid YAML at line' },
  { name: 'YAML duplicate key', raw: ['log:\n  level: info\n  level: debug\n', '.yaml'], field: '/', says: 'invalid YAML' },
  { name: 'JSON syntax error', raw: ['{\n  "log": {,}\n}\n', '.json'], field: '/', says: 'invalid JSON' },
]

t.test('bad input is refused with the field named', async (t) => {
  for (const b of bad) {
    const path = Array.isArray(b.raw) && b.raw.length === 2 && typeof b.raw[0] === 'string' && typeof b.raw[1] === 'string'
      ? file(b.raw[0], b.raw[1])
      : json(b.raw)
    let err: unknown
    try {
      loadConfigFile(path)
    } catch (e) {
      err = e
    }
    if (!(err instanceof ConfigError)) {
      t.fail(`${b.name}: expected a ConfigError, got ${String(err)}`)
      continue
    }
    t.equal(err.field, b.field, `${b.name}: field`)
    t.ok(err.message.startsWith(`${path}: ${b.field}: `), `${b.name}: message names file and field: ${err.message}`)
    if (b.says !== undefined) {
      if (typeof b.says === 'string') t.ok(err.message.includes(b.says), `${b.name}: message says ${JSON.stringify(b.says)}: ${err.message}`)
      else t.match(err.message, b.says, `${b.name}: message matches ${String(b.says)}`)
    }
  }
})

t.test('missing file', async (t) => {
  const path = join(dir, 'does-not-exist.yaml')
  t.throws(() => loadConfigFile(path), { name: 'ConfigError', field: '/', message: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: /: cannot read config file`) })
})

t.test('resolveConfig reports the source it is given', async (t) => {
  t.throws(() => resolveConfig({ upstream: { prefetch: 'abc' } }, 'config.yaml'), {
    message: 'config.yaml: /upstream/prefetch: must be an integer in 1..65535 (got "abc")',
    field: '/upstream/prefetch',
  })
})
