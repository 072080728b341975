// Relaying a backend reply to the client: the parser hands out each packet's framed bytes, the
// writer renumbers them in place, and TurnBatch sends one turn's packets as one write when they
// are back to back in one chunk (no copy), in order with their sequence ids either way.
import t from 'tap'
import { Writable } from 'node:stream'
import { PacketParser } from '../../adapters/mysql/packet-parser.js'
import { PacketWriter } from '../../adapters/mysql/packet-writer.js'
import { TurnBatch } from '../../adapters/mysql/turn-batch.js'

function packet(seq: number, payload: string): Buffer {
  const p = Buffer.from(payload, 'latin1')
  const h = Buffer.alloc(4)
  h.writeUIntLE(p.length, 0, 3)
  h[3] = seq
  return Buffer.concat([h, p])
}

function sink() {
  const writes: Buffer[][] = []
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk])
      cb()
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => c.chunk as Buffer))
      cb()
    },
  })
  return { out, writes }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Parses `chunks` as one backend reply and relays every packet through a writer starting at `seq`. */
function relayAll(chunks: Buffer[], seq: number, batch: TurnBatch): Array<{ framed: boolean }> {
  const w = new PacketWriter(batch)
  w.seq = seq
  const seen: Array<{ framed: boolean }> = []
  const parser = new PacketParser(
    {
      onPacket: (payload, _first, _last, framed) => {
        seen.push({ framed: framed !== undefined })
        w.relay(payload, framed)
      },
      onPacketError: (k) => {
        throw new Error(k)
      },
    },
    1 << 20,
  )
  for (const c of chunks) parser.push(c)
  return seen
}

t.test('packets of one chunk leave as one write: a view of that chunk, renumbered', async (t) => {
  const chunk = Buffer.concat([packet(1, '\x01'), packet(2, 'coldef'), packet(3, '\xfe\x00\x00\x02\x00'), packet(4, 'row'), packet(5, '\xfe\x00\x00\x02\x00')])
  const { out, writes } = sink()
  const seen = relayAll([chunk], 7, new TurnBatch(() => out))
  t.same(seen.map((s) => s.framed), [true, true, true, true, true], 'every packet came with its framed bytes')
  t.equal(writes.length, 0, 'nothing written before the turn ends')
  await turn()
  t.equal(writes.length, 1, 'one write')
  t.equal(writes[0]!.length, 1, 'of one buffer')
  const sent = writes[0]![0]!
  t.equal(sent.buffer, chunk.buffer, 'the chunk itself, not a copy')
  const want = Buffer.concat([packet(7, '\x01'), packet(8, 'coldef'), packet(9, '\xfe\x00\x00\x02\x00'), packet(10, 'row'), packet(11, '\xfe\x00\x00\x02\x00')])
  t.same(sent, want, 'same bytes, sequence ids 7..11')
})

t.test('packets straddling chunks are framed anew; the turn still leaves in order, in one writev', async (t) => {
  const wire = Buffer.concat([packet(1, 'aaaa'), packet(2, 'bbbbbbbb'), packet(3, 'cc')])
  // Split inside the second packet: the first is framed, the second straddles, the third is framed.
  const { out, writes } = sink()
  const seen = relayAll([wire.subarray(0, 12), wire.subarray(12)], 1, new TurnBatch(() => out))
  t.same(seen.map((s) => s.framed), [true, false, true])
  await turn()
  t.equal(writes.length, 1, 'one writev for the turn')
  t.same(Buffer.concat(writes[0]!), wire, 'bytes and sequence ids as sent by the backend')
})

t.test('a reply wrapping the sequence id past 255 keeps counting from 0', async (t) => {
  const chunk = Buffer.concat([packet(1, 'x'), packet(2, 'y')])
  const { out, writes } = sink()
  relayAll([chunk], 255, new TurnBatch(() => out))
  await turn()
  t.same(Buffer.concat(writes[0]!), Buffer.concat([packet(255, 'x'), packet(0, 'y')]))
})

t.test('flush() sends at once; writes after it go in the next turn; a destroyed target gets nothing', async (t) => {
  const { out, writes } = sink()
  const b = new TurnBatch(() => out)
  b.write(Buffer.from('one'))
  b.flush()
  t.equal(writes.length, 1)
  b.write(Buffer.from('two'))
  b.write(Buffer.from('three'))
  await turn()
  t.same(writes.slice(1).map((w) => Buffer.concat(w).toString()), ['twothree'])
  out.destroy()
  b.write(Buffer.from('late'))
  await turn()
  t.equal(writes.length, 2, 'nothing written to a destroyed stream')
})

t.test('a held batch sends nothing until released, then everything in order', async (t) => {
  const { out, writes } = sink()
  const batch = new TurnBatch(() => out)
  const release = batch.hold()
  batch.write(packet(1, 'ok'))
  await turn()
  await turn()
  t.same(writes, [], 'nothing leaves while held, over several turns')
  batch.write(packet(2, 'more'))
  batch.flush()
  t.same(writes, [], 'an explicit flush waits too')
  release()
  t.same(
    writes.flat().map((b) => b[3]),
    [1, 2],
    'release sends what was written, in order',
  )
  release()
  batch.write(packet(3, 'next'))
  await turn()
  t.equal(writes.flat().length, 3, 'a second release is a no-op and later writes flow per turn again')
})
