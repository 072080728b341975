// GroupCommit (adapters/mysql/group-commit.ts): what shard mode's placement writes rely on —
// concurrent submissions share a flush, one flush at a time, in order, failures kept to their batch.
import t from 'tap'
import { GroupCommit } from '../../adapters/mysql/group-commit.js'

/** A flush the test completes by hand, recording each batch it was given. */
function manualStore(): { batches: number[][]; finish: (r?: Error) => void; flush: (items: readonly number[]) => Promise<string> } {
  const batches: number[][] = []
  const pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = []
  return {
    batches,
    finish: (err) => {
      const p = pending.shift()
      if (!p) throw new Error('no flush in flight')
      if (err) p.reject(err)
      else p.resolve(`batch ${batches.length}`)
    },
    flush: (items) => {
      batches.push([...items])
      return new Promise<string>((resolve, reject) => pending.push({ resolve, reject }))
    },
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('submissions during a flush go together in the next one', async (t) => {
  const store = manualStore()
  const g = new GroupCommit(store.flush)
  const first = g.submit(1)
  await tick()
  const rest = [2, 3, 4, 5].map((n) => g.submit(n))
  await tick()
  t.same(store.batches, [[1]], 'only one flush in flight while the others wait')
  store.finish()
  t.equal(await first, 'batch 1', 'the first submitter gets its own flush result')
  await tick()
  t.same(store.batches, [[1], [2, 3, 4, 5]], 'the four waiting items share the second flush, in submission order')
  store.finish()
  t.same(await Promise.all(rest), ['batch 2', 'batch 2', 'batch 2', 'batch 2'], 'each waiter gets the result of the flush that carried it')
})

t.test('a failed flush rejects its own batch only', async (t) => {
  const store = manualStore()
  const g = new GroupCommit(store.flush)
  const a = g.submit(1)
  await tick()
  const b = g.submit(2)
  const c = g.submit(3)
  store.finish(new Error('shard down'))
  await t.rejects(a, /shard down/, 'the failed batch rejects')
  await tick()
  t.same(store.batches[1], [2, 3], 'the next batch still goes')
  store.finish()
  t.same(await Promise.all([b, c]), ['batch 2', 'batch 2'], 'and succeeds for its items')
  const d = g.submit(4)
  await tick()
  t.same(store.batches[2], [4], 'an idle group flushes a new item at once')
  store.finish()
  t.equal(await d, 'batch 3')
})

t.test('batches are bounded', async (t) => {
  const store = manualStore()
  const g = new GroupCommit(store.flush, 3)
  const first = g.submit(0)
  await tick()
  const waiting = Array.from({ length: 7 }, (_, i) => g.submit(i + 1))
  for (let k = 0; k < 4; k++) {
    store.finish()
    await tick()
  }
  await Promise.all([first, ...waiting])
  t.same(store.batches, [[0], [1, 2, 3], [4, 5, 6], [7]], 'at most maxBatch items per flush, none lost or repeated')
})
