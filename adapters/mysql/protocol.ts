/**
 * MySQL client/server protocol constants that cellgate's codec needs: capability flags, command
 * bytes, server status flags and packet markers. Only what the code uses; names follow the MySQL
 * documentation (CLIENT_*, COM_*, SERVER_STATUS_*) so they can be looked up there.
 */

export const Cap = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
} as const

export const Com = {
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  PING: 0x0e,
  CHANGE_USER: 0x11,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  RESET_CONNECTION: 0x1f,
} as const

export const Status = {
  IN_TRANS: 0x0001,
  AUTOCOMMIT: 0x0002,
  MORE_RESULTS_EXISTS: 0x0008,
  CURSOR_EXISTS: 0x0040,
  NO_BACKSLASH_ESCAPES: 0x0200,
} as const

/** First byte of a reply packet. */
export const Marker = {
  OK: 0x00,
  LOCAL_INFILE: 0xfb,
  EOF: 0xfe,
  ERR: 0xff,
} as const

/** A packet payload of this length continues in the next packet (16 MiB - 1). */
export const MAX_PAYLOAD = 0xffffff

/** utf8mb4_general_ci: what PyMySQL (charset=utf8mb4) and MariaDB's greeting use. */
export const DEFAULT_COLLATION = 45
