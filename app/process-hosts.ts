import type { ConnectionIdentity } from '../adapters/amqp091/routing-port.js'

/** Bound on remembered processes: a storm of short-lived clients must not grow it forever. */
const MAX_PROCESSES = 100_000

/**
 * Which host each OpenStack process is, as learned from its listening connection (an RPC
 * server declares `T.<host>`). The same process's other connections (its SEND pool, its reply
 * connection) carry no host, but share the peer address and the pid oslo puts in
 * `connection_name` ("<program>:<pid>:<uuid>"), so their messages are placed as that host's.
 */
export class ProcessHosts {
  private readonly hosts = new Map<string, string>()

  learned(key: string | undefined, host: string): void {
    if (key === undefined) return
    if (this.hosts.size >= MAX_PROCESSES && !this.hosts.has(key)) {
      const oldest = this.hosts.keys().next().value
      if (oldest !== undefined) this.hosts.delete(oldest)
    }
    this.hosts.set(key, host)
  }

  hostOf(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.hosts.get(key)
  }

  get size(): number {
    return this.hosts.size
  }
}

/** peer address + pid, or undefined when the client does not say its pid (then nothing is learned across connections). */
export function processKey(identity: ConnectionIdentity): string | undefined {
  const name = identity.clientProperties['connection_name']
  if (typeof name !== 'string') return undefined
  const parts = name.split(':')
  const pid = parts.length >= 3 ? parts[parts.length - 2] : undefined
  if (pid === undefined || !/^\d+$/u.test(pid)) return undefined
  return `${identity.peerAddress}|${pid}`
}
