/**
 * The schema of cellgate's own mapping tables, as knex migrations kept in code (not files), so
 * they run the same from the TypeScript sources and from dist/ without globbing a directory.
 * Never edit a migration that has shipped: add the next one.
 */
import type { Knex } from 'knex'

/** knex's bookkeeping table; prefixed so it never collides with another app in a shared database. */
export const STORE_MIGRATIONS_TABLE = 'cellgate_knex_migrations'

export const T_CELLS = 'cellgate_cells'
export const T_HOSTS = 'cellgate_host_cells'
export const T_INSTANCES = 'cellgate_instance_cells'
/** One row (id 1) whose counter every write bumps: the cheap change token for the watcher. */
export const T_REVISION = 'cellgate_mapping_revision'

interface StoreMigration {
  readonly name: string
  up(db: Knex): Promise<void>
  down(db: Knex): Promise<void>
}

const MIGRATIONS: readonly StoreMigration[] = [
  {
    name: '0001_mapping_tables',
    async up(db) {
      await db.schema.createTable(T_CELLS, (t) => {
        t.string('name', 128).primary()
        t.string('uuid', 36).nullable().unique()
        t.text('transport_url').nullable()
        t.text('database_url').nullable()
        t.string('region', 255).nullable()
        t.string('pod', 255).nullable()
        t.boolean('disabled').notNullable().defaultTo(false)
        t.timestamp('updated_at').notNullable().defaultTo(db.fn.now())
      })
      // No foreign key to cellgate_cells: a cell may be described only in the configuration.
      await db.schema.createTable(T_HOSTS, (t) => {
        t.string('host', 255).primary()
        t.string('cell', 128).notNullable().index()
        t.timestamp('updated_at').notNullable().defaultTo(db.fn.now())
      })
      await db.schema.createTable(T_INSTANCES, (t) => {
        t.string('instance_uuid', 36).primary()
        t.string('cell', 128).notNullable().index()
        t.timestamp('updated_at').notNullable().defaultTo(db.fn.now())
      })
      await db.schema.createTable(T_REVISION, (t) => {
        t.integer('id').primary()
        t.bigInteger('revision').notNullable()
      })
      await db(T_REVISION).insert({ id: 1, revision: 0 })
    },
    async down(db) {
      for (const table of [T_REVISION, T_INSTANCES, T_HOSTS, T_CELLS]) await db.schema.dropTableIfExists(table)
    },
  },
]

export const storeMigrationSource: Knex.MigrationSource<StoreMigration> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (m) => m.name,
  getMigration: (m) => Promise.resolve({ up: (db: Knex) => m.up(db), down: (db: Knex) => m.down(db) }),
}
