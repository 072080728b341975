import t from 'tap'
import { fmix64, fnv1a64, rendezvousCell, rendezvousWeight } from '../../router/rendezvous.js'

// Golden values computed independently (Python, bytes = str.encode('utf-8')) from the definition
// in rendezvous.ts. If one of these changes, hosts move between cells on upgrade.
const fnvCases: Array<{ comment: string; s: string; h: bigint }> = [
  { comment: 'FNV-1a 64 of the empty string is the offset basis', s: '', h: 0xcbf29ce484222325n },
  { comment: 'FNV-1a 64 published test vector "a"', s: 'a', h: 0xaf63dc4c8601ec8cn },
  { comment: 'FNV-1a 64 published test vector "foobar"', s: 'foobar', h: 0x85944171f73967e8n },
  { comment: 'ASCII host', s: 'compute-01', h: 0x57a88eca49f4d32an },
  { comment: 'two- and three-byte UTF-8', s: 'nöde-ß.例え.jp', h: 0x642bd7c038e91fd9n },
  { comment: 'four-byte UTF-8 from a surrogate pair', s: '😀', h: 0xfeff073875020288n },
  { comment: 'a lone surrogate hashes as U+FFFD', s: '\ud800', h: fnv1a64('\ufffd') },
]
for (const c of fnvCases) t.equal(fnv1a64(c.s), c.h, c.comment)

t.equal(fmix64(0n), 0n, 'fmix64 keeps zero')
t.not(fmix64(1n), 1n, 'fmix64 mixes')

const weightCases: Array<{ comment: string; cell: string; host: string; w: bigint }> = [
  { comment: 'weight golden host-a', cell: 'cell1', host: 'host-a', w: 0x8f2b9545740a757fn },
  { comment: 'weight golden host-b', cell: 'cell1', host: 'host-b', w: 0xc01567d3401662f3n },
  { comment: 'weight golden FQDN', cell: 'cell1', host: 'node1.example.com', w: 0x4443aab2dd0f07e9n },
]
for (const c of weightCases) t.equal(rendezvousWeight(c.cell, c.host), c.w, c.comment)

const three = ['cell1', 'cell2', 'cell3']
const winners: Array<{ comment: string; host: string; cells: string[]; cell: string | undefined }> = [
  { comment: 'golden winner host-a', host: 'host-a', cells: three, cell: 'cell1' },
  { comment: 'golden winner host-b', host: 'host-b', cells: three, cell: 'cell2' },
  { comment: 'golden winner host-c', host: 'host-c', cells: three, cell: 'cell1' },
  { comment: 'golden winner FQDN', host: 'node1.example.com', cells: three, cell: 'cell2' },
  { comment: 'golden winner cinder host', host: 'stor1', cells: three, cell: 'cell1' },
  { comment: 'empty host still lands somewhere deterministic', host: '', cells: three, cell: 'cell2' },
  { comment: 'the order of cells does not matter', host: 'host-b', cells: ['cell3', 'cell2', 'cell1'], cell: 'cell2' },
  { comment: 'one cell takes everything', host: 'host-b', cells: ['only'], cell: 'only' },
  { comment: 'no cells, no answer', host: 'host-b', cells: [], cell: undefined },
  { comment: 'duplicates in the list change nothing', host: 'host-b', cells: ['cell1', 'cell2', 'cell2', 'cell3'], cell: 'cell2' },
]
for (const c of winners) t.equal(rendezvousCell(c.host, c.cells), c.cell, c.comment)

const hosts = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `compute-${i}` : `node${i}.rack${i % 40}.example.com`))

for (let n = 3; n <= 8; n++) {
  const cells = Array.from({ length: n }, (_, i) => `cell${i + 1}`)
  const counts = new Map<string, number>()
  for (const h of hosts) {
    const c = rendezvousCell(h, cells)!
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  const even = hosts.length / n
  const worst = Math.max(...cells.map((c) => Math.abs((counts.get(c) ?? 0) - even) / even))
  t.ok(worst <= 0.15, `10 000 hosts over ${n} cells: every cell within ±15% of even (worst ${(worst * 100).toFixed(1)}%)`)
}

t.test('adding a cell moves only the hosts the new cell wins', async (t) => {
  const before = ['a', 'b', 'c', 'd']
  const after = [...before, 'e']
  let moved = 0
  let wrong = 0
  for (const h of hosts) {
    const x = rendezvousCell(h, before)
    const y = rendezvousCell(h, after)
    if (x !== y) {
      moved++
      if (y !== 'e') wrong++
    }
  }
  t.equal(wrong, 0, 'no host moves between old cells')
  t.ok(moved > hosts.length * 0.15 && moved < hosts.length * 0.25, `about a fifth move to the new cell (${moved})`)
})

t.test('removing a cell moves only that cell\'s hosts', async (t) => {
  const before = ['a', 'b', 'c', 'd', 'e']
  const after = ['a', 'b', 'd', 'e']
  let wrong = 0
  let orphans = 0
  for (const h of hosts) {
    const x = rendezvousCell(h, before)
    const y = rendezvousCell(h, after)
    if (x === 'c') orphans++
    else if (x !== y) wrong++
  }
  t.equal(wrong, 0, 'hosts of the remaining cells stay put')
  t.ok(orphans > 0, 'the removed cell had hosts to give away')
})
