/**
 * Live changes: re-read a mapping source every `intervalMs` and report a snapshot only when its
 * content changed, so a moved host re-routes without a restart.
 *
 * Change detection has two stages. A source with `version()` is probed first (cheap: nova_api's
 * counts, highest ids and newest updated_at); the full read runs only when the token moved, or
 * while the source says its token is not settled yet, plus one more time once it is (a change in
 * the same second as the last read could otherwise hide behind an equal token), plus every
 * `fullReadEveryMs` as a safety net for edits that a token cannot see. Every full read is compared
 * with the last reported one by content digest, so a false alarm never reaches the listener.
 *
 * Errors never replace the map: the last good snapshot stays in force, the error goes to
 * `onError`, and polling backs off exponentially until the source answers again.
 */
import type { MappingSnapshot } from '../../router/mapping-snapshot.js'
import type { Logger } from '../log/logger.js'
import { snapshotDigest } from './snapshot-digest.js'
import type { MappingSource, SourceVersion } from './source.js'

export interface WatchOptions {
  source: MappingSource
  /** Time between polls when the source answers (ms). */
  intervalMs: number
  /** A full read even when version() says nothing changed, at most this often (ms; default 300 000; 0 = never). */
  fullReadEveryMs?: number
  /** Upper bound of the delay between polls after consecutive errors (ms; default max(30 000, intervalMs)). */
  maxBackoffMs?: number
  /**
   * The snapshot already in force (e.g. read at start-up). Without it the first poll runs at once
   * and its snapshot is reported as the first change. With it, the first poll (after intervalMs)
   * still reads once, since the source may have changed between that read and the first token.
   */
  initial?: MappingSnapshot
  /** Called with every snapshot whose content differs from the previous one. */
  onChange: (snapshot: MappingSnapshot) => void
  /** Called for every failed poll; `failures` counts consecutive failures (1, 2, ...). */
  onError: (err: Error, failures: number) => void
  logger: Logger
  /** Push hint; defaults to the source's own `subscribe` (see MappingSource). */
  subscribe?: (poke: () => void) => () => void
}

export interface MappingWatch {
  /** The last good snapshot (undefined until the first successful read). */
  current(): MappingSnapshot | undefined
  /** Poll now (or right after the poll in progress) and resolve when that poll is done. */
  pollNow(): Promise<void>
  /** Stop polling, wait for a poll in progress, drop the push hint. Does not close the source. */
  stop(): Promise<void>
}

/** How long a poke waits for further pokes, so an editor's write-rename-chmod burst is one poll. */
const POKE_DEBOUNCE_MS = 30

export function watchMapping(opts: WatchOptions): MappingWatch {
  if (!(opts.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0 (got ${opts.intervalMs})`)
  const log = opts.logger.child({ source: opts.source.name })
  const fullEvery = opts.fullReadEveryMs ?? 300_000
  const maxBackoff = opts.maxBackoffMs ?? Math.max(30_000, opts.intervalMs)

  let current = opts.initial
  let digest = opts.initial ? snapshotDigest(opts.initial) : undefined
  let lastVersion: SourceVersion | undefined
  let lastFullAt = opts.initial ? Date.now() : 0
  let failures = 0
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false
  let waiters: (() => void)[] = []

  const schedule = (delayMs: number): void => {
    if (stopped) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      void run()
    }, delayMs)
  }

  const needsRead = async (): Promise<SourceVersion | undefined | 'skip'> => {
    if (!opts.source.version) return undefined
    const v = await opts.source.version()
    const fullDue = fullEvery > 0 && Date.now() - lastFullAt >= fullEvery
    const prev = lastVersion
    if (current && prev && prev.token === v.token && prev.settled && v.settled && !fullDue) return 'skip'
    return v
  }

  const pollOnce = async (): Promise<void> => {
    const v = await needsRead()
    if (v === 'skip') return
    const snap = await opts.source.read()
    // Remember the token taken *before* the read: a change between the two shows up as a new
    // token next time and costs one extra read, never a missed change.
    lastVersion = v
    lastFullAt = Date.now()
    const d = snapshotDigest(snap)
    if (d === digest) return
    digest = d
    current = snap
    log.info('mapping changed', { cells: snap.cells.length, hosts: snap.hosts.size, instances: snap.instances.size })
    try {
      opts.onChange(snap)
    } catch (err) {
      // A listener bug must not stop live updates; the snapshot stays reported.
      log.error('mapping change listener threw', { error: errText(err) })
    }
  }

  const run = (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        try {
          await pollOnce()
          if (failures > 0) log.info('mapping source answers again', { failures })
          failures = 0
        } catch (err) {
          failures++
          const e = err instanceof Error ? err : new Error(String(err))
          try {
            opts.onError(e, failures)
          } catch (cbErr) {
            log.error('mapping error callback threw', { error: errText(cbErr) })
          }
        }
      } while (again && !stopped)
    })().finally(() => {
      running = undefined
      const done = waiters
      waiters = []
      for (const w of done) w()
      schedule(failures === 0 ? opts.intervalMs : Math.min(maxBackoff, opts.intervalMs * 2 ** failures))
    })
    return running
  }

  const subscribe = opts.subscribe ?? opts.source.subscribe?.bind(opts.source)
  const unsubscribe = subscribe?.(() => {
    if (stopped) return
    if (running) again = true
    else schedule(POKE_DEBOUNCE_MS)
  })

  schedule(opts.initial ? opts.intervalMs : 0)

  return {
    current: () => current,
    pollNow: () => {
      if (stopped) return Promise.resolve()
      if (running) {
        // The poll in progress may have read before the caller's change: run one more.
        again = true
        return new Promise<void>((resolve) => waiters.push(resolve))
      }
      if (timer) clearTimeout(timer)
      timer = undefined
      return run()
    },
    stop: async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = undefined
      unsubscribe?.()
      if (running) await running
      // run()'s finally may have scheduled the next poll just before `stopped` was seen.
      if (timer) clearTimeout(timer)
      timer = undefined
    },
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
