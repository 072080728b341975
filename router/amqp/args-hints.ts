import { cinderHost } from './oslo-topics.js'

/**
 * Routing hints found in an oslo RPC request's args (oslo-wire.md §3.3, §3.6): instance uuids
 * and host names that a cell mapping may know. The adapter decodes the double-encoded envelope
 * and hands the inner message here; this only looks at a few well-known places, with fixed
 * budgets, so a huge or hostile payload costs the same as a small one.
 *
 * Hints come best first: the explicit arguments (`instance`, `objinst`, `instance_uuid(s)`,
 * `host`, `host_name`) before fields of other versioned objects found among the args.
 */
export interface ArgsHints {
  /** Lower case, canonical 8-4-4-4-12 form. */
  readonly instanceUuids: readonly string[]
  /** Host names as a host mapping knows them (cinder `h@b#pool` → `h`). */
  readonly hosts: readonly string[]
}

export interface ArgsHintLimits {
  /** Top-level args entries looked at. */
  readonly maxArgs: number
  /** Items looked at in one list (`instance_uuids`, `instances`). */
  readonly maxListItems: number
  /** Hints kept of each kind. */
  readonly maxHints: number
}

export const DEFAULT_ARGS_HINT_LIMITS: ArgsHintLimits = { maxArgs: 64, maxListItems: 16, maxHints: 8 }

export const NO_HINTS: ArgsHints = { instanceUuids: [], hosts: [] }

type Obj = Readonly<Record<string, unknown>>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu
/** RFC 1035 caps a name at 255 octets; anything longer is not a host a mapping can hold. */
const MAX_HOST_LENGTH = 255

export function extractArgsHints(inner: unknown, limits: ArgsHintLimits = DEFAULT_ARGS_HINT_LIMITS): ArgsHints {
  const args = isObj(inner) ? inner['args'] : undefined
  if (!isObj(args)) return NO_HINTS
  const c = new Collector(limits.maxHints)
  const later: Array<() => void> = []
  let seen = 0
  for (const key in args) {
    if (!Object.hasOwn(args, key)) continue
    if (++seen > limits.maxArgs) break
    const value = args[key]
    switch (key) {
      case 'instance_uuid':
        c.uuid(value, 0)
        break
      case 'instance_uuids':
        forList(value, limits.maxListItems, (v) => c.uuid(v, 0))
        break
      case 'host':
      case 'host_name':
        c.host(value, 0, false)
        break
      case 'instance':
      case 'objinst':
        instanceLike(c, value)
        break
      case 'instances':
        forList(value, limits.maxListItems, (v) => instanceLike(c, v))
        break
      case 'agent_state':
        // neutron report_state: {agent_state: {agent_state: {host: ...}}}
        c.host(fieldOf(fieldOf(value, 'agent_state'), 'host'), 1, false)
        break
      default:
        later.push(() => otherObject(c, value))
    }
  }
  for (const f of later) f()
  return c.result()
}

/** A nova Instance (as a nova_object or an old-style primitive dict). */
function instanceLike(c: Collector, value: unknown): void {
  const data = objectData(value)?.data ?? (isObj(value) ? value : undefined)
  if (data === undefined) return
  c.uuid(data['uuid'], 0)
  c.host(data['host'], 0, false)
}

/** Any other versioned object among the args: a RequestSpec's instance_uuid, a cinder Volume's host. */
function otherObject(c: Collector, value: unknown): void {
  const o = objectData(value)
  if (o === undefined) return
  c.uuid(o.data['instance_uuid'], 1)
  c.host(o.data['host'], 1, o.cinder)
}

function objectData(value: unknown): { data: Obj; cinder: boolean } | undefined {
  if (!isObj(value)) return undefined
  const nova = value['nova_object.data']
  if (isObj(nova)) return { data: nova, cinder: false }
  const vo = value['versioned_object.data']
  if (isObj(vo)) return { data: vo, cinder: value['versioned_object.namespace'] === 'cinder' }
  return undefined
}

class Collector {
  private readonly uuids: [string[], string[]] = [[], []]
  private readonly hosts: [string[], string[]] = [[], []]

  constructor(private readonly max: number) {}

  uuid(v: unknown, rank: 0 | 1): void {
    if (typeof v === 'string' && v.length === 36 && UUID.test(v)) add(this.uuids[rank], v.toLowerCase(), this.max)
  }

  host(v: unknown, rank: 0 | 1, cinder: boolean): void {
    if (typeof v !== 'string' || v === '' || v.length > MAX_HOST_LENGTH) return
    const h = cinder ? cinderHost(v) : v
    if (h !== '') add(this.hosts[rank], h, this.max)
  }

  result(): ArgsHints {
    return { instanceUuids: merged(this.uuids, this.max), hosts: merged(this.hosts, this.max) }
  }
}

function add(list: string[], v: string, max: number): void {
  if (list.length < max && !list.includes(v)) list.push(v)
}

function merged(ranks: readonly [string[], string[]], max: number): string[] {
  const out = [...ranks[0]]
  for (const v of ranks[1]) if (out.length < max && !out.includes(v)) out.push(v)
  return out
}

function forList(value: unknown, max: number, f: (v: unknown) => void): void {
  if (!Array.isArray(value)) return
  const n = Math.min(value.length, max)
  for (let i = 0; i < n; i++) f(value[i])
}

function fieldOf(value: unknown, key: string): unknown {
  return isObj(value) ? value[key] : undefined
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
