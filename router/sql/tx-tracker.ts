/**
 * One client session's transaction across shards, decided from server status flags, never from
 * BEGIN: PyMySQL runs with autocommit=0 and sends no BEGIN, so any statement may open a
 * transaction on the shard it runs on (sql-routing.md §2.6). Pure state machine: the front end
 * asks `admit` before sending a plan, reports each shard's status flags with `observe`, and asks
 * `endpoints` where COMMIT/ROLLBACK/savepoints go.
 *
 * Rules (Vitess's SINGLE mode):
 * - the first write (or FOR UPDATE read) of a transaction pins its write shard; a later write to
 *   another shard gets error 9101 (shard-errors.ts), never 1213/1205, which oslo.db would retry;
 * - a reference-table write (every shard) is allowed only as the transaction's first write, and
 *   the transaction may then write only reference tables (nova's security_group_ensure_default
 *   runs in its own transaction);
 * - a write that resolves to several shards is admitted as the first write; in a non-autocommit
 *   transaction the shards that matched no rows are released afterwards (settleScatterWrite) and
 *   more than one matching shard is error 9101;
 * - reads go anywhere; a shard a read opened a transaction on becomes a participant;
 * - savepoints set before a shard joined are replayed on it first (`prelude`), so a later
 *   ROLLBACK TO finds them everywhere; BEGIN is answered locally and replayed the same way.
 */
import type { Plan, ShardId } from './plan.js'
import { crossShardWrite, type ShardError } from './shard-errors.js'

export const SERVER_STATUS_IN_TRANS = 0x0001
export const SERVER_STATUS_AUTOCOMMIT = 0x0002

export type Admission =
  | {
      readonly ok: true
      /** Statements to run first on each listed shard (BEGIN, savepoints set before it joined). */
      readonly prelude: ReadonlyMap<ShardId, readonly string[]>
    }
  | { readonly ok: false; readonly error: ShardError }

export class TxTracker {
  private readonly inTrans = new Map<ShardId, boolean>()
  private writeShards: ShardId[] = []
  private reference = false
  private explicitBegin: string | null = null
  private savepoints: string[] = []
  private autocommit = false

  /** @param allShards every shard in order (reference writes and DDL go to all of them). */
  constructor(private readonly allShards: readonly ShardId[]) {}

  /** The shard the transaction writes to (the single one), for SessionFacts. */
  get writeShard(): ShardId | null {
    return this.writeShards.length === 1 ? this.writeShards[0]! : null
  }

  /** Shards with an open (or possibly open) transaction, in shard order. */
  participants(): readonly ShardId[] {
    return this.allShards.filter((s) => this.inTrans.get(s) === true || this.writeShards.includes(s))
  }

  /** Shards a plan will run on, for admission and preludes. */
  private targets(plan: Plan): readonly ShardId[] {
    switch (plan.kind) {
      case 'single':
        return [plan.shard]
      case 'shards':
        return plan.shards
      case 'all':
      case 'all-in-order':
        return this.allShards
      default:
        return []
    }
  }

  private isWrite(plan: Plan): boolean {
    if (plan.kind === 'single' || plan.kind === 'shards' || plan.kind === 'all') return plan.write
    return plan.kind === 'all-in-order' && plan.reference
  }

  admit(plan: Plan): Admission {
    if (plan.kind === 'transaction') return this.transactionVerb(plan)
    const targets = this.targets(plan)
    if (this.isWrite(plan)) {
      const reference = plan.kind === 'all-in-order'
      if (this.writeShards.length > 0) {
        const extra = targets.filter((s) => !this.writeShards.includes(s))
        if (extra.length > 0 || reference !== this.reference) {
          return { ok: false, error: crossShardWrite(this.writeShards, extra.length > 0 ? extra : targets) }
        }
      } else {
        const autocommitStatement = this.autocommit && this.explicitBegin === null && this.participants().length === 0
        // An autocommit statement commits on each shard by itself: nothing to pin.
        if (!autocommitStatement || targets.length === 1) {
          this.writeShards = [...targets]
          this.reference = reference
        }
      }
    }
    return { ok: true, prelude: this.preludes(targets) }
  }

  private preludes(targets: readonly ShardId[]): ReadonlyMap<ShardId, readonly string[]> {
    const out = new Map<ShardId, readonly string[]>()
    if (this.explicitBegin === null && this.savepoints.length === 0) return out
    for (const s of targets) {
      if (this.inTrans.get(s) === true) continue
      const pre: string[] = []
      if (this.explicitBegin !== null) pre.push(this.explicitBegin)
      for (const sp of this.savepoints) pre.push(`SAVEPOINT \`${sp.replace(/`/g, '``')}\``)
      out.set(s, pre)
      // Joined now: its later statements run inside the transaction.
      this.inTrans.set(s, true)
    }
    return out
  }

  private transactionVerb(plan: Plan & { kind: 'transaction' }): Admission {
    const none = new Map<ShardId, readonly string[]>()
    switch (plan.verb) {
      case 'begin':
        this.explicitBegin = 'BEGIN'
        break
      case 'savepoint':
        if (plan.savepoint !== null) {
          this.savepoints = this.savepoints.filter((s) => s !== plan.savepoint)
          this.savepoints.push(plan.savepoint)
        }
        break
      case 'release':
      case 'rollback-to': {
        const at = plan.savepoint === null ? -1 : this.savepoints.indexOf(plan.savepoint)
        if (at >= 0) this.savepoints = this.savepoints.slice(0, plan.verb === 'release' ? at : at + 1)
        break
      }
      case 'commit':
      case 'rollback':
        this.explicitBegin = null
        this.savepoints = []
        break
    }
    return { ok: true, prelude: none }
  }

  /**
   * Where a transaction verb goes: COMMIT to read-only participants first and the write shard(s)
   * last; ROLLBACK and savepoints to every participant. Empty means: answer OK locally (nothing is
   * open, e.g. the ROLLBACK SQLAlchemy sends on every pool return).
   */
  endpoints(plan: Plan & { kind: 'transaction' }): readonly ShardId[] {
    if (plan.verb === 'begin') return []
    const p = this.participants()
    if (plan.verb !== 'commit') return p
    return [...p.filter((s) => !this.writeShards.includes(s)), ...p.filter((s) => this.writeShards.includes(s))]
  }

  /** Status flags of an OK/EOF packet from `shard`. */
  observe(shard: ShardId, statusFlags: number): void {
    this.autocommit = (statusFlags & SERVER_STATUS_AUTOCOMMIT) !== 0
    this.inTrans.set(shard, (statusFlags & SERVER_STATUS_IN_TRANS) !== 0)
    const open = this.allShards.some((s) => this.inTrans.get(s) === true)
    if (!open) {
      // Every shard is outside a transaction: the logical transaction is over.
      this.writeShards = []
      this.reference = false
      this.savepoints = []
    }
  }

  /**
   * After a multi-shard write in a non-autocommit transaction: `matched` is each shard's matched
   * rows (CLIENT_FOUND_ROWS). Shards with none are released (the front end rolls them back if
   * they hold nothing else); more than one with rows is error 9101, and the front end rolls the
   * whole transaction back.
   */
  settleScatterWrite(matched: ReadonlyMap<ShardId, number>): { readonly release: readonly ShardId[]; readonly error: ShardError | null } {
    const hit = [...matched].filter(([, n]) => n > 0).map(([s]) => s)
    const release = [...matched].filter(([, n]) => n === 0).map(([s]) => s)
    if (hit.length > 1) return { release: [], error: crossShardWrite(hit.slice(0, 1), hit.slice(1)) }
    if (!this.reference) this.writeShards = this.writeShards.filter((s) => !release.includes(s))
    return { release, error: null }
  }
}
