// Cells as vhosts of the local RabbitMQ: created for a test run, deleted after it, and read back
// with rabbitmqctl so a test can check where cellgate really put things.
import { rabbitmqctl } from './env.js'

export interface Teardownable {
  teardown(fn: () => unknown): void
}

export interface QueueStats {
  messages: number
  consumers: number
}

/** Creates the vhosts (guest gets full rights) and deletes them when the test ends. */
export async function createVhosts(t: Teardownable, vhosts: readonly string[]): Promise<void> {
  t.teardown(async () => {
    for (const v of vhosts) await rabbitmqctl(['delete_vhost', v])
  })
  for (const v of vhosts) {
    const add = await rabbitmqctl(['add_vhost', v])
    if (add.code !== 0) throw new Error(`rabbitmqctl add_vhost ${v}: ${add.stderr}`)
    const perm = await rabbitmqctl(['set_permissions', '-p', v, 'guest', '.*', '.*', '.*'])
    if (perm.code !== 0) throw new Error(`rabbitmqctl set_permissions -p ${v}: ${perm.stderr}`)
  }
}

/** The local broker's URL for a vhost, as a cell's `rabbit`. */
export function vhostUrl(vhost: string): string {
  return `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`
}

/** Every queue of a vhost with its ready messages and consumers. */
export async function queuesOn(vhost: string): Promise<Map<string, QueueStats>> {
  const r = await rabbitmqctl(['list_queues', '-q', '-p', vhost, 'name', 'messages', 'consumers'])
  if (r.code !== 0) throw new Error(`rabbitmqctl list_queues -p ${vhost}: ${r.stderr}`)
  const out = new Map<string, QueueStats>()
  for (const line of r.stdout.split('\n')) {
    const [name, messages, consumers] = line.trim().split('\t')
    if (name && name !== 'name' && consumers !== undefined) out.set(name, { messages: Number(messages), consumers: Number(consumers) })
  }
  return out
}
