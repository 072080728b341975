#!/usr/bin/env node
// `npm start [-- ARGS]` on a fresh checkout: install dependencies if needed, build if needed,
// then run `node dist/cli/main.js ARGS`, passing signals on and exiting with its status.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const say = (msg) => process.stderr.write(`cellgate: ${msg}\n`)

/** mtime in ms, or undefined when the path does not exist. */
function mtime(path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

/** Newest mtime of the .ts files under `dir` (recursively), 0 if none. */
function newestTs(dir) {
  let newest = 0
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') newest = Math.max(newest, newestTs(p))
    } else if (e.name.endsWith('.ts')) {
      newest = Math.max(newest, mtime(p) ?? 0)
    }
  }
  return newest
}

function runStep(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.error) {
    say(`could not run ${cmd}: ${r.error.message}`)
    process.exit(1)
  }
  if (r.status !== 0) {
    say(`${[cmd, ...args].join(' ')} failed (${r.signal ?? `exit ${r.status}`})`)
    process.exit(r.status || 1)
  }
}

// 1. Dependencies: npm writes node_modules/.package-lock.json on every install; older than
//    package-lock.json (or missing) means node_modules does not match the lock file.
const lockTime = mtime(join(root, 'package-lock.json')) ?? 0
const installedTime = mtime(join(root, 'node_modules', '.package-lock.json')) ?? mtime(join(root, 'node_modules'))
if (installedTime === undefined || installedTime < lockTime) {
  say('installing dependencies (npm ci)...')
  // --include=dev: the build needs typescript even when NODE_ENV=production is set.
  runStep('npm', ['ci', '--include=dev', '--no-audit', '--no-fund'])
}

// 2. Build: dist/.build-stamp carries the start time of the last successful build; any source
//    newer than it (or a missing output) means build again. A failed build leaves no stamp.
const mainJs = join(root, 'dist', 'cli', 'main.js')
const stamp = join(root, 'dist', '.build-stamp')
const stampTime = mtime(stamp)
const newestSource = Math.max(
  ...['router', 'adapters', 'app', 'cli'].map((d) => newestTs(join(root, d))),
  mtime(join(root, 'tsconfig.json')) ?? 0,
  mtime(join(root, 'package-lock.json')) ?? 0,
)
if (!existsSync(mainJs) || stampTime === undefined || newestSource > stampTime) {
  say('building (tsc)...')
  const started = new Date()
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  if (!existsSync(tsc)) {
    say('typescript is not installed: run `npm ci` (with dev dependencies)')
    process.exit(1)
  }
  runStep(process.execPath, [tsc, '-p', 'tsconfig.json'])
  writeFileSync(stamp, `${started.toISOString()}\n`)
  utimesSync(stamp, started, started)
}

// 3. Run. The child shares our terminal, so a Ctrl-C reaches it directly as well as through us
//    (and npm forwards it to us again): pass each signal on at most once per burst; cellgate
//    itself also treats near-simultaneous copies of a signal as one.
const child = spawn(process.execPath, [mainJs, ...process.argv.slice(2)], {
  // npm runs scripts in the package root; run cellgate where `npm start` was typed so a relative
  // --config path means what the user meant.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  stdio: 'inherit',
})
const lastForwarded = new Map()
const forward = (signal) => {
  const now = Date.now()
  if (now - (lastForwarded.get(signal) ?? 0) < 250) return
  lastForwarded.set(signal, now)
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
}
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
for (const s of signals) process.on(s, forward)

child.on('error', (err) => {
  say(`could not start ${mainJs}: ${err.message}`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  for (const s of signals) process.off(s, forward)
  if (signal) {
    // Die the same way, so whoever started `npm start` sees the signal.
    process.kill(process.pid, signal)
    return
  }
  process.exit(code ?? 1)
})
