// The mapping file source: the shipped example loads, every kind of mistake is refused with the
// field named, and the watcher picks up an edited file (fs.watch, and polling alone).
import t, { type Test } from 'tap'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileMappingSource, mappingFromDocument } from '../../adapters/mapping/file-source.js'
import { MappingFileError } from '../../adapters/mapping/mapping-file-error.js'
import { watchMapping } from '../../adapters/mapping/watch.js'
import { silentLogger } from '../../adapters/log/logger.js'
import type { MappingSnapshot } from '../../router/mapping-snapshot.js'

const EXAMPLE = fileURLToPath(new URL('../../examples/mapping.yaml', import.meta.url))

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-mapfile-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function plain(s: MappingSnapshot): { cells: unknown[]; hosts: Record<string, unknown>; instances: Record<string, unknown> } {
  return { cells: [...s.cells], hosts: Object.fromEntries(s.hosts), instances: Object.fromEntries(s.instances) }
}

t.test('the shipped example loads', async (t) => {
  const src = new FileMappingSource({ path: EXAMPLE, logger: silentLogger })
  const snap = await src.read()
  t.equal(snap.source, `file:${EXAMPLE}`)
  t.same(plain(snap), {
    cells: [
      { name: 'cell1', uuid: '5d275da1-f4c1-4b41-be28-1f38d2601792', transportUrl: 'rabbit://nova:secret@rabbit-cell1:5672/', databaseUrl: 'mysql+pymysql://nova:secret@db-cell1/nova', region: 'RegionOne', pod: 'az1', disabled: false },
      { name: 'cell2', transportUrl: 'rabbit://nova:secret@rabbit-cell2:5672/', region: 'RegionOne', pod: 'az2', disabled: false },
      { name: 'cell3', region: 'RegionOne', pod: 'az3', disabled: true },
    ],
    hosts: {
      'network-1': { name: 'cell1' },
      'network-2.example.org': { name: 'cell2' },
      'volume-1': { name: 'cell1' },
      'compute-99': { name: 'cell2' },
    },
    instances: { '9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e5f': { name: 'cell2' } },
  })
})

t.test('YAML and JSON files, empty file, uuids lower-cased', async (t) => {
  const dir = tempDir(t)
  const yamlPath = join(dir, 'm.yaml')
  writeFileSync(yamlPath, 'hosts:\n  h1: cell1\ninstances:\n  AAAAAAAA-1111-2222-3333-444444444444: cell2\n')
  const y = await new FileMappingSource({ path: yamlPath, logger: silentLogger }).read()
  t.same(plain(y), { cells: [], hosts: { h1: { name: 'cell1' } }, instances: { 'aaaaaaaa-1111-2222-3333-444444444444': { name: 'cell2' } } })

  const jsonPath = join(dir, 'm.json')
  writeFileSync(jsonPath, JSON.stringify({ cells: { c9: { disabled: true } }, hosts: { 'h@b': 'c9' } }))
  const j = await new FileMappingSource({ path: jsonPath, logger: silentLogger }).read()
  t.same(plain(j), { cells: [{ name: 'c9', disabled: true }], hosts: { 'h@b': { name: 'c9' } }, instances: {} })

  const emptyPath = join(dir, 'empty.yaml')
  writeFileSync(emptyPath, '# nothing mapped yet\n')
  const e = await new FileMappingSource({ path: emptyPath, logger: silentLogger }).read()
  t.same(plain(e), { cells: [], hosts: {}, instances: {} })
})

t.test('invalid documents are refused naming the field', async (t) => {
  const cases: { name: string; doc: unknown; field: string; detail: RegExp }[] = [
    { name: 'host mapped to a number', doc: { hosts: { 'compute-7': 7 } }, field: '/hosts/compute-7', detail: /must be a cell name.*\(got 7\)/ },
    { name: 'host mapped to a bad name', doc: { hosts: { 'compute-7': 'cell 1' } }, field: '/hosts/compute-7', detail: /must be a cell name.*\(got "cell 1"\)/ },
    { name: 'host mapped to null', doc: { hosts: { h: null } }, field: '/hosts/h', detail: /got null/ },
    { name: 'empty host name', doc: { hosts: { '': 'cell1' } }, field: '/hosts/', detail: /key must not be empty/ },
    { name: 'instance key not a uuid', doc: { instances: { 'not-a-uuid': 'cell1' } }, field: '/instances/not-a-uuid', detail: /key must be a uuid/ },
    { name: 'instance mapped to a list', doc: { instances: { '9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e5f': ['cell1'] } }, field: '/instances/9b6e8f4c-2d1a-4c3b-8e5f-0a1b2c3d4e5f', detail: /got a list/ },
    { name: 'two spellings of one uuid', doc: { instances: { 'AAAAAAAA-1111-2222-3333-444444444444': 'c1', 'aaaaaaaa-1111-2222-3333-444444444444': 'c2' } }, field: '/instances/aaaaaaaa-1111-2222-3333-444444444444', detail: /duplicate/ },
    { name: 'bad cell name', doc: { cells: { 'cell 1': {} } }, field: '/cells/cell 1', detail: /key must be a cell name/ },
    { name: 'cell disabled not boolean', doc: { cells: { cell1: { disabled: 'yes' } } }, field: '/cells/cell1/disabled', detail: /must be true or false/ },
    { name: 'cell uuid malformed', doc: { cells: { cell1: { uuid: 'abc' } } }, field: '/cells/cell1/uuid', detail: /must be a uuid/ },
    { name: 'typo in cell property', doc: { cells: { cell1: { regoin: 'r' } } }, field: '/cells/cell1/regoin', detail: /unknown property "regoin" \(known: uuid, transportUrl, databaseUrl, region, pod, disabled\)/ },
    { name: 'typo at top level', doc: { host: { h: 'c' } }, field: '/host', detail: /unknown property "host"/ },
    { name: 'hosts as a list', doc: { hosts: ['h1'] }, field: '/hosts', detail: /must be a mapping/ },
    { name: 'document is a list', doc: ['x'], field: '/', detail: /must be a mapping/ },
    { name: 'host with slash escaped in pointer', doc: { hosts: { 'a/b': 1 } }, field: '/hosts/a~1b', detail: /got 1/ },
  ]
  for (const c of cases) {
    try {
      mappingFromDocument(c.doc, 'm.yaml')
      t.fail(`${c.name}: accepted`)
    } catch (err) {
      t.ok(err instanceof MappingFileError, `${c.name}: a MappingFileError`)
      const e = err as MappingFileError
      t.equal(e.field, c.field, `${c.name}: field`)
      t.match(e.detail, c.detail, `${c.name}: detail`)
      t.equal(e.message, `m.yaml: ${e.field}: ${e.detail}`, `${c.name}: message names source and field`)
    }
  }
})

t.test('unparseable and unreadable files', async (t) => {
  const dir = tempDir(t)
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'hosts:\n  h1: cell1\n  h1: cell2\n')
  await t.rejects(new FileMappingSource({ path: bad, logger: silentLogger }).read(), { name: 'MappingFileError', field: '/', message: /invalid YAML at line 3.*unique/i })
  const badJson = join(dir, 'bad.json')
  writeFileSync(badJson, '{"hosts": {')
  await t.rejects(new FileMappingSource({ path: badJson, logger: silentLogger }).read(), { field: '/', message: /invalid JSON/ })
  await t.rejects(new FileMappingSource({ path: join(dir, 'missing.yaml'), logger: silentLogger }).read(), { field: '/', message: /cannot read mapping file/ })
})

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - start
}

for (const mode of ['fs.watch', 'polling only'] as const) {
  t.test(`an edited file is reported (${mode}); an invalid edit keeps the last good map`, async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'live.yaml')
    writeFileSync(path, 'hosts:\n  h1: cell1\n')
    const source = new FileMappingSource({ path, logger: silentLogger })
    const changes: MappingSnapshot[] = []
    const errors: Error[] = []
    const w = watchMapping({
      source,
      // With fs.watch the poll interval is far longer than the deadline below: only the watch can meet it.
      intervalMs: mode === 'fs.watch' ? 60_000 : 50,
      logger: silentLogger,
      onChange: (s) => changes.push(s),
      onError: (e) => errors.push(e),
      ...(mode === 'polling only' ? { subscribe: () => () => {} } : {}),
    })
    t.teardown(() => w.stop())
    await w.pollNow()
    t.equal(changes.length, 1, 'first read reported')
    t.same(Object.fromEntries(changes[0]?.hosts ?? []), { h1: { name: 'cell1' } })

    // Rewrite with the same content: no report.
    writeFileSync(path, 'hosts:\n  h1: cell1\n')
    await new Promise((r) => setTimeout(r, 300))
    t.equal(changes.length, 1, 'no report for an unchanged file')

    // Replace by rename, as editors do.
    writeFileSync(join(dir, 'live.yaml.tmp'), 'hosts:\n  h1: cell2\n')
    renameSync(join(dir, 'live.yaml.tmp'), path)
    const ms = await until('the moved host', () => changes.length === 2, 2_000)
    t.same(Object.fromEntries(changes[1]?.hosts ?? []), { h1: { name: 'cell2' } }, `reported in ${ms} ms`)

    writeFileSync(path, 'hosts:\n  h1: 42\n')
    await until('the error report', () => errors.length >= 1, 2_000)
    t.equal((errors[0] as MappingFileError).field, '/hosts/h1')
    t.equal(changes.length, 2, 'an invalid file is not reported as a change')
    t.same(Object.fromEntries(w.current()?.hosts ?? []), { h1: { name: 'cell2' } }, 'last good map stays in force')

    writeFileSync(path, 'hosts:\n  h1: cell3\n')
    // After errors the watcher backs off; with fs.watch the poke still brings it back at once.
    if (mode === 'polling only') await w.pollNow()
    await until('recovery', () => changes.length === 3, 2_000)
    t.same(Object.fromEntries(changes[2]?.hosts ?? []), { h1: { name: 'cell3' } })
    await w.stop()
  })
}
