/**
 * Knows where a command's reply ends, packet by packet, without decoding rows: cellgate forwards
 * backend replies as they arrive and must know when the backend connection is free again and
 * which status flags the reply ended with (transactions are tracked from SERVER_STATUS_IN_TRANS).
 *
 * Backend connections never negotiate CLIENT_DEPRECATE_EOF (PyMySQL cannot read OK-terminated
 * result sets), so column definitions and rows always end with an EOF packet.
 *
 *   query / execute:  OK | ERR | colcount, coldef*n, EOF, (row* , EOF|ERR)   [again if MORE_RESULTS]
 *                     (execute with a cursor ends after the column EOF, CURSOR_EXISTS set)
 *   fetch:            row*, EOF | ERR
 *   prepare:          ERR | OK(stmt id, cols, params), paramdef*p, EOF?, coldef*c, EOF?
 *   field-list:       coldef*, EOF | ERR
 *   simple:           OK | ERR
 */
import { eofStatus, isEof, isErr, parseErr, parseOk, type OkFields, type SqlError } from './packets.js'
import { Marker, Status } from './protocol.js'
import { PayloadReader } from './wire-codec.js'

export type ResponseKind = 'query' | 'execute' | 'fetch' | 'prepare' | 'field-list' | 'simple'

export interface ResponseSummary {
  /** Status flags of the last OK/EOF (the previous value when the reply was only an ERR). */
  status: number
  error: SqlError | null
  /** The last OK packet of the reply, if it had one. */
  ok: OkFields | null
  /** COM_STMT_PREPARE: the backend's statement id. */
  statementId: number | null
}

type State =
  | { s: 'first' }
  | { s: 'columns'; left: number }
  | { s: 'columns-eof' }
  | { s: 'rows' }
  | { s: 'prepare-params'; left: number; cols: number }
  | { s: 'prepare-params-eof'; cols: number }
  | { s: 'prepare-cols'; left: number }
  | { s: 'prepare-cols-eof' }
  | { s: 'field-list' }

export class ResponseTracker {
  private state: State
  private status: number
  private error: SqlError | null = null
  private ok: OkFields | null = null
  private statementId: number | null = null
  done = false

  constructor(
    private readonly kind: ResponseKind,
    previousStatus: number,
  ) {
    this.status = previousStatus
    this.state = kind === 'fetch' ? { s: 'rows' } : kind === 'field-list' ? { s: 'field-list' } : { s: 'first' }
  }

  summary(): ResponseSummary {
    return { status: this.status, error: this.error, ok: this.ok, statementId: this.statementId }
  }

  /** Feeds one reply packet; returns true when it was the last one. Throws on a nonsensical reply. */
  push(p: Buffer): boolean {
    if (this.done) throw new Error('reply packet after the end of the reply')
    const st = this.state
    if (isErr(p) && st.s !== 'columns' && st.s !== 'prepare-params' && st.s !== 'prepare-cols') return this.finishErr(p)
    switch (st.s) {
      case 'first':
        return this.first(p)
      case 'columns':
        this.state = st.left > 1 ? { s: 'columns', left: st.left - 1 } : { s: 'columns-eof' }
        return false
      case 'columns-eof': {
        if (!isEof(p)) throw new Error('expected EOF after column definitions')
        const status = eofStatus(p)
        if (this.kind === 'execute' && status & Status.CURSOR_EXISTS) {
          this.status = status
          return this.finish()
        }
        this.state = { s: 'rows' }
        return false
      }
      case 'rows':
        if (!isEof(p)) return false
        this.status = eofStatus(p)
        return this.status & Status.MORE_RESULTS_EXISTS && this.kind !== 'fetch' ? this.again() : this.finish()
      case 'prepare-params':
        this.state = st.left > 1 ? { s: 'prepare-params', left: st.left - 1, cols: st.cols } : { s: 'prepare-params-eof', cols: st.cols }
        return false
      case 'prepare-params-eof':
        return this.afterParams(st.cols)
      case 'prepare-cols':
        this.state = st.left > 1 ? { s: 'prepare-cols', left: st.left - 1 } : { s: 'prepare-cols-eof' }
        return false
      case 'prepare-cols-eof':
        return this.finish()
      case 'field-list':
        if (!isEof(p)) return false
        return this.finish()
    }
  }

  private first(p: Buffer): boolean {
    if (this.kind === 'prepare') {
      if (p[0] !== Marker.OK) throw new Error('unexpected reply to COM_STMT_PREPARE')
      const r = new PayloadReader(p, 1)
      this.statementId = r.u32()
      const cols = r.u16()
      const params = r.u16()
      if (params > 0) this.state = { s: 'prepare-params', left: params, cols }
      else return this.afterParams(cols)
      return false
    }
    if (p[0] === Marker.OK && p.length >= 7) {
      this.ok = parseOk(p)
      this.status = this.ok.status
      return this.status & Status.MORE_RESULTS_EXISTS && this.kind !== 'simple' ? this.again() : this.finish()
    }
    if (this.kind === 'simple') throw new Error('expected OK or ERR')
    if (p[0] === Marker.LOCAL_INFILE) throw new Error('LOCAL INFILE requests are not supported')
    const r = new PayloadReader(p)
    const count = r.lenenc()
    if (count === 0) throw new Error('result set with no columns')
    this.state = { s: 'columns', left: count }
    return false
  }

  private afterParams(cols: number): boolean {
    if (cols > 0) {
      this.state = { s: 'prepare-cols', left: cols }
      return false
    }
    return this.finish()
  }

  private again(): boolean {
    this.state = { s: 'first' }
    return false
  }

  private finishErr(p: Buffer): boolean {
    this.error = parseErr(p)
    return this.finish()
  }

  private finish(): boolean {
    this.done = true
    return true
  }
}
