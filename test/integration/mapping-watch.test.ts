// The poller's own rules, with a scripted source: when it reads, when it reports, how it backs off
// and recovers, and that stop() leaves nothing behind.
import t from 'tap'
import { watchMapping } from '../../adapters/mapping/watch.js'
import type { MappingSource, SourceVersion } from '../../adapters/mapping/source.js'
import { silentLogger } from '../../adapters/log/logger.js'
import type { MappingSnapshot } from '../../router/mapping-snapshot.js'

/** A source whose data, version and failures the test sets. */
class ScriptedSource implements MappingSource {
  readonly name = 'scripted'
  hosts: Record<string, string> = { h1: 'cell1' }
  token = 'v1'
  settled = true
  failNext = 0
  reads = 0
  probes = 0
  readDelayMs = 0
  async read(): Promise<MappingSnapshot> {
    this.reads++
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('source down')
    }
    const hosts = new Map(Object.entries(this.hosts).map(([h, c]) => [h, { name: c }] as const))
    if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs))
    return { source: this.name, cells: [], hosts, instances: new Map() }
  }
  async version(): Promise<SourceVersion> {
    this.probes++
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('source down')
    }
    return { token: this.token, settled: this.settled }
  }
  async close(): Promise<void> {}
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

t.test('reads only when the token moves; reports only when content changes', async (t) => {
  const src = new ScriptedSource()
  const changes: MappingSnapshot[] = []
  const w = watchMapping({ source: src, intervalMs: 1_000_000, logger: silentLogger, onChange: (s) => changes.push(s), onError: (e) => t.fail(e.message) })
  t.teardown(() => w.stop())
  await w.pollNow()
  t.equal(changes.length, 1, 'first snapshot reported')
  t.equal(src.reads, 1)
  await w.pollNow()
  await w.pollNow()
  t.equal(src.reads, 1, 'same settled token: no read')
  t.equal(changes.length, 1)

  src.token = 'v2' // token moved, content did not (e.g. a row rewritten with the same cell)
  await w.pollNow()
  t.equal(src.reads, 2, 'moved token: read')
  t.equal(changes.length, 1, 'same content: no report')

  src.hosts = { h1: 'cell2' }
  src.token = 'v3'
  await w.pollNow()
  t.equal(changes.length, 2)
  t.same(changes[1]?.hosts.get('h1'), { name: 'cell2' })
  t.equal(w.current(), changes[1])
})

t.test('an unsettled token forces reads, plus one more once it settles', async (t) => {
  const src = new ScriptedSource()
  const changes: MappingSnapshot[] = []
  const w = watchMapping({ source: src, intervalMs: 1_000_000, logger: silentLogger, onChange: (s) => changes.push(s), onError: (e) => t.fail(e.message) })
  t.teardown(() => w.stop())
  src.settled = false
  await w.pollNow()
  await w.pollNow()
  t.equal(src.reads, 2, 'unsettled: every poll reads')
  // A change that leaves the token alone (same-second update), then the token settles.
  src.hosts = { h1: 'cell9' }
  src.settled = true
  await w.pollNow()
  t.equal(src.reads, 3, 'the first settled poll still reads (the previous token was unsettled)')
  t.same(changes.at(-1)?.hosts.get('h1'), { name: 'cell9' }, 'and finds the hidden change')
  await w.pollNow()
  t.equal(src.reads, 3, 'settled twice: probe only')
})

t.test('periodic full read catches what the token cannot see', async (t) => {
  const src = new ScriptedSource()
  const changes: MappingSnapshot[] = []
  const w = watchMapping({ source: src, intervalMs: 20, fullReadEveryMs: 300, logger: silentLogger, onChange: (s) => changes.push(s), onError: (e) => t.fail(e.message) })
  t.teardown(() => w.stop())
  await w.pollNow()
  src.hosts = { h1: 'cell7' } // token unchanged
  await sleep(150)
  t.equal(changes.length, 1, 'not before the full read is due')
  await sleep(400)
  t.equal(changes.length, 2, 'found by the periodic full read')
  t.same(changes[1]?.hosts.get('h1'), { name: 'cell7' })
})

t.test('errors: reported, backed off, last good map kept, recovery reported', async (t) => {
  const src = new ScriptedSource()
  const changes: MappingSnapshot[] = []
  const errors: { n: number; at: number }[] = []
  const w = watchMapping({
    source: src,
    intervalMs: 20,
    maxBackoffMs: 160,
    logger: silentLogger,
    onChange: (s) => changes.push(s),
    onError: (_e, n) => errors.push({ n, at: Date.now() }),
  })
  t.teardown(() => w.stop())
  await w.pollNow()
  const good = w.current()
  src.failNext = 5
  src.hosts = { h1: 'cell3' }
  src.token = 'v2'
  const start = Date.now()
  while (errors.length < 5 && Date.now() - start < 5_000) await sleep(5)
  t.same(errors.map((e) => e.n), [1, 2, 3, 4, 5], 'consecutive failures counted')
  const gaps = errors.slice(1).map((e, i) => e.at - (errors[i]?.at ?? 0))
  // Delays after failures 1..4: 40, 80, 160 (cap), 160 ms.
  t.ok((gaps[0] ?? 0) >= 35 && (gaps[1] ?? 0) >= 70 && (gaps[2] ?? 0) >= 150 && (gaps[3] ?? 0) >= 150, `exponential backoff with a cap: ${gaps.join(', ')} ms`)
  t.ok((gaps[3] ?? 0) < 400, 'capped')
  t.equal(w.current(), good, 'last good snapshot in force while failing')
  t.equal(changes.length, 1)
  while (changes.length < 2 && Date.now() - start < 5_000) await sleep(5)
  t.same(changes[1]?.hosts.get('h1'), { name: 'cell3' }, 'recovered and reported')
})

t.test('a throwing listener does not stop updates; a throwing error callback neither', async (t) => {
  const src = new ScriptedSource()
  let calls = 0
  const w = watchMapping({
    source: src,
    intervalMs: 1_000_000,
    logger: silentLogger,
    onChange: () => {
      calls++
      throw new Error('listener bug')
    },
    onError: () => {
      throw new Error('callback bug')
    },
  })
  t.teardown(() => w.stop())
  await w.pollNow()
  src.failNext = 1
  src.token = 'v2'
  await w.pollNow()
  src.hosts = { h1: 'cellx' }
  await w.pollNow()
  t.equal(calls, 2)
  t.same(w.current()?.hosts.get('h1'), { name: 'cellx' })
})

t.test('pollNow during a poll runs another one after it; stop waits for it and leaves no timer', async (t) => {
  const src = new ScriptedSource()
  src.readDelayMs = 100
  src.settled = false // every poll reads
  const changes: MappingSnapshot[] = []
  const baseline = timeouts()
  const w = watchMapping({ source: src, intervalMs: 1_000_000, logger: silentLogger, onChange: (s) => changes.push(s), onError: (e) => t.fail(e.message) })
  await sleep(20) // the first poll is now inside read()
  src.hosts = { h1: 'late' }
  await w.pollNow()
  t.same(changes.at(-1)?.hosts.get('h1'), { name: 'late' }, 'a change made during a poll is seen by the pollNow() that follows')

  const p = w.pollNow()
  await sleep(20)
  const stopped = w.stop()
  await stopped
  await p
  const after = src.reads
  await sleep(150)
  t.equal(src.reads, after, 'no poll after stop()')
  t.equal(timeouts(), baseline, 'no timer left behind')
  await w.pollNow()
  t.equal(src.reads, after, 'pollNow after stop does nothing')
})

t.test('a push hint polls at once; unsubscribed on stop', async (t) => {
  const src = new ScriptedSource()
  let poke: (() => void) | undefined
  let unsubscribed = false
  const changes: MappingSnapshot[] = []
  const w = watchMapping({
    source: src,
    intervalMs: 1_000_000,
    logger: silentLogger,
    onChange: (s) => changes.push(s),
    onError: (e) => t.fail(e.message),
    subscribe: (p) => {
      poke = p
      return () => {
        unsubscribed = true
      }
    },
  })
  await w.pollNow()
  src.hosts = { h1: 'poked' }
  src.token = 'v2'
  poke?.()
  poke?.() // a burst is one poll
  await sleep(200)
  t.same(changes.at(-1)?.hosts.get('h1'), { name: 'poked' })
  t.equal(src.probes, 2, 'two pokes in a burst: one poll')
  await w.stop()
  t.equal(unsubscribed, true)
})

t.test('intervalMs must be positive', async (t) => {
  t.throws(() => watchMapping({ source: new ScriptedSource(), intervalMs: 0, logger: silentLogger, onChange: () => {}, onError: () => {} }), RangeError)
})
