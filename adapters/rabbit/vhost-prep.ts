import { execFile } from 'node:child_process'
import type { Logger } from '../log/logger.js'

/** Where a cell's vhost lives and who logs into it, from its broker URL. */
export interface VhostTarget {
  readonly vhost: string
  readonly user: string
  readonly host: string
}

export function vhostTarget(url: string): VhostTarget {
  const u = new URL(url)
  const path = decodeURIComponent(u.pathname.slice(1))
  return { vhost: path === '' ? '/' : path, user: decodeURIComponent(u.username) || 'guest', host: u.hostname }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** Only a broker on this machine can be prepared with rabbitmqctl (it talks to the local node). */
export function isLocalBroker(url: string): boolean {
  return LOOPBACK.has(vhostTarget(url).host)
}

/**
 * Creates the vhosts of these broker URLs, and grants each URL's user full permissions there,
 * when they do not exist yet. Uses `rabbitmqctl` against the local node, so it needs the rights
 * rabbitmqctl needs (root or the rabbitmq user); cellgate only does this for cells configured
 * with `createVhost: true`. Each rabbitmqctl run starts an Erlang VM (about a second), so the
 * vhosts are listed once and the missing ones created side by side. Returns the vhosts created.
 */
export async function ensureLocalVhosts(urls: readonly string[], log: Logger): Promise<string[]> {
  if (urls.length === 0) return []
  const existing = new Set((await rabbitmqctl(['-q', 'list_vhosts', 'name'])).split('\n').map((l) => l.trim()))
  const missing = new Map<string, VhostTarget>()
  for (const url of urls) {
    const target = vhostTarget(url)
    if (!existing.has(target.vhost)) missing.set(target.vhost, target)
  }
  await Promise.all(
    [...missing.values()].map(async ({ vhost, user }) => {
      await rabbitmqctl(['add_vhost', vhost])
      await rabbitmqctl(['set_permissions', '-p', vhost, user, '.*', '.*', '.*'])
      log.info('created vhost on the local broker', { vhost, user })
    }),
  )
  return [...missing.keys()]
}

function rabbitmqctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`rabbitmqctl ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`))
      else resolve(String(stdout))
    })
  })
}
