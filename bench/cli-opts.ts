/**
 * Option-parsing pieces shared by the bench entry points (rpc-bench, sql-bench), so each
 * validates integers and HOST:PORT the same way and reports errors with the option's name.
 */

/** `v` as an integer >= min, or an error naming the option. */
export function intArg(name: string, v: string | undefined, min = 1): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got ${v}`)
  return n
}

/** `HOST:PORT` (the last colon splits, so an IPv6 host works); no port = defaultPort. */
export function hostPortArg(name: string, v: string | undefined, defaultPort: number): { host: string; port: number } {
  const hp = v ?? ''
  const c = hp.lastIndexOf(':')
  return { host: c > 0 ? hp.slice(0, c) : hp, port: c > 0 ? intArg(name, hp.slice(c + 1)) : defaultPort }
}

/** A comma-separated list of integers >= 1 (e.g. --concurrency 1,8). */
export function intListArg(name: string, v: string | undefined): number[] {
  return (v ?? '').split(',').map((s) => intArg(name, s))
}
