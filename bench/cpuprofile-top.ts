/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file,
 * busiest first, with dist/*.js positions mapped back to the .ts source through the source maps.
 *
 *   node dist/bench/cpuprofile-top.js FILE.cpuprofile [--top N] [--callers FUNCTION ...]
 *
 * Typical use: `npm run bench -- --cellgate-prof --targets direct,cellgate` leaves cellgate's
 * profile in bench/out/prof/ when cellgate exits.
 */
import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'
import { dirname, relative, resolve } from 'node:path'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const maps = new Map<string, SourceMap | null>()

function sourceMapFor(file: string): SourceMap | null {
  let m = maps.get(file)
  if (m !== undefined) return m
  m = null
  const mapFile = `${file}.map`
  if (existsSync(mapFile)) {
    try {
      m = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')))
    } catch {
      m = null
    }
  }
  maps.set(file, m)
  return m
}

/** "file:line" of a frame, mapped to the .ts source when a source map exists (1-based line). */
function location(cf: CallFrame): { file: string; where: string } {
  if (!cf.url) return { file: '(native)', where: '(native)' }
  let file = cf.url.startsWith('file://') ? fileURLToPath(cf.url) : cf.url
  let line = cf.lineNumber + 1
  if (cf.url.startsWith('file://')) {
    const sm = sourceMapFor(file)
    const e = sm?.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number } | undefined
    if (e?.originalSource !== undefined && e.originalLine !== undefined) {
      file = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : resolve(dirname(file), e.originalSource)
      line = e.originalLine + 1
    }
    file = relative(ROOT, file)
  }
  return { file, where: `${file}:${line}` }
}

export function summarizeProfile(p: Profile, top = 30): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
  const byFn = new Map<string, number>()
  const byFile = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)
    if (!n) continue
    total += us
    const name = n.callFrame.functionName || '(anonymous)'
    if (name === '(idle)') {
      idle += us
      continue
    }
    const loc = location(n.callFrame)
    const key = `${name}  ${loc.where}`
    byFn.set(key, (byFn.get(key) ?? 0) + us)
    const fileKey = loc.file.startsWith('node_modules/') ? loc.file.split('/').slice(0, 2).join('/') + ' (package)' : loc.file
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us)
  }
  const busy = total - idle
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
  const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`
  const out: string[] = []
  out.push(`profile: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`)
  out.push('', `top ${top} functions by self time (% of busy):`)
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(us)} ${ms(us)}  ${k}`)
  out.push('', 'self time by file:')
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(us)} ${ms(us)}  ${k}`)
  return out.join('\n')
}

/** The heaviest call paths (innermost first, `depth` frames) into functions named `name`. */
export function callersOf(p: Profile, name: string, depth = 8, top = 10): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
  const paths = new Map<string, number>()
  let total = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)
    if (!n || n.callFrame.functionName !== name) continue
    total += us
    const frames: string[] = []
    let cur: number | undefined = parent.get(id)
    while (cur !== undefined && frames.length < depth) {
      const f = byId.get(cur)!
      if (f.callFrame.functionName !== '(root)') frames.push(`${f.callFrame.functionName || '(anonymous)'} ${location(f.callFrame).where}`)
      cur = parent.get(cur)
    }
    const key = frames.join('\n      <- ')
    paths.set(key, (paths.get(key) ?? 0) + us)
  }
  const out = [`${name}: ${(total / 1000).toFixed(0)} ms self; heaviest callers:`]
  for (const [k, us] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    out.push(`  ${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms\n      <- ${k}`)
  }
  return out.join('\n')
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const args = process.argv.slice(2)
  const ti = args.indexOf('--top')
  const top = ti >= 0 ? Number(args[ti + 1]) : 30
  const file = args.find((a, i) => !a.startsWith('--') && !['--top', '--callers'].includes(args[i - 1] ?? ''))
  if (!file) {
    process.stderr.write('usage: node dist/bench/cpuprofile-top.js FILE.cpuprofile [--top N] [--callers FUNCTION ...]\n')
    process.exit(2)
  }
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
  process.stdout.write(summarizeProfile(prof, top) + '\n')
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--callers' && args[i + 1]) process.stdout.write('\n' + callersOf(prof, args[i + 1]!) + '\n')
  }
}
