/**
 * The errors cellgate raises itself, with the codes and SQLSTATEs a MySQL/MariaDB server (or
 * client library) uses for the same situation, so that PyMySQL and oslo.db classify them as they
 * would against a real server: 1045 is an auth failure, 2003/2013 are connection errors that
 * oslo.db maps to DBConnectionError (retry on a new connection), 1047/1156/1153 are protocol
 * errors that end the connection.
 */
import type { SqlError } from './packets.js'

export const accessDenied = (user: string, host: string, usingPassword: boolean): SqlError => ({
  code: 1045,
  sqlState: '28000',
  message: `Access denied for user '${user}'@'${host}' (using password: ${usingPassword ? 'YES' : 'NO'})`,
})

export const unknownCommand = (): SqlError => ({ code: 1047, sqlState: '08S01', message: 'Unknown command' })

export const packetsOutOfOrder = (): SqlError => ({ code: 1156, sqlState: '08S01', message: 'Got packets out of order' })

export const packetTooLarge = (): SqlError => ({
  code: 1153,
  sqlState: '08S01',
  message: "Got a packet bigger than 'max_allowed_packet' bytes",
})

export const malformedPacket = (detail: string): SqlError => ({ code: 1835, sqlState: 'HY000', message: `Malformed communication packet (${detail})` })

export const badHandshake = (): SqlError => ({ code: 1043, sqlState: '08S01', message: 'Bad handshake' })

/** ER_NO_DB_ERROR: what a server says to COM_FIELD_LIST and friends without a default database. */
export const noDatabaseSelected = (): SqlError => ({ code: 1046, sqlState: '3D000', message: 'No database selected' })

/** CR_CONN_HOST_ERROR: the backend for the statement could not be reached. */
export const backendUnreachable = (where: string, why: string): SqlError => ({
  code: 2003,
  sqlState: 'HY000',
  message: `Can't connect to MySQL server on '${where}' (${why})`,
})

/** CR_SERVER_LOST: the backend connection died while the statement ran. */
export const backendLost = (): SqlError => ({ code: 2013, sqlState: 'HY000', message: 'Lost connection to MySQL server during query' })

/**
 * ER_UNKNOWN_ERROR with a cellgate-specific message: switching the default database to one that
 * lives on another backend is impossible while the session is pinned to its current backend.
 */
export const cannotSwitchBackend = (db: string, why: string): SqlError => ({
  code: 1105,
  sqlState: 'HY000',
  message: `cellgate: cannot switch to database '${db}' on another backend while the session is pinned (${why}); commit or roll back first`,
})
