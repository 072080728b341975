/**
 * Where the rows of each table of nova's main (cell) database live in shard mode
 * (sql-routing.md §2.2). A sharded table belongs to a colocation group: every table of a group is
 * split by the same fact (the instance a row belongs to, or the host), so joins inside a group
 * are shard-local and correct; a join across groups is not (an instance's row lives where it was
 * placed, its host's rows where the host was placed), and is refused. Reference tables are full
 * copies on every shard.
 */

/** How a key column's value names a shard. */
export type KeyVia =
  /** An instance uuid, looked up in cellgate's instance → shard table. */
  | 'instance'
  /** A host name, looked up in cellgate's host → shard table. */
  | 'host'
  /** An auto-increment id: shard = the one whose auto_increment_offset ≡ id (mod increment). */
  | 'id'

export interface KeyColumn {
  readonly column: string
  readonly via: KeyVia
}

export type TableRule =
  | {
      readonly kind: 'sharded'
      readonly group: 'instance' | 'host'
      /** Key columns in order of preference (the first present in an INSERT places the row). */
      readonly keys: readonly KeyColumn[]
      /** The column that places a new row when its key is unknown (instances.uuid, services.host). */
      readonly places: KeyVia | null
    }
  | {
      readonly kind: 'reference'
      /** The table has an AUTO_INCREMENT id that must be the same on every copy. */
      readonly autoId: boolean
    }

export interface ShardSchema {
  /** Rule for a (lower-case) table name, or undefined when the table is not known. */
  rule(table: string): TableRule | undefined
}

const byInstance = (column: string, withId = true): TableRule => ({
  kind: 'sharded',
  group: 'instance',
  keys: withId ? [{ column, via: 'instance' }, { column: 'id', via: 'id' }] : [{ column, via: 'instance' }],
  places: null,
})

const NOVA: ReadonlyMap<string, TableRule> = new Map<string, TableRule>([
  ['instances', { kind: 'sharded', group: 'instance', keys: [{ column: 'uuid', via: 'instance' }, { column: 'id', via: 'id' }], places: 'instance' }],
  ['instance_extra', byInstance('instance_uuid')],
  ['instance_info_caches', byInstance('instance_uuid')],
  ['instance_metadata', byInstance('instance_uuid')],
  ['instance_system_metadata', byInstance('instance_uuid')],
  ['instance_faults', byInstance('instance_uuid')],
  ['instance_actions', byInstance('instance_uuid')],
  ['block_device_mapping', byInstance('instance_uuid')],
  ['share_mapping', byInstance('instance_uuid')],
  ['virtual_interfaces', byInstance('instance_uuid')],
  ['security_group_instance_association', byInstance('instance_uuid')],
  ['volume_usage_cache', byInstance('instance_uuid')],
  ['console_auth_tokens', byInstance('instance_uuid')],
  ['migrations', byInstance('instance_uuid')],
  ['instance_id_mappings', byInstance('uuid')],
  ['tags', byInstance('resource_id', false)],
  // No instance_uuid column: the parent action's id (id % increment) names the shard.
  ['instance_actions_events', { kind: 'sharded', group: 'instance', keys: [{ column: 'action_id', via: 'id' }, { column: 'id', via: 'id' }], places: null }],
  ['services', { kind: 'sharded', group: 'host', keys: [{ column: 'host', via: 'host' }, { column: 'id', via: 'id' }], places: 'host' }],
  ['compute_nodes', { kind: 'sharded', group: 'host', keys: [{ column: 'host', via: 'host' }, { column: 'id', via: 'id' }, { column: 'service_id', via: 'id' }], places: 'host' }],
  ['task_log', { kind: 'sharded', group: 'host', keys: [{ column: 'host', via: 'host' }, { column: 'id', via: 'id' }], places: 'host' }],
  // A PCI device lives with its compute node; its instance_uuid does not name the shard.
  ['pci_devices', { kind: 'sharded', group: 'host', keys: [{ column: 'compute_node_id', via: 'id' }, { column: 'id', via: 'id' }], places: null }],
  ['security_groups', { kind: 'reference', autoId: true }],
  ['security_group_rules', { kind: 'reference', autoId: true }],
  ['security_group_default_rules', { kind: 'reference', autoId: true }],
  ['alembic_version', { kind: 'reference', autoId: false }],
  ['migrate_version', { kind: 'reference', autoId: false }],
  // Legacy tables still in the main schema; kept identical everywhere.
  ['quotas', { kind: 'reference', autoId: true }],
  ['quota_classes', { kind: 'reference', autoId: true }],
  ['project_user_quotas', { kind: 'reference', autoId: true }],
  ['quota_usages', { kind: 'reference', autoId: true }],
  ['reservations', { kind: 'reference', autoId: true }],
  ['s3_images', { kind: 'reference', autoId: true }],
  ['certificates', { kind: 'reference', autoId: true }],
  ['key_pairs', { kind: 'reference', autoId: true }],
])

/** nova's main database; `shadow_<t>` (archive tables) follow `<t>`. */
export const novaShardSchema: ShardSchema = {
  rule(table: string): TableRule | undefined {
    return NOVA.get(table) ?? (table.startsWith('shadow_') ? NOVA.get(table.slice(7)) : undefined)
  },
}

/** Schemas whose tables are catalog views, the same answer from any shard. */
export const CATALOG_SCHEMAS: ReadonlySet<string> = new Set(['information_schema', 'mysql', 'performance_schema', 'sys'])
