/**
 * A small structured logger: one line per event, JSON for machines or `text` for people.
 * Kept dependency-free because the hot path never logs at the default level; what matters is
 * that every connection and routing anomaly is logged once, with its context.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | undefined | null>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger whose lines all carry `fields` (e.g. the connection id). */
  child(fields: LogFields): Logger
  isEnabled(level: LogLevel): boolean
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  level: LogLevel
  format: 'text' | 'json'
  /** Where lines go; stderr by default so stdout stays free for command output. */
  write?: (line: string) => void
}

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = RANK[opts.level]
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return
    const all = fields ? { ...bound, ...fields } : bound
    write(opts.format === 'json' ? jsonLine(level, msg, all) : textLine(level, msg, all))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
    isEnabled: (level) => RANK[level] >= threshold,
  }
}

function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })
}

function textLine(level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    const s = String(v)
    line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`
  }
  return line
}

/** A logger that drops everything: for tests and benchmarks that measure, not read. */
export const silentLogger: Logger = createLogger({ level: 'error', format: 'text', write: () => {} })
