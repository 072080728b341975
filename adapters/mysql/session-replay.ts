/**
 * Bringing a pooled backend connection to a session's state: the SET statements the session made
 * (and, in shard mode, the shard's auto-increment settings) are replayed, and what an earlier
 * session set but this one did not is reset to DEFAULT. The pool only lends connections where
 * that is possible (backend-pool.ts `stateFit`).
 */
import type { BackendConnection } from './backend-connection.js'
import type { SqlError } from './packets.js'

/**
 * Replays `want` on `conn`. Returns the server's error for a statement it refused; throws
 * BackendError when the connection is lost.
 */
export async function replaySessionState(conn: BackendConnection, want: ReadonlyMap<string, string>): Promise<SqlError | null> {
  for (const key of [...conn.appliedState.keys()]) {
    if (want.has(key)) continue
    const s = await conn.query(`SET SESSION ${key} = DEFAULT`)
    if (s.error) return s.error
    conn.appliedState.delete(key)
  }
  // Replay from the first entry that differs: a later SET may depend on an earlier one (SET NAMES,
  // then SET character_set_results).
  let replaying = false
  for (const [key, sql] of want) {
    if (!replaying && conn.appliedState.get(key) === sql) continue
    replaying = true
    const s = await conn.query(sql)
    if (s.error) return s.error
    conn.appliedState.set(key, sql)
  }
  return null
}
