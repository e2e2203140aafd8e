/**
 * Inline policies, managed-policy attachments and the effective policy set of a user, in the SQLite
 * identity store. Every method is synchronous and atomic.
 */
import type { EffectivePolicies, PolicyOwner } from '../../../core/identity.js';
import { groupsOf } from './sqlite-identity-groups.js';
import { isAwsManaged, noSuchEntity, ownerKey, requireOwner, requireUser, type IdentityDb } from './sqlite-identity-common.js';

export class SqliteIdentityAttachments {
  constructor(private readonly c: IdentityDb) {}

  putInlinePolicy(owner: PolicyOwner, policyName: string, document: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const key = requireOwner(this.c, owner);
      sql.run(db.insertInto('inline_policies').values({ ...key, policy_name: policyName, document })
        .onConflict((oc) => oc.columns(['account_id', 'owner_kind', 'owner_name_lower', 'policy_name']).doUpdateSet({ document })));
    });
  }

  getInlinePolicy(owner: PolicyOwner, policyName: string): string | undefined {
    return this.c.sql.get(this.c.db.selectFrom('inline_policies').select('document')
      .where((eb) => eb.and(ownerKey(owner))).where('policy_name', '=', policyName))?.document;
  }

  listInlinePolicies(owner: PolicyOwner): string[] {
    const key = requireOwner(this.c, owner);
    return this.c.sql.all(this.c.db.selectFrom('inline_policies').select('policy_name')
      .where((eb) => eb.and(key)).orderBy('policy_name')).map((r) => r.policy_name);
  }

  deleteInlinePolicy(owner: PolicyOwner, policyName: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const key = requireOwner(this.c, owner);
      const n = sql.run(db.deleteFrom('inline_policies').where((eb) => eb.and(key)).where('policy_name', '=', policyName));
      if (n === 0) throw noSuchEntity('policy', policyName, { ...owner, policyName });
    });
  }

  /**
   * Idempotent. A customer policy must exist in the owner's account (else `NoSuchEntity`); its
   * attachment count goes up only when the attachment is new.
   */
  attachPolicy(owner: PolicyOwner, arn: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const key = requireOwner(this.c, owner);
      if (!isAwsManaged(arn)) {
        const policy = sql.get(db.selectFrom('managed_policies').select('account_id').where('arn', '=', arn));
        if (policy?.account_id !== owner.accountId) throw noSuchEntity('policy', arn, { arn });
      }
      const added = sql.run(db.insertInto('policy_attachments').values({ ...key, policy_arn: arn })
        .onConflict((oc) => oc.columns(['account_id', 'owner_kind', 'owner_name_lower', 'policy_arn']).doNothing()));
      if (added > 0) this.#count(arn, +1);
    });
  }

  detachPolicy(owner: PolicyOwner, arn: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const key = requireOwner(this.c, owner);
      const removed = sql.run(db.deleteFrom('policy_attachments').where((eb) => eb.and(key)).where('policy_arn', '=', arn));
      if (removed === 0) throw noSuchEntity('attachment', arn, { ...owner, arn });
      this.#count(arn, -1);
    });
  }

  listAttachedPolicies(owner: PolicyOwner): string[] {
    const key = requireOwner(this.c, owner);
    return this.c.sql.all(this.c.db.selectFrom('policy_attachments').select('policy_arn')
      .where((eb) => eb.and(key)).orderBy('policy_arn')).map((r) => r.policy_arn);
  }

  /** The user's inline documents (by policy name), then each group's (groups by name); ARNs likewise, deduplicated. */
  effectivePolicies(accountId: string, userName: string): EffectivePolicies {
    const { db, sql } = this.c;
    const user = requireUser(this.c, accountId, userName);
    const owners = [
      { kind: 'user', lower: user.user_name_lower },
      ...groupsOf(this.c, accountId, user.user_name_lower).map((g) => ({ kind: 'group', lower: g.group_name_lower })),
    ];
    const inline: string[] = [];
    const attached = new Set<string>();
    for (const o of owners) {
      const key = { account_id: accountId, owner_kind: o.kind, owner_name_lower: o.lower };
      for (const r of sql.all(db.selectFrom('inline_policies').select('document').where((eb) => eb.and(key)).orderBy('policy_name'))) {
        inline.push(r.document);
      }
      for (const r of sql.all(db.selectFrom('policy_attachments').select('policy_arn').where((eb) => eb.and(key)).orderBy('policy_arn'))) {
        attached.add(r.policy_arn);
      }
    }
    return { inline, attached: [...attached] };
  }

  /** Moves a customer policy's attachment count; AWS managed ARNs match no row. */
  #count(arn: string, by: 1 | -1): void {
    this.c.sql.run(this.c.db.updateTable('managed_policies')
      .set((eb) => ({ attachment_count: eb('attachment_count', '+', by) })).where('arn', '=', arn));
  }
}
