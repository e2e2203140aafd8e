/** Customer managed policies and their versions in the PostgreSQL identity store. Check-then-write steps run SERIALIZABLE. */
import { fail } from '../../../core/errors.js';
import { policyArn, type ManagedPolicy, type PolicyVersion } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import {
  alreadyExists, deleteConflict, limitOf, MAX_POLICY_VERSIONS, noSuchEntity, requireAccount, startsWith, toPolicy, versionNumber,
  type Db, type PolicyRow,
} from './pg-identity-common.js';
import { serializable } from './pg-tx.js';

export class PgIdentityPolicies {
  constructor(private readonly db: Db) {}

  /** Stores the policy with `v1` as its default version; `defaultVersionId` and `attachmentCount` given are ignored. */
  async createPolicy(policy: ManagedPolicy, document: string): Promise<ManagedPolicy> {
    const arn = policyArn(policy);
    const lower = policy.policyName.toLowerCase();
    return serializable(this.db, async (trx) => {
      await requireAccount(trx, policy.accountId);
      if (await trx.selectFrom('managed_policies').select('arn')
        .where('account_id', '=', policy.accountId).where('policy_name_lower', '=', lower).executeTakeFirst()) {
        throw alreadyExists('policy', policy.policyName, policy.accountId);
      }
      if (await trx.selectFrom('managed_policies').select('arn').where('policy_id', '=', policy.policyId).executeTakeFirst()) {
        throw fail('EntityAlreadyExists', 'policy id already in use', { policyId: policy.policyId });
      }
      await trx.insertInto('managed_policies').values({
        account_id: policy.accountId, arn, policy_name: policy.policyName, policy_name_lower: lower,
        policy_id: policy.policyId, path: policy.path, description: policy.description ?? null,
        default_version_id: 'v1', attachment_count: 0, version_counter: 1,
        created_at: policy.createdAt.getTime(), updated_at: policy.updatedAt.getTime(),
      }).execute();
      await trx.insertInto('policy_versions').values({ arn, version_id: 'v1', document, created_at: policy.createdAt.getTime() }).execute();
      return toPolicy(await requirePolicy(trx, arn));
    });
  }

  async getPolicy(arn: string): Promise<ManagedPolicy | undefined> {
    const row = await findPolicy(this.db, arn);
    return row && toPolicy(row);
  }

  async listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }): Promise<ManagedPolicy[]> {
    let q = this.db.selectFrom('managed_policies').selectAll().where('account_id', '=', accountId)
      .orderBy('policy_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('policy_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    if (page.onlyAttached) q = q.where('attachment_count', '>', 0);
    return (await q.execute()).map(toPolicy);
  }

  async deletePolicy(arn: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const p = await requirePolicy(trx, arn);
      if (p.attachment_count > 0) throw deleteConflict('policy', p.policy_name, 'attachments');
      if ((await versionIds(trx, arn)).length > 1) throw deleteConflict('policy', p.policy_name, 'non-default versions');
      // policy_versions rows go with it (ON DELETE CASCADE).
      await trx.deleteFrom('managed_policies').where('arn', '=', arn).execute();
    });
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean): Promise<PolicyVersion> {
    return serializable(this.db, async (trx) => {
      const p = await requirePolicy(trx, arn);
      if ((await versionIds(trx, arn)).length >= MAX_POLICY_VERSIONS) {
        throw fail('LimitExceeded', `A managed policy can have at most ${MAX_POLICY_VERSIONS} versions.`, { arn });
      }
      const n = p.version_counter + 1;
      const versionId = `v${n}`;
      const createdAt = Date.now();
      await trx.insertInto('policy_versions').values({ arn, version_id: versionId, document, created_at: createdAt }).execute();
      await trx.updateTable('managed_policies').where('arn', '=', arn).set({
        version_counter: n, updated_at: createdAt, default_version_id: setAsDefault ? versionId : p.default_version_id,
      }).execute();
      return { versionId, document, isDefaultVersion: setAsDefault, createdAt: new Date(createdAt) };
    });
  }

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined> {
    return (await this.#versions(arn, versionId))[0];
  }

  /** Versions in number order (v1, v2, …); throws `NoSuchEntity` for an unknown policy. */
  async listPolicyVersions(arn: string): Promise<PolicyVersion[]> {
    await requirePolicy(this.db, arn);
    return (await this.#versions(arn)).sort((x, y) => versionNumber(x.versionId) - versionNumber(y.versionId));
  }

  async deletePolicyVersion(arn: string, versionId: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      const p = await requireVersion(trx, arn, versionId);
      if (p.default_version_id === versionId) {
        throw fail('DeleteConflict', 'Cannot delete the default version of a policy.', { arn, versionId });
      }
      await trx.deleteFrom('policy_versions').where('arn', '=', arn).where('version_id', '=', versionId).execute();
    });
  }

  async setDefaultPolicyVersion(arn: string, versionId: string): Promise<void> {
    await serializable(this.db, async (trx) => {
      await requireVersion(trx, arn, versionId);
      await trx.updateTable('managed_policies').set({ default_version_id: versionId }).where('arn', '=', arn).execute();
    });
  }

  async defaultPolicyDocument(arn: string): Promise<string | undefined> {
    return (await this.db.selectFrom('managed_policies as p')
      .innerJoin('policy_versions as v', (j) => j.onRef('v.arn', '=', 'p.arn').onRef('v.version_id', '=', 'p.default_version_id'))
      .select('v.document').where('p.arn', '=', arn).executeTakeFirst())?.document;
  }

  /** Versions of `arn` (one when `versionId` is given), each marked default or not. One statement: one snapshot. */
  async #versions(arn: string, versionId?: string): Promise<PolicyVersion[]> {
    let q = this.db.selectFrom('policy_versions as v').innerJoin('managed_policies as p', 'p.arn', 'v.arn')
      .select(['v.version_id', 'v.document', 'v.created_at', 'p.default_version_id']).where('v.arn', '=', arn);
    if (versionId !== undefined) q = q.where('v.version_id', '=', versionId);
    return (await q.execute()).map((r) => ({
      versionId: r.version_id, document: r.document, isDefaultVersion: r.version_id === r.default_version_id, createdAt: new Date(r.created_at),
    }));
  }
}

function findPolicy(db: Db, arn: string): Promise<PolicyRow | undefined> {
  return db.selectFrom('managed_policies').selectAll().where('arn', '=', arn).executeTakeFirst();
}

async function requirePolicy(db: Db, arn: string): Promise<PolicyRow> {
  const row = await findPolicy(db, arn);
  if (!row) throw noSuchEntity('policy', arn, { arn });
  return row;
}

async function requireVersion(db: Db, arn: string, versionId: string): Promise<PolicyRow> {
  const p = await requirePolicy(db, arn);
  if (!(await versionIds(db, arn)).includes(versionId)) throw noSuchEntity('policy version', versionId, { arn, versionId });
  return p;
}

async function versionIds(db: Db, arn: string): Promise<string[]> {
  return (await db.selectFrom('policy_versions').select('version_id').where('arn', '=', arn).execute()).map((r) => r.version_id);
}
