/**
 * Inline policies, managed-policy attachments and the effective policy set of a user, in the
 * PostgreSQL identity store. Check-then-write steps run SERIALIZABLE.
 */
import type { EffectivePolicies, PolicyOwner } from '../../../core/identity.js';
import { groupsOf } from './pg-identity-groups.js';
import { isAwsManaged, noSuchEntity, ownerKey, requireOwner, requireUser, type Db } from './pg-identity-common.js';
import { serializable } from './pg-tx.js';

export class PgIdentityAttachments {
  constructor(private readonly db: Db) {}

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const key = await requireOwner(trx, owner);
      await trx.insertInto('inline_policies').values({ ...key, policy_name: policyName, document })
        .onConflict((oc) => oc.columns(['account_id', 'owner_kind', 'owner_name_lower', 'policy_name']).doUpdateSet({ document })).execute();
    });
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string): Promise<string | undefined> {
    return (await this.db.selectFrom('inline_policies').select('document')
      .where((eb) => eb.and(ownerKey(owner))).where('policy_name', '=', policyName).executeTakeFirst())?.document;
  }

  async listInlinePolicies(owner: PolicyOwner): Promise<string[]> {
    const key = await requireOwner(this.db, owner);
    return (await this.db.selectFrom('inline_policies').select('policy_name')
      .where((eb) => eb.and(key)).orderBy('policy_name').execute()).map((r) => r.policy_name);
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const key = await requireOwner(trx, owner);
      const r = await trx.deleteFrom('inline_policies').where((eb) => eb.and(key)).where('policy_name', '=', policyName).executeTakeFirst();
      if (r.numDeletedRows === 0n) throw noSuchEntity('policy', policyName, { ...owner, policyName });
    });
  }

  /**
   * Idempotent. A customer policy must exist in the owner's account (else `NoSuchEntity`); its
   * attachment count goes up only when the attachment is new.
   */
  async attachPolicy(owner: PolicyOwner, arn: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const key = await requireOwner(trx, owner);
      if (!isAwsManaged(arn)) {
        const policy = await trx.selectFrom('managed_policies').select('account_id').where('arn', '=', arn).executeTakeFirst();
        if (policy?.account_id !== owner.accountId) throw noSuchEntity('policy', arn, { arn });
      }
      const added = await trx.insertInto('policy_attachments').values({ ...key, policy_arn: arn })
        .onConflict((oc) => oc.columns(['account_id', 'owner_kind', 'owner_name_lower', 'policy_arn']).doNothing()).executeTakeFirst();
      if ((added.numInsertedOrUpdatedRows ?? 0n) > 0n) await count(trx, arn, +1);
    });
  }

  async detachPolicy(owner: PolicyOwner, arn: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const key = await requireOwner(trx, owner);
      const removed = await trx.deleteFrom('policy_attachments').where((eb) => eb.and(key)).where('policy_arn', '=', arn).executeTakeFirst();
      if (removed.numDeletedRows === 0n) throw noSuchEntity('attachment', arn, { ...owner, arn });
      await count(trx, arn, -1);
    });
  }

  async listAttachedPolicies(owner: PolicyOwner): Promise<string[]> {
    const key = await requireOwner(this.db, owner);
    return (await this.db.selectFrom('policy_attachments').select('policy_arn')
      .where((eb) => eb.and(key)).orderBy('policy_arn').execute()).map((r) => r.policy_arn);
  }

  /**
   * The user's inline documents (by policy name), then each group's (groups by name); ARNs likewise,
   * deduplicated. Read in one REPEATABLE READ snapshot, so a concurrent change is seen whole or not at all.
   */
  async effectivePolicies(accountId: string, userName: string): Promise<EffectivePolicies> {
    return this.db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
      const user = await requireUser(trx, accountId, userName);
      const owners = [
        { kind: 'user', lower: user.user_name_lower },
        ...(await groupsOf(trx, accountId, user.user_name_lower)).map((g) => ({ kind: 'group', lower: g.group_name_lower })),
      ];
      const inline: string[] = [];
      const attached = new Set<string>();
      for (const o of owners) {
        const key = { account_id: accountId, owner_kind: o.kind, owner_name_lower: o.lower };
        for (const r of await trx.selectFrom('inline_policies').select('document').where((eb) => eb.and(key)).orderBy('policy_name').execute()) {
          inline.push(r.document);
        }
        for (const r of await trx.selectFrom('policy_attachments').select('policy_arn').where((eb) => eb.and(key)).orderBy('policy_arn').execute()) {
          attached.add(r.policy_arn);
        }
      }
      return { inline, attached: [...attached] };
    });
  }
}

/** Moves a customer policy's attachment count; AWS managed ARNs match no row. */
async function count(db: Db, arn: string, by: 1 | -1): Promise<void> {
  await db.updateTable('managed_policies').set((eb) => ({ attachment_count: eb('attachment_count', '+', by) })).where('arn', '=', arn).execute();
}
