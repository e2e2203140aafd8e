/** Customer managed policies and their versions in the SQLite identity store. Every method is synchronous and atomic. */
import { fail } from '../../../core/errors.js';
import { policyArn, type ManagedPolicy, type PolicyVersion } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import {
  alreadyExists, deleteConflict, limitOf, MAX_POLICY_VERSIONS, noSuchEntity, requireAccount, startsWith, toPolicy, versionNumber,
  type IdentityDb, type PolicyRow,
} from './sqlite-identity-common.js';

export class SqliteIdentityPolicies {
  constructor(private readonly c: IdentityDb) {}

  /** Stores the policy with `v1` as its default version; `defaultVersionId` and `attachmentCount` given are ignored. */
  createPolicy(policy: ManagedPolicy, document: string): ManagedPolicy {
    const { db, sql } = this.c;
    const arn = policyArn(policy);
    const lower = policy.policyName.toLowerCase();
    return sql.write(() => {
      requireAccount(this.c, policy.accountId);
      if (sql.get(db.selectFrom('managed_policies').select('arn')
        .where('account_id', '=', policy.accountId).where('policy_name_lower', '=', lower))) {
        throw alreadyExists('policy', policy.policyName, policy.accountId);
      }
      if (sql.get(db.selectFrom('managed_policies').select('arn').where('policy_id', '=', policy.policyId))) {
        throw fail('EntityAlreadyExists', 'policy id already in use', { policyId: policy.policyId });
      }
      sql.run(db.insertInto('managed_policies').values({
        account_id: policy.accountId, arn, policy_name: policy.policyName, policy_name_lower: lower,
        policy_id: policy.policyId, path: policy.path, description: policy.description ?? null,
        default_version_id: 'v1', attachment_count: 0, version_counter: 1,
        created_at: policy.createdAt.getTime(), updated_at: policy.updatedAt.getTime(),
      }));
      sql.run(db.insertInto('policy_versions').values({ arn, version_id: 'v1', document, created_at: policy.createdAt.getTime() }));
      return toPolicy(this.#require(arn));
    });
  }

  getPolicy(arn: string): ManagedPolicy | undefined {
    const row = this.#find(arn);
    return row && toPolicy(row);
  }

  listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }): ManagedPolicy[] {
    let q = this.c.db.selectFrom('managed_policies').selectAll().where('account_id', '=', accountId)
      .orderBy('policy_name_lower').limit(limitOf(page));
    if (page.marker !== undefined) q = q.where('policy_name_lower', '>', page.marker.toLowerCase());
    if (page.pathPrefix !== undefined) q = q.where(startsWith('path', page.pathPrefix));
    if (page.onlyAttached) q = q.where('attachment_count', '>', 0);
    return this.c.sql.all(q).map(toPolicy);
  }

  deletePolicy(arn: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const p = this.#require(arn);
      if (p.attachment_count > 0) throw deleteConflict('policy', p.policy_name, 'attachments');
      if (this.#versionIds(arn).length > 1) throw deleteConflict('policy', p.policy_name, 'non-default versions');
      // policy_versions rows go with it (ON DELETE CASCADE).
      sql.run(db.deleteFrom('managed_policies').where('arn', '=', arn));
    });
  }

  createPolicyVersion(arn: string, document: string, setAsDefault: boolean): PolicyVersion {
    const { db, sql } = this.c;
    return sql.write(() => {
      const p = this.#require(arn);
      if (this.#versionIds(arn).length >= MAX_POLICY_VERSIONS) {
        throw fail('LimitExceeded', `A managed policy can have at most ${MAX_POLICY_VERSIONS} versions.`, { arn });
      }
      const n = p.version_counter + 1;
      const versionId = `v${n}`;
      const createdAt = Date.now();
      sql.run(db.insertInto('policy_versions').values({ arn, version_id: versionId, document, created_at: createdAt }));
      sql.run(db.updateTable('managed_policies').where('arn', '=', arn).set({
        version_counter: n, updated_at: createdAt, default_version_id: setAsDefault ? versionId : p.default_version_id,
      }));
      return { versionId, document, isDefaultVersion: setAsDefault, createdAt: new Date(createdAt) };
    });
  }

  getPolicyVersion(arn: string, versionId: string): PolicyVersion | undefined {
    return this.#versions(arn, versionId)[0];
  }

  /** Versions in number order (v1, v2, …); throws `NoSuchEntity` for an unknown policy. */
  listPolicyVersions(arn: string): PolicyVersion[] {
    this.#require(arn);
    return this.#versions(arn).sort((x, y) => versionNumber(x.versionId) - versionNumber(y.versionId));
  }

  deletePolicyVersion(arn: string, versionId: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      const p = this.#requireVersion(arn, versionId);
      if (p.default_version_id === versionId) {
        throw fail('DeleteConflict', 'Cannot delete the default version of a policy.', { arn, versionId });
      }
      sql.run(db.deleteFrom('policy_versions').where('arn', '=', arn).where('version_id', '=', versionId));
    });
  }

  setDefaultPolicyVersion(arn: string, versionId: string): void {
    const { db, sql } = this.c;
    sql.write(() => {
      this.#requireVersion(arn, versionId);
      sql.run(db.updateTable('managed_policies').set({ default_version_id: versionId }).where('arn', '=', arn));
    });
  }

  defaultPolicyDocument(arn: string): string | undefined {
    return this.c.sql.get(this.c.db.selectFrom('managed_policies as p')
      .innerJoin('policy_versions as v', (j) => j.onRef('v.arn', '=', 'p.arn').onRef('v.version_id', '=', 'p.default_version_id'))
      .select('v.document').where('p.arn', '=', arn))?.document;
  }

  #find(arn: string): PolicyRow | undefined {
    return this.c.sql.get(this.c.db.selectFrom('managed_policies').selectAll().where('arn', '=', arn));
  }

  #require(arn: string): PolicyRow {
    const row = this.#find(arn);
    if (!row) throw noSuchEntity('policy', arn, { arn });
    return row;
  }

  #requireVersion(arn: string, versionId: string): PolicyRow {
    const p = this.#require(arn);
    if (!this.#versionIds(arn).includes(versionId)) throw noSuchEntity('policy version', versionId, { arn, versionId });
    return p;
  }

  #versionIds(arn: string): string[] {
    return this.c.sql.all(this.c.db.selectFrom('policy_versions').select('version_id').where('arn', '=', arn)).map((r) => r.version_id);
  }

  /** Versions of `arn` (one when `versionId` is given), each marked default or not. */
  #versions(arn: string, versionId?: string): PolicyVersion[] {
    let q = this.c.db.selectFrom('policy_versions as v').innerJoin('managed_policies as p', 'p.arn', 'v.arn')
      .select(['v.version_id', 'v.document', 'v.created_at', 'p.default_version_id']).where('v.arn', '=', arn);
    if (versionId !== undefined) q = q.where('v.version_id', '=', versionId);
    return this.c.sql.all(q).map((r) => ({
      versionId: r.version_id, document: r.document, isDefaultVersion: r.version_id === r.default_version_id, createdAt: new Date(r.created_at),
    }));
  }
}
