/**
 * The errors shard-mode routing returns instead of running a statement. Codes 9101–9104 are
 * cellgate's own (no MySQL or MariaDB server uses 9xxx; ProxySQL uses 9001 for its own errors), so
 * a client or an operator can tell them apart. They are deliberately none of the codes oslo.db
 * retries or reconnects on (1213 deadlock, 1205 lock wait, 2002/2003/2006/2013 connection loss),
 * because retrying would fail the same way. PyMySQL raises OperationalError for them; oslo.db
 * wraps it in a plain DBError.
 *
 *   9101 HY000  a transaction that already writes to one shard tried to write to another
 *   9102 HY000  a statement the shard router cannot run correctly (the message says why)
 *   9103 HY000  an INSERT names an instance/host that is not placed on any shard
 *   9104 HY000  there is no enabled shard to place a new row on
 * Plus the server's own 1065 (empty query) and 1064 (text that does not even tokenize).
 */

export interface ShardError {
  readonly code: number
  readonly sqlState: string
  readonly message: string
}

export const CROSS_SHARD_WRITE = 9101
export const UNSUPPORTED = 9102
export const UNPLACED = 9103
export const NO_SHARD = 9104

export const crossShardWrite = (pinned: readonly string[], wanted: readonly string[]): ShardError => ({
  code: CROSS_SHARD_WRITE,
  sqlState: 'HY000',
  message:
    `cellgate: this transaction already writes to shard ${pinned.join(', ')}; this write needs shard ${wanted.join(', ')}. ` +
    'A transaction may write to one shard only: commit first, or split the work',
})

export const unsupported = (why: string): ShardError => ({ code: UNSUPPORTED, sqlState: 'HY000', message: `cellgate: not routable in shard mode: ${why}` })

export const unplaced = (what: string): ShardError => ({ code: UNPLACED, sqlState: 'HY000', message: `cellgate: ${what} is not placed on any shard` })

export const noShard = (): ShardError => ({ code: NO_SHARD, sqlState: 'HY000', message: 'cellgate: no enabled shard to place the row on' })

export const emptyQuery = (): ShardError => ({ code: 1065, sqlState: '42000', message: 'Query was empty' })

export const syntaxError = (why: string): ShardError => ({
  code: 1064,
  sqlState: '42000',
  message: `You have an error in your SQL syntax (cellgate: ${why})`,
})
