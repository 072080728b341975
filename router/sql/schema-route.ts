/**
 * Schema mode routing (pure): the session's default database chooses the backend. A logical
 * database name maps to a backend entry, which may give the database a different name on that
 * server; any other name (and "no database") goes to the default backend under its own name.
 */

export interface SchemaBackend {
  /** Name of the database on the backend server; the logical name when absent. */
  database?: string
}

export interface SchemaTarget<B> {
  backend: B
  /** The database to select on the backend, or null for none. */
  database: string | null
}

export function routeSchema<B extends SchemaBackend>(
  database: string | null,
  databases: ReadonlyMap<string, B>,
  defaultBackend: B,
): SchemaTarget<B> {
  if (database === null) return { backend: defaultBackend, database: defaultBackend.database ?? null }
  const b = databases.get(database)
  if (b) return { backend: b, database: b.database ?? database }
  return { backend: defaultBackend, database }
}
